// --fallback-model, as in Qwen Code: when the model stays rate limited or overloaded (429, 503, 529) after
// its retries and before any output, the turn is asked again of the next fallback model, each resolved as
// `--model <id>` would be (its own modelProviders entry, key and base URL when it has one).
import type { CredentialSession } from '../auth/credentials.ts';
import { CliError } from '../core/errors.ts';
import type { Message } from '../core/types.ts';
import { type SessionTurn, type SessionTurnOptions, streamSessionTurn } from './session-turn.ts';

/** The statuses that send a turn to the next fallback model. */
const fallbackStatuses: readonly number[] = [429, 503, 529];
/** Qwen Code's limit: at most three fallback models. */
export const maxFallbackModels = 3;

export interface FallbackModel {
  model: string;
  /** Resolves and prepares the fallback's credentials; called only when the turn falls back to it. */
  prepare: () => Promise<CredentialSession>;
}

/**
 * The fallback ids, in order: every --fallback-model value, each may be a comma-separated list. The
 * primary model and repeats are left out. More than three is refused (exit 42).
 */
export function parseFallbackModels(value: string | undefined, primaryModel: string): string[] {
  if (value === undefined) return [];
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '' && id !== primaryModel);
  const unique = [...new Set(ids)];
  if (unique.length > maxFallbackModels) {
    throw new CliError(
      'input',
      `--fallback-model takes at most ${maxFallbackModels} models, not ${unique.length} (${unique.join(', ')}).`,
    );
  }
  return unique;
}

export interface FallbackTurn extends SessionTurn {
  /** The session that answered: the fallback's when the turn fell back. */
  session: CredentialSession;
}

/**
 * Streams one turn with the session's model, then with each fallback in turn while the failure is one of
 * fallbackStatuses and nothing has been shown. `onFallback` says which model failed and which is next.
 */
export async function streamWithFallbacks(
  session: CredentialSession,
  messages: Message[],
  options: SessionTurnOptions,
  fallbacks: readonly FallbackModel[],
  onFallback: (failure: CliError, failedModel: string, nextModel: string) => void,
): Promise<FallbackTurn> {
  let current = session;
  for (let index = 0; ; index += 1) {
    try {
      const turn = await streamSessionTurn(current, current.target, messages, options);
      return { ...turn, session: current };
    } catch (error) {
      const next = fallbacks[index];
      if (
        next === undefined ||
        !(error instanceof CliError) ||
        error.status === undefined ||
        !fallbackStatuses.includes(error.status) ||
        options.hasShownOutput()
      ) {
        throw error;
      }
      onFallback(error, current.target.model, next.model);
      current = await next.prepare();
    }
  }
}
