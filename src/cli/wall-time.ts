// --max-wall-time, as in Qwen Code: a one-shot run that takes longer stops (what was printed stays) and exits
// 55. A CI job gets a clear budget failure instead of being killed by its own timeout.
import { CliError } from '../core/errors.ts';
import { longestTimerMs } from './abortable.ts';

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The limit in milliseconds: `90` (seconds), `1500ms`, `30s`, `2.5m`, `1h30m`. `-1` is Qwen Code's "no
 * limit" (undefined). Anything else, zero included, is refused (exit 42).
 */
export function parseWallTime(value: string): number | undefined {
  const text = value.trim().toLowerCase();
  if (text === '-1') return undefined;
  let totalMs = 0;
  if (/^\d+(\.\d+)?$/.test(text)) totalMs = Number(text) * 1000;
  else if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) {
    for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
      totalMs += Number(amount) * (unitMs[unit as string] as number);
    }
  } else totalMs = Number.NaN;
  if (!(totalMs >= 1)) {
    throw new CliError(
      'input',
      `--max-wall-time takes a duration such as 90, 30s, 5m or 1h30m, not "${value}".`,
    );
  }
  return totalMs;
}

/** The limit `--max-wall-time` sets (the value as typed, for the message); undefined when there is none. */
export interface WallTimeLimit {
  milliseconds: number;
  typed: string;
}

/** The flag's limit, checked (exit 42 for a bad value) whatever the mode; undefined without one or for -1. */
export function wallTimeLimitOf(typed: string | undefined): WallTimeLimit | undefined {
  const milliseconds = typed === undefined ? undefined : parseWallTime(typed);
  return typed === undefined || milliseconds === undefined ? undefined : { milliseconds, typed };
}

/** Aborts `controller` with the budget failure once the limit has passed; the returned function stops it. */
export function startWallTimer(limit: WallTimeLimit, controller: AbortController): () => void {
  const { milliseconds: limitMs, typed } = limit;
  if (limitMs > longestTimerMs) return () => {};
  const timer = setTimeout(() => {
    controller.abort(
      new CliError('budget', `Reached the wall-time limit of ${withUnit(typed)} (--max-wall-time).`, {
        hint: 'Give the run more time with a larger --max-wall-time, or leave the flag out.',
      }),
    );
  }, limitMs);
  return () => clearTimeout(timer);
}

/** The limit as typed, with its unit: a bare number is seconds, which "limit of 2" would not say. */
function withUnit(typed: string): string {
  const text = typed.trim();
  return /^\d+(\.\d+)?$/.test(text) ? `${text} s` : text;
}
