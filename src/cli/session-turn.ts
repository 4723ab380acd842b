// One turn with what the auth type adds around it, shared by headless runs and the REPL: a failure is
// explained in the auth type's terms (Qwen OAuth's quota), a 401 before any output gets one credential
// refresh and one retry (token-based auth only), and a temporary error that a 200 stream reports before
// any output (overloaded, rate limited) is retried like the same HTTP status would have been.
import type { CredentialSession } from '../auth/credentials.ts';
import { CliError } from '../core/errors.ts';
import type { Message, ResolvedModel } from '../core/types.ts';
import { abortError, backoffMs, isRetryableStatus, retryLimit } from '../net/http.ts';
import { StreamErrorEvent, streamTurn, type TurnOptions, type TurnResult } from './turn.ts';

export interface SessionTurnOptions extends TurnOptions {
  /** True once something reached the user: a retry would then show it twice. */
  hasShownOutput: () => boolean;
}

export interface SessionTurn {
  result: TurnResult;
  /** The target the turn succeeded with; a refreshed token replaces the old one for later turns. */
  target: ResolvedModel;
}

/** Streams one turn; throws a CliError already explained by the session. */
export async function streamSessionTurn(
  session: CredentialSession,
  target: ResolvedModel,
  messages: Message[],
  options: SessionTurnOptions,
): Promise<SessionTurn> {
  let current = target;
  let triedRefresh = false;
  let streamRetries = 0;
  for (;;) {
    try {
      const result = await streamTurn({ target: current, messages }, options);
      return { result, target: current };
    } catch (error) {
      const raw = error instanceof CliError ? error : new CliError('api', String(error), { cause: error });
      if (
        isTemporaryStreamError(raw) &&
        !options.hasShownOutput() &&
        streamRetries < retryLimit(current.generationConfig.maxRetries)
      ) {
        streamRetries += 1;
        const delayMs = backoffMs(streamRetries);
        options.onRetry?.({ attempt: streamRetries, delayMs, reason: streamErrorReason(raw) });
        await waitBeforeRetry(delayMs, options.signal);
        continue;
      }
      // The auth type may know better what a failure means (Qwen OAuth: a 429 is the free quota).
      const failure = session.explainFailure?.(raw) ?? raw;
      if (
        failure.status === 401 &&
        !triedRefresh &&
        !options.hasShownOutput() &&
        session.refreshAfterUnauthorized
      ) {
        triedRefresh = true;
        // A refused refresh ("log in again") replaces the 401: it says what to do.
        let refreshFailure: CliError | undefined;
        const refreshed = await session.refreshAfterUnauthorized().catch((refreshError: unknown) => {
          refreshFailure =
            refreshError instanceof CliError
              ? refreshError
              : new CliError('auth', String(refreshError), { cause: refreshError });
          return undefined;
        });
        if (refreshed) {
          current = refreshed;
          continue;
        }
        throw refreshFailure ?? failure;
      }
      throw failure;
    }
  }
}

/** An error event in a 200 stream with a status worth retrying, and not an exhausted quota. */
function isTemporaryStreamError(failure: CliError): boolean {
  if (!(failure.cause instanceof StreamErrorEvent)) return false;
  const { status, code } = failure.cause.failure;
  return isRetryableStatus(status) && code !== 'insufficient_quota';
}

/** What the retry notice says, as for an HTTP status: `529 Overloaded`. */
function streamErrorReason(failure: CliError): string {
  const event = failure.cause instanceof StreamErrorEvent ? failure.cause.failure : undefined;
  if (event === undefined) return failure.message;
  return event.status === undefined ? event.message : `${event.status} ${event.message}`;
}

/** The pause before another attempt; Ctrl+C ends it at once. */
function waitBeforeRetry(delayMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
