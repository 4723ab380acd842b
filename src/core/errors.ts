// One error type for everything a user can cause. The CLI prints `message` (and `hint` on the next
// line when there is one) and exits with `exitCode`; nothing else reaches the terminal.
import { maskSecretsIn, maskUrlsIn, redactSecrets } from './redact.ts';

export const exitCodes = {
  success: 0,
  api: 1,
  network: 1,
  auth: 41,
  input: 42,
  config: 52,
  /** --max-wall-time ran out (Qwen Code's budget code). */
  budget: 55,
  /** SIGHUP (the terminal or SSH connection that ran it closed): 128 + 1, as a shell reports it. */
  hungUp: 129,
  cancelled: 130,
  /** SIGTERM: 128 + 15, as a shell reports a process the signal ended. */
  terminated: 143,
} as const;

export type ErrorKind = Exclude<keyof typeof exitCodes, 'success'>;

export interface CliErrorOptions {
  hint?: string;
  /** HTTP status when the error came from a server. */
  status?: number;
  cause?: unknown;
}

export class CliError extends Error {
  readonly kind: ErrorKind;
  readonly exitCode: number;
  readonly hint?: string;
  readonly status?: number;

  constructor(kind: ErrorKind, message: string, options: CliErrorOptions = {}) {
    // Whoever builds a message naming a URL, it shows the URL's credentials masked. Not the hint: ours,
    // it spells out the form `http://user:password@host`.
    super(maskUrlsIn(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.kind = kind;
    this.exitCode = exitCodes[kind];
    this.hint = options.hint;
    this.status = options.status;
  }
}

export function isCliError(value: unknown): value is CliError {
  return value instanceof CliError;
}

/**
 * Any failure as the one error type: an unexpected one (a runtime's own error, a bug) keeps its message and
 * is exit 1, so that it is reported as every other failure is (one line, the JSON formats' result).
 */
export function asCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CliError('api', `Unexpected failure: ${message}`, { cause: error });
}

/** The failure with each secret masked in its message and hint; itself when none of them was there. */
export function redactFailure(failure: CliError, secrets: readonly string[]): CliError {
  const message = redactSecrets(failure.message, secrets);
  // The hint is ours: a URL in it is an example (`http://user:password@host:port`), not the user's.
  const hint = failure.hint === undefined ? undefined : maskSecretsIn(failure.hint, secrets);
  if (message === failure.message && hint === failure.hint) return failure;
  // The original is not kept as the cause: --debug prints the cause's stack, message included.
  return new CliError(failure.kind, message, { hint, status: failure.status, cause: failure.cause });
}

/** `text` ending as a sentence does (a server's message often has no full stop), for text that follows it. */
export function asSentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** Message and hint as one line: what is wrong, then how to fix it. */
export function oneLine(failure: CliError): string {
  const message = failure.message.replace(/\s*\n\s*/g, ' ');
  if (!failure.hint) return message;
  const separator = /[.!?:]$/.test(message) ? ' ' : '. ';
  return `${message}${separator}${failure.hint}`;
}
