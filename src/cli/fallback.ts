// --fallback-model, as in Qwen Code: when the model stays rate limited or overloaded (429, 503, 529) after
// its retries and before any output, the turn is asked again of the next fallback model, each resolved as
// `--model <id>` would be (its own modelProviders entry, key and base URL when it has one).
import { type CredentialSession, oauthFilesIn, prepareCredentials } from '../auth/credentials.ts';
import type { LoadedConfiguration } from '../config/load.ts';
import { type ResolveFlags, resolveModel } from '../config/resolve.ts';
import { asSentence, CliError, oneLine } from '../core/errors.ts';
import type { Message, ResolvedModel } from '../core/types.ts';
import { type SessionTurn, type SessionTurnOptions, streamSessionTurn } from './session-turn.ts';

/** The statuses that send a turn to the next fallback model. */
const fallbackStatuses: readonly number[] = [429, 503, 529];
/** Qwen Code's limit: at most three fallback models. */
const maxFallbackModels = 3;

export interface FallbackModel {
  model: string;
  /** Resolves and prepares the fallback's credentials; called only when the turn needs a fallback. */
  prepare: () => Promise<CredentialSession>;
}

/**
 * The fallback ids, in order: every --fallback-model value, each may be a comma-separated list; repeats
 * are left out. More than three is refused (exit 42), before anything else is done.
 */
export function parseFallbackModels(value: string | undefined): string[] {
  if (value === undefined) return [];
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const unique = [...new Set(ids)];
  if (unique.length > maxFallbackModels) {
    throw new CliError(
      'input',
      `--fallback-model takes at most ${maxFallbackModels} models, not ${unique.length} (${unique.join(', ')}).`,
    );
  }
  return unique;
}

export interface ModelSessionInput {
  configuration: LoadedConfiguration;
  flags: ResolveFlags;
  /** The model to use instead of the one the flags and settings choose (a fallback). */
  model?: string;
  home: string;
  fetchImplementation?: typeof fetch;
  /** Says a note about the configuration; the caller's printer says each one once. */
  sayNote: (line: string) => void;
  /** A line while something takes long (another process's token refresh). */
  note: (line: string) => void;
}

/** A model resolved as `--model <id>` would be, notes said, credentials prepared: the run's or a fallback's. */
export function prepareModelSession(input: ModelSessionInput): Promise<CredentialSession> {
  const { configuration } = input;
  const target = resolveModel({
    flags: { ...input.flags, model: input.model ?? input.flags.model },
    settings: configuration.settings.merged,
    env: configuration.env,
    settingsFiles: configuration.settings.files,
  });
  for (const note of target.notes ?? []) input.sayNote(note);
  return prepareCredentials(target, {
    interactive: false,
    env: configuration.env.toRecord(),
    oauthFiles: oauthFilesIn(configuration.paths),
    home: input.home,
    fetchImplementation: input.fetchImplementation,
    note: input.note,
  });
}

export interface FallbackTurn extends SessionTurn {
  /** The session that answered: the fallback's when the turn fell back. */
  session: CredentialSession;
}

export interface FallbackEvents {
  /** The turn goes to `next` (prepared, not yet asked) because `failedModel` failed with `failure`. */
  onFallback: (failure: CliError, failedModel: string, next: CredentialSession) => void;
  /**
   * A fallback that cannot stand in: its credentials are missing, or it resolves to a model already asked
   * (under Qwen OAuth every id resolves to the one OAuth model). The next one is tried.
   */
  onSkipped: (model: string, reason: string) => void;
}

/**
 * Streams one turn with the session's model, then with each usable fallback in turn while the failure is
 * one of fallbackStatuses and nothing has been shown. When no fallback is left, the last failure stands.
 */
export async function streamWithFallbacks(
  session: CredentialSession,
  messages: Message[],
  options: SessionTurnOptions,
  fallbacks: readonly FallbackModel[],
  events: FallbackEvents,
): Promise<FallbackTurn> {
  let current = session;
  const asked = new Set([endpointOf(session.target)]);
  let index = 0;
  for (;;) {
    try {
      const target = current.currentTarget ? await current.currentTarget() : current.target;
      const turn = await streamSessionTurn(current, target, messages, options);
      return { ...turn, session: current };
    } catch (error) {
      if (!isFallbackFailure(error) || options.hasShownOutput()) throw error;
      let next: CredentialSession | undefined;
      while (next === undefined && index < fallbacks.length) {
        const candidate = fallbacks[index] as FallbackModel;
        index += 1;
        try {
          const prepared = await candidate.prepare();
          if (asked.has(endpointOf(prepared.target))) {
            events.onSkipped(
              candidate.model,
              `it resolves to "${prepared.target.model}", which was already asked`,
            );
          } else next = prepared;
        } catch (prepareError) {
          // Ctrl+C, SIGTERM or the time budget (each aborts the signal) ends the run, not just this fallback.
          if (!(prepareError instanceof CliError) || options.signal?.aborted) throw prepareError;
          events.onSkipped(candidate.model, oneLine(prepareError));
        }
      }
      if (next === undefined) throw error;
      events.onFallback(error, current.target.model, next);
      asked.add(endpointOf(next.target));
      current = next;
    }
  }
}

/** The line that says a fallback was passed over, for stderr or the interactive session. */
export function skippedFallbackNote(model: string, reason: string): string {
  return asSentence(`Fallback model "${model}" skipped: ${reason}`);
}

function isFallbackFailure(error: unknown): error is CliError {
  return error instanceof CliError && error.status !== undefined && fallbackStatuses.includes(error.status);
}

/** The same model id at another base URL is another provider, worth asking. */
function endpointOf(target: ResolvedModel): string {
  return `${target.model} ${target.baseUrl}`;
}
