// One error type for everything a user can cause. The CLI prints `message` (and `hint` on the next
// line when there is one) and exits with `exitCode`; nothing else reaches the terminal.

export const exitCodes = {
  success: 0,
  api: 1,
  network: 1,
  auth: 41,
  input: 42,
  config: 52,
  cancelled: 130,
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
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
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

/** Shows a secret as `sk-...a1b2`: enough to tell two keys apart, never enough to use one. */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '*'.repeat(secret.length);
  const dash = secret.indexOf('-');
  const prefix = dash > 0 && dash <= 6 ? secret.slice(0, dash + 1) : secret.slice(0, 3);
  return `${prefix}...${secret.slice(-4)}`;
}

/** Message and hint as one line: what is wrong, then how to fix it. */
export function oneLine(failure: CliError): string {
  const message = failure.message.replace(/\s*\n\s*/g, ' ');
  if (!failure.hint) return message;
  const separator = /[.!?:]$/.test(message) ? ' ' : '. ';
  return `${message}${separator}${failure.hint}`;
}
