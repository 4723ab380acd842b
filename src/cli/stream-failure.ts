// What a user reads when a 200 stream ends in failure. Phrased like an HTTP failure (`HOST answered 429:
// message`, net/http.ts) with the status the error stands for, and honest about whether an answer had
// started: "The answer stopped" only when some of it was shown.
import type { StreamFailure } from '../core/events.ts';

/** The message for an error event (or a filter's cut) inside a stream; `message` is already masked. */
export function streamErrorMessage(
  failure: StreamFailure,
  message: string,
  host: string,
  answered: boolean,
): string {
  const label = statusLabel(failure, message);
  if (answered) {
    return label === ''
      ? `The answer stopped with an error from ${host}: ${message}`
      : `The answer stopped: ${host} reported ${label}: ${message}`;
  }
  return `${host} reported ${label === '' ? 'an error' : label} before any answer: ${message}`;
}

/** The message for a stream that ended without an error before the protocol said the answer was whole. */
export function endedEarlyMessage(missing: string, host: string, answered: boolean): string {
  return answered
    ? `The stream from ${host} ended before the answer was complete (${missing}).`
    : `The event stream from ${host} ended before any answer (${missing}).`;
}

/**
 * `529 overloaded_error`, `503 UNAVAILABLE`: the status and the code, the code left out when the message
 * names it or when it is the status again (vLLM and some gateways send `code: 500` beside the status).
 */
function statusLabel(failure: StreamFailure, message: string): string {
  const { status, code } = failure;
  const namesCode = code !== undefined && code !== String(status) && !message.includes(code);
  return [status, namesCode ? code : undefined].filter((part) => part !== undefined).join(' ');
}
