// Turns a ResolvedModel into one that can be sent: checks that a key is there, and (for token-based
// auth types) fetches or refreshes tokens. Each auth type plugs in here; the CLI calls nothing else.
import { dashScopeHeaders } from '../config/dashscope.ts';
import { emptyVariableNote } from '../config/env.ts';
import { protocolVariables } from '../config/resolve.ts';
import { asSentence, CliError } from '../core/errors.ts';
import { unsendableCharacterIn } from '../core/header-text.ts';
import { keyVariableMistake } from '../core/key-variable.ts';
import { type ResolvedModel, whereSet } from '../core/types.ts';
import { clearGoogleTokenCache, googleAccessToken, googleCredentialsPath } from './google-adc.ts';
import { RefreshRejectedError, refreshCredentials, resourceBaseUrl } from './qwen-oauth.ts';
import {
  type CredentialFiles,
  deleteFile,
  isUsable,
  obtainFreshCredentials,
  type QwenCredentials,
} from './token-store.ts';

export interface CredentialContext {
  /** True when a person is at a terminal who could finish a login. */
  interactive: boolean;
  env: Record<string, string | undefined>;
  /**
   * oauth_creds.json and its lock, where the configuration's paths put them: QWEN_HOME from the process
   * environment, as for every other file (config/paths.ts), never from a .env file or settings env.
   */
  oauthFiles: CredentialFiles;
  /** The user's home directory (oauth_creds.json's default place, gcloud's credentials). */
  home: string;
  /** A fetch with proxy and certificate options bound (token refreshes); the global fetch by default. */
  fetchImplementation?: typeof fetch;
  /** One line for the user while something takes long (waiting for another process's token refresh). */
  note?: (line: string) => void;
}

export interface CredentialSession {
  /** The model as prepared, with the credentials it had then. */
  target: ResolvedModel;
  /**
   * Before each turn: the target with credentials usable now. A token that expires (Qwen OAuth, Vertex AI's
   * access token) is renewed ahead of time, and one another process saved since is taken up, so a long
   * interactive session never sends a stale one. Absent: `target` stays good.
   */
  currentTarget?: () => Promise<ResolvedModel>;
  /** After a 401: new credentials for one retry, or undefined when there is nothing to refresh. */
  refreshAfterUnauthorized?: () => Promise<ResolvedModel | undefined>;
  /** Which failures mean the credentials were refused (and call for that refresh); a 401 by default. */
  isUnauthorized?: (failure: CliError) => boolean;
  /** Rewrites a failure in the terms of this auth type (Qwen OAuth's free quota); identity otherwise. */
  explainFailure?: (failure: CliError) => CliError;
}

export async function prepareCredentials(
  target: ResolvedModel,
  context: CredentialContext,
): Promise<CredentialSession> {
  if (target.authType === 'qwen-oauth') return prepareQwenOauth(target, context);
  if (target.protocol === 'vertex-ai' && !target.apiKey && target.googleCloud) {
    return prepareGoogleCloud(target, context);
  }
  // A bearer token resolved from the environment (ANTHROPIC_AUTH_TOKEN) is as good as a key.
  if (!target.apiKey && !target.accessToken) throw missingKeyError(target);
  const unsendable = unsendableKeyError(target);
  if (unsendable !== undefined) throw unsendable;
  return { target };
}

/**
 * A key fetch cannot put in a header (a curly quote pasted with it, a line break) is an authentication
 * problem to mend where the key is set: said so before fetch refuses it as if the network had failed.
 */
export function unsendableKeyError(target: ResolvedModel): CliError | undefined {
  const key = target.apiKey ?? target.accessToken;
  const problem = key === undefined ? undefined : unsendableCharacterIn(key);
  if (problem === undefined) return undefined;
  const where = target.apiKeySource === undefined ? '' : ` (${whereSet(target.apiKeySource)})`;
  return new CliError(
    'auth',
    `The API key for ${target.protocol} model "${target.model}"${where} cannot be sent: it has ${problem}.`,
    { hint: 'Copy the key again: quotes, spaces or line breaks pasted with it are not part of it.' },
  );
}

/**
 * The variable a target's key is read from, the protocol's own as the example, and what is wrong with the
 * variable's name when it is no name (a key pasted into `envKey`): for the error and for `qwen auth status`.
 */
export function keyVariableOf(target: ResolvedModel): {
  variable: string;
  example: string;
  mistake: string | undefined;
} {
  const example = protocolVariables[target.protocol].key;
  const variable = target.apiKeyVariable ?? example;
  return { variable, example, mistake: keyVariableMistake(variable, example) };
}

export function missingKeyError(target: ResolvedModel): CliError {
  const { variable, example, mistake } = keyVariableOf(target);
  const flag = target.protocol === 'openai' ? ', or pass --openai-api-key' : '';
  if (mistake !== undefined) {
    return new CliError(
      'auth',
      `No API key for ${target.protocol} model "${target.model}": its ${mistake}.`,
      {
        hint: `Set "envKey": "${example}" (or another variable name) and put the key in that variable${flag}.`,
      },
    );
  }
  if (target.emptyKeySource !== undefined) {
    // Set but empty: it wins over the layers below (the seed), so a key there is not used.
    const { note, remedy } = emptyVariableNote(variable, target.emptyKeySource);
    return new CliError('auth', `No API key for ${target.protocol} model "${target.model}": ${note}.`, {
      hint: `To use a key, ${remedy}${flag}.`,
    });
  }
  return new CliError(
    'auth',
    `No API key for ${target.protocol} model "${target.model}": set ${variable}${otherCredentials(target, variable === example)}${flag}.`,
    {
      hint: 'It can also go in a .env file or the "env" object of ~/.qwen/settings.json.',
    },
  );
}

/** The protocol's other way in, when the key variable is the protocol's own (an entry's envKey is not swapped). */
function otherCredentials(target: ResolvedModel, defaultVariable: boolean): string {
  if (!defaultVariable) return '';
  if (target.protocol === 'vertex-ai') {
    return ' (express mode), or set GOOGLE_CLOUD_PROJECT (and GOOGLE_CLOUD_LOCATION) to use Application Default Credentials';
  }
  if (target.protocol === 'anthropic') return ' (or ANTHROPIC_AUTH_TOKEN, sent as a Bearer token)';
  return '';
}

/** Where Qwen Code keeps the OAuth token: `$QWEN_HOME/oauth_creds.json`, default `~/.qwen`. */
export function oauthFilesIn(paths: { oauthCreds: string; oauthLock: string }): CredentialFiles {
  return { credentials: paths.oauthCreds, lock: paths.oauthLock };
}

/**
 * Uses the cached token, refreshing it under the lock when it is within 30 s of expiry. Never starts a
 * device login: a headless run has nobody to finish it, so missing credentials are an error.
 */
async function prepareQwenOauth(
  target: ResolvedModel,
  context: CredentialContext,
): Promise<CredentialSession> {
  const files = context.oauthFiles;
  const refresh = async (current: QwenCredentials): Promise<QwenCredentials> => {
    try {
      return await refreshCredentials(current, {
        env: context.env,
        fetchImplementation: context.fetchImplementation,
      });
    } catch (error) {
      // Still under the lock: nobody reads the file between the rejection and its removal.
      if (error instanceof RefreshRejectedError) deleteFile(files.credentials);
      throw error;
    }
  };

  const lock = {
    onWaiting: () =>
      context.note?.(
        `Waiting for another qwen process to finish refreshing the Qwen OAuth token (lock ${files.lock})...`,
      ),
  };
  const fresh = async (rejectedAccessToken?: string): Promise<QwenCredentials> => {
    const credentials = await obtainFreshCredentials({ files, refresh, lock, rejectedAccessToken });
    if (credentials === undefined) throw notLoggedInError(files.credentials);
    const unsendable = unsendableOauthTokenError(credentials, files.credentials);
    if (unsendable !== undefined) throw unsendable;
    checkedAt = Date.now();
    return credentials;
  };
  let checkedAt = 0;
  let current = await fresh();
  return {
    target: targetWithToken(target, current, files.credentials),
    currentTarget: async () => {
      // The file is read again at most every few seconds (as Qwen Code checks it), and whenever the token
      // is about to expire: a token refreshed or a login replaced by another process is taken up.
      if (Date.now() - checkedAt >= credentialsRecheckMs || !isUsable(current)) current = await fresh();
      return targetWithToken(target, current, files.credentials);
    },
    refreshAfterUnauthorized: async () => {
      current = await fresh(current.access_token);
      return targetWithToken(target, current, files.credentials);
    },
    isUnauthorized: isQwenOauthTokenRefused,
    explainFailure: explainQwenOauthFailure,
  };
}

/**
 * Words of a server that refused the token, whatever the status it chose (compat §1; Qwen Code looks for
 * "invalid access token", "invalid api key" and an expired token). Whole words: "invalid token count" is
 * about the prompt.
 */
const tokenRefusedText =
  /\binvalid[ _-](?:api[ _-]?key|access[ _-]?token)\b|\binvalid_token\b|\btoken[ _-](?:has[ _-](?:been[ _-])?)?expired\b|\bexpired[ _-](?:access[ _-]?)?token\b/i;

/**
 * Qwen Code refreshes the Qwen OAuth token on a 401 or 403, or an error whose text speaks of the token. Only
 * the server's failures are read (they have a status): our own messages can quote the model's words.
 */
export function isQwenOauthTokenRefused(failure: CliError): boolean {
  if (failure.status === undefined) return false;
  return failure.status === 401 || failure.status === 403 || tokenRefusedText.test(failure.message);
}

/** How old a look at the Qwen OAuth credentials file may be before a turn reads it again (Qwen Code: 5 s). */
const credentialsRecheckMs = 5_000;

/** Vertex AI project mode: a bearer token from Application Default Credentials, renewed after a 401. */
async function prepareGoogleCloud(
  target: ResolvedModel,
  context: CredentialContext,
): Promise<CredentialSession> {
  const fetchToken = () =>
    googleAccessToken({
      env: context.env,
      home: context.home,
      fetchImplementation: context.fetchImplementation,
    });
  const accessToken = await fetchToken();
  // Found, since a token was made from it.
  const credentialsFile = googleCredentialsPath({ env: context.env, home: context.home }).path;
  return {
    target: { ...target, accessToken },
    // Cached until a minute before it expires, then made again.
    currentTarget: async () => ({ ...target, accessToken: await fetchToken() }),
    refreshAfterUnauthorized: async () => {
      clearGoogleTokenCache();
      return { ...target, accessToken: await fetchToken() };
    },
    explainFailure: (failure) =>
      explainGoogleCloudFailure(failure, credentialsFile, target.googleCloud?.project),
  };
}

/**
 * A refused request in Vertex AI project mode is about the Application Default Credentials, not an API key
 * (there is none): a 401 (after a fresh token) about the file they come from, a 403 about the account's
 * rights on the project.
 */
function explainGoogleCloudFailure(failure: CliError, file: string, project: string | undefined): CliError {
  if (failure.status !== 401 && failure.status !== 403) return failure;
  return refusedCredentials(
    failure,
    failure.status === 401
      ? `Google refused the access token made from ${file}: run \`gcloud auth application-default login\` again, or check that the service account still exists.`
      : `The account in ${file} may lack rights on project ${project ?? '(unknown)'} (the Vertex AI User role, roles/aiplatform.user), or the Vertex AI API may be off there.`,
  );
}

/** The failure as refused credentials (exit 41), with the auth type's advice instead of the API key's. */
function refusedCredentials(failure: CliError, hint: string): CliError {
  return new CliError('auth', failure.message, { status: failure.status, cause: failure, hint });
}

/**
 * An access token fetch cannot put in a header (a line break left by a hand edit of oauth_creds.json): a
 * login to mend, said so before fetch refuses it as if the network had failed. The token is never shown.
 */
export function unsendableOauthTokenError(
  credentials: QwenCredentials,
  credentialsPath: string,
): CliError | undefined {
  const problem = unsendableCharacterIn(credentials.access_token);
  if (problem === undefined) return undefined;
  return new CliError(
    'auth',
    `The Qwen OAuth access token in ${credentialsPath} cannot be sent: it has ${problem}.`,
    { hint: 'Log in again with `qwen auth qwen-oauth`, which rewrites the file.' },
  );
}

export function notLoggedInError(credentialsPath: string): CliError {
  return new CliError(
    'auth',
    `Not logged in with Qwen OAuth (no usable credentials in ${credentialsPath}).`,
    {
      hint: 'Run `qwen auth qwen-oauth` in a terminal to log in, or use an API key (for example `qwen auth coding-plan`).',
    },
  );
}

/** The DashScope-flavoured OpenAI target Qwen OAuth tokens are used with (compat §1 and §7). */
function targetWithToken(
  target: ResolvedModel,
  credentials: QwenCredentials,
  credentialsPath: string,
): ResolvedModel {
  return {
    ...target,
    baseUrl: resourceBaseUrl(credentials.resource_url),
    baseUrlSource: {
      description:
        credentials.resource_url === undefined || credentials.resource_url.trim() === ''
          ? 'Qwen OAuth default (no resource_url in the credentials)'
          : `resource_url in ${credentialsPath}`,
      name: 'resource_url',
    },
    accessToken: credentials.access_token,
    apiKeySource: { description: credentialsPath, name: 'access_token' },
    extraHeaders: { ...target.extraHeaders, ...dashScopeHeaders('qwen-oauth') },
    dashScope: true,
  };
}

/** A 429 about quota on Qwen OAuth means the free allowance is spent: say so, and what to do instead. */
export function explainQwenOauthFailure(failure: CliError): CliError {
  // The login was refused (a refresh and a retry come first when they can): an API key's advice would be
  // no help. A 403 may be about the account instead.
  if (isQwenOauthTokenRefused(failure)) {
    return refusedCredentials(
      failure,
      failure.status === 403
        ? 'The Qwen OAuth login was refused: this account may not have access. `qwen auth status` shows the login; `qwen auth qwen-oauth` logs in again.'
        : 'Log in again with `qwen auth qwen-oauth` (or /auth in the interactive session).',
    );
  }
  if (failure.status !== 429) return failure;
  if (!/quota/i.test(`${failure.message} ${failure.hint ?? ''}`)) return failure;
  // The server's words (host, status, message) stay in the line: they say which limit it was.
  return new CliError(
    'api',
    `The Qwen OAuth free quota (60 requests a minute, 1,000 a day) is spent: ${asSentence(failure.message)}`,
    {
      status: 429,
      cause: failure,
      hint:
        'Wait a minute, or until tomorrow for the daily limit; or use an API key or Coding Plan instead ' +
        '(`qwen auth coding-plan --region china|global`, or /auth in the interactive session).',
    },
  );
}
