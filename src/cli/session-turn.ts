// One turn with what the auth type adds around it, shared by headless runs and the REPL: a failure is
// explained in the auth type's terms (Qwen OAuth's quota), a 401 (Qwen OAuth: also a 403 or words that
// speak of the token) before any output gets one credential refresh and one retry (token-based auth
// only), and a temporary error that a 200 stream reports before any output (overloaded, rate limited) is
// retried like the same HTTP status would have been.
import type { CredentialSession } from '../auth/credentials.ts';
import { CliError } from '../core/errors.ts';
import { maskUrlsIn } from '../core/redact.ts';
import type { Message, ResolvedModel } from '../core/types.ts';
import {
  askedOrBackoffMs,
  isRetryableStatus,
  type RetryNotice,
  retryLimit,
  withLongWaitHint,
} from '../net/http.ts';
import { terminalSafe } from '../render/terminal-safe.ts';
import { waitUnlessAborted } from './abortable.ts';
import { BrokenStream, StreamErrorEvent, streamTurn, type TurnOptions, type TurnResult } from './turn.ts';

export interface SessionTurnOptions extends TurnOptions {
  /** True once something reached the user: a retry would then show it twice. */
  hasShownOutput: () => boolean;
  /** The run's or the interactive session's id (ChatRequest.sessionId). */
  sessionId?: string;
  /**
   * Another attempt starts after one whose stream failed before any answer (a retry, a refreshed token):
   * what that one sent (reasoning, usage) is not this turn's.
   */
  onRestart?: () => void;
}

export interface SessionTurn {
  result: TurnResult;
  /** The target the turn succeeded with; a refreshed token replaces the old one for later turns. */
  target: ResolvedModel;
}

/** The line a retry is announced with, in a one-shot run and in the interactive session alike. */
export function retryNote(notice: RetryNotice): string {
  // The reason may quote a URL (a network error's words): its credentials are masked, as everywhere.
  return `Retrying in ${(notice.delayMs / 1000).toFixed(1)} s (attempt ${notice.attempt}): ${terminalSafe(maskUrlsIn(notice.reason))}`;
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
  // One budget for every retry of the turn, whoever makes it: net/http.ts for statuses and refused
  // connections, this loop for failures inside a 200 stream. Each attempt gets what is left.
  const retryBudget = retryLimit(target.generationConfig.maxRetries);
  let retriesUsed = 0;
  const countedOptions: SessionTurnOptions = {
    ...options,
    onRetry: (notice) => {
      retriesUsed += 1;
      options.onRetry?.({ ...notice, attempt: retriesUsed });
    },
  };
  for (;;) {
    try {
      const attempt = withMaxRetries(current, retryBudget - retriesUsed);
      const request = { target: attempt, messages, sessionId: options.sessionId };
      const result = await streamTurn(request, countedOptions);
      return { result, target: current };
    } catch (error) {
      const raw = error instanceof CliError ? error : new CliError('api', String(error), { cause: error });
      const retryable =
        isTemporaryStreamFailure(raw) && !options.hasShownOutput() && retriesUsed < retryBudget;
      const askedMs = retryable ? streamAskedDelayMs(raw) : undefined;
      const delayMs = retryable ? askedOrBackoffMs(askedMs, retriesUsed + 1) : undefined;
      if (delayMs !== undefined) {
        retriesUsed += 1;
        options.onRetry?.({ attempt: retriesUsed, delayMs, reason: streamFailureReason(raw) });
        options.onRestart?.();
        await waitUnlessAborted(delayMs, options.signal);
        continue;
      }
      // Not retried although retryable: the server asked for a longer wait than qwen waits, and the hint
      // says how long.
      const unretried = askedMs === undefined ? raw : withLongWaitHint(raw, askedMs);
      // The auth type may know better what a failure means (Qwen OAuth: a 429 is the free quota).
      const failure = session.explainFailure?.(unretried) ?? unretried;
      const unauthorized = session.isUnauthorized?.(failure) ?? failure.status === 401;
      if (unauthorized && !triedRefresh && !options.hasShownOutput() && session.refreshAfterUnauthorized) {
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
          options.onRestart?.();
          continue;
        }
        throw refreshFailure ?? failure;
      }
      throw failure;
    }
  }
}

/**
 * A failure inside a 200 stream that another attempt may not meet: an error event with a status worth
 * retrying (not an exhausted quota), the connection lost while the answer was read, or a stream that ended
 * cleanly without a finish reason (both BrokenStream). The caller retries only while nothing was shown.
 */
function isTemporaryStreamFailure(failure: CliError): boolean {
  if (failure.cause instanceof BrokenStream) return true;
  if (!(failure.cause instanceof StreamErrorEvent)) return false;
  const { status, doNotRetry } = failure.cause.failure;
  return isRetryableStatus(status) && doNotRetry !== true;
}

/**
 * The wait the server asked for in an error event (Gemini's RetryInfo): it is used as an HTTP status's is
 * (askedOrBackoffMs: one too long to wait for means no retry).
 */
function streamAskedDelayMs(failure: CliError): number | undefined {
  return failure.cause instanceof StreamErrorEvent ? failure.cause.failure.retryAfterMs : undefined;
}

function withMaxRetries(target: ResolvedModel, maxRetries: number): ResolvedModel {
  return { ...target, generationConfig: { ...target.generationConfig, maxRetries } };
}

/** What the retry notice says, as for an HTTP status: `529 Overloaded`; a lost connection says so. */
function streamFailureReason(failure: CliError): string {
  const event = failure.cause instanceof StreamErrorEvent ? failure.cause.failure : undefined;
  if (event === undefined)
    return failure.cause instanceof BrokenStream ? failure.cause.message : failure.message;
  return event.status === undefined ? event.message : `${event.status} ${event.message}`;
}
