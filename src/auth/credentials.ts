// Turns a ResolvedModel into one that can be sent: checks that a key is there, and (for token-based
// auth types) fetches or refreshes tokens. Each auth type plugs in here; the CLI calls nothing else.
import { CliError } from '../core/errors.ts';
import type { ResolvedModel } from '../core/types.ts';

export interface CredentialContext {
  /** True when a person is at a terminal who could finish a login. */
  interactive: boolean;
  env: Record<string, string | undefined>;
}

export interface CredentialSession {
  target: ResolvedModel;
  /** After a 401: new credentials for one retry, or undefined when there is nothing to refresh. */
  refreshAfterUnauthorized?: () => Promise<ResolvedModel | undefined>;
}

export async function prepareCredentials(
  target: ResolvedModel,
  _context: CredentialContext,
): Promise<CredentialSession> {
  if (!target.apiKey) throw missingKeyError(target);
  return { target };
}

export function missingKeyError(target: ResolvedModel): CliError {
  const variable = target.apiKeyVariable ?? 'OPENAI_API_KEY';
  const flag = target.protocol === 'openai' ? ', or pass --openai-api-key' : '';
  return new CliError(
    'auth',
    `No API key for ${target.protocol} model "${target.model}": set ${variable}${flag}.`,
    {
      hint: 'It can also go in a .env file or the "env" object of ~/.qwen/settings.json.',
    },
  );
}
