// Waits the run's signal must be able to end: Ctrl+C and --max-wall-time stop a run wherever it is, also
// while it reads a slow stdin or waits for another process's token refresh. The work itself is left to
// finish or to die with the process; its result is no longer wanted.
import { abortError } from '../net/http.ts';

/** Timers cannot wait longer (about 24.8 days): a larger delay would fire at once. */
export const longestTimerMs = 2 ** 31 - 1;

/** A pause that the signal ends at once, with its failure (the wait before a retry). */
export function waitUnlessAborted(delayMs: number, signal: AbortSignal | undefined): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const wait = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, delayMs);
  });
  return signal === undefined ? wait : untilAborted(wait, signal).finally(() => clearTimeout(timer));
}

/** `work`, or the signal's failure (cancelled, out of time) as soon as it aborts. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
