// One turn with what the auth type adds around it, shared by headless runs and the REPL: a failure is
// explained in the auth type's terms (Qwen OAuth's quota), and a 401 before any output gets one
// credential refresh and one retry (token-based auth only).
import type { CredentialSession } from '../auth/credentials.ts';
import { CliError } from '../core/errors.ts';
import type { Message, ResolvedModel } from '../core/types.ts';
import { streamTurn, type TurnOptions, type TurnResult } from './turn.ts';

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
  for (let attempt = 0; ; attempt += 1) {
    try {
      const result = await streamTurn({ target: current, messages }, options);
      return { result, target: current };
    } catch (error) {
      const raw = error instanceof CliError ? error : new CliError('api', String(error), { cause: error });
      // The auth type may know better what a failure means (Qwen OAuth: a 429 is the free quota).
      const failure = session.explainFailure?.(raw) ?? raw;
      if (
        failure.status === 401 &&
        attempt === 0 &&
        !options.hasShownOutput() &&
        session.refreshAfterUnauthorized
      ) {
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
