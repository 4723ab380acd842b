// Vertex AI access tokens from Google Application Default Credentials, without Google's auth library: the
// two file types people actually have (a service-account key, and the `authorized_user` file that
// `gcloud auth application-default login` writes) need one POST each, and a JWT signed with WebCrypto.

// node:fs, not node:fs/promises: this module is on every run's start-up path, and loading fs/promises
// there costs about 1 ms; a credentials file is small enough to read synchronously.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileErrorReason } from '../config/directories.ts';
import { CliError } from '../core/errors.ts';
import { describeNetworkError, hostOf } from '../net/http.ts';
import { readTokenAnswer, type TokenAnswer } from './token-answer.ts';

export const cloudPlatformScope = 'https://www.googleapis.com/auth/cloud-platform';
export const defaultGoogleTokenUrl = 'https://oauth2.googleapis.com/token';
const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A cached token is replaced this long before it expires, so that it cannot expire mid-request. */
const expiryMarginMs = 60_000;
/** Google accepts assertions valid for at most an hour. */
const assertionLifetimeSeconds = 3600;
/** A token endpoint that does not answer within this is not going to. */
const tokenRequestTimeoutMs = 30_000;

const loginHint =
  'Run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or set GOOGLE_API_KEY to use Vertex AI express mode.';

export interface GoogleAccessTokenOptions {
  env: Record<string, string | undefined>;
  /** The user's home directory (where gcloud keeps its ADC file). */
  home: string;
  /** A fetch with proxy and certificate settings bound; plain fetch by default. */
  fetchImplementation?: typeof fetch;
  /** Clock in ms, for tests of expiry. */
  now?: () => number;
  /** Defaults to process.platform; decides where gcloud's configuration lives. */
  platform?: string;
  /** Resolves a relative GOOGLE_APPLICATION_CREDENTIALS; defaults to process.cwd(). */
  cwd?: string;
}

interface ServiceAccountCredentials {
  type: 'service_account';
  clientEmail: string;
  privateKey: string;
  privateKeyId?: string;
  tokenUri: string;
}

interface AuthorizedUserCredentials {
  type: 'authorized_user';
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  tokenUri: string;
}

type GoogleCredentials = ServiceAccountCredentials | AuthorizedUserCredentials;

interface CachedToken {
  accessToken: string;
  /** When to stop using it (expiry minus the margin), in ms. */
  refreshAtMs: number;
}

// Keyed by file and identity, so that a replaced credentials file is not answered with the old token.
const tokenCache = new Map<string, CachedToken>();
// Concurrent callers (parallel requests at startup) share one exchange instead of racing.
const pendingExchanges = new Map<string, Promise<CachedToken>>();

/** Forgets cached tokens: after a 401 (a revoked token) and between tests. */
export function clearGoogleTokenCache(): void {
  tokenCache.clear();
  pendingExchanges.clear();
}

/** Where the ADC file is looked for: the variable's file, else gcloud's well-known file. */
export function googleCredentialsPath(
  options: Pick<GoogleAccessTokenOptions, 'env' | 'home' | 'platform' | 'cwd'>,
): {
  path: string;
  fromVariable: boolean;
} {
  const configured = options.env['GOOGLE_APPLICATION_CREDENTIALS']?.trim();
  if (configured !== undefined && configured !== '') {
    const path = isAbsolute(configured) ? configured : resolve(options.cwd ?? process.cwd(), configured);
    return { path, fromVariable: true };
  }
  const gcloudDirectory = gcloudConfigDirectory(options);
  return { path: join(gcloudDirectory, 'application_default_credentials.json'), fromVariable: false };
}

function gcloudConfigDirectory(options: Pick<GoogleAccessTokenOptions, 'env' | 'home' | 'platform'>): string {
  const override = options.env['CLOUDSDK_CONFIG']?.trim();
  if (override !== undefined && override !== '') return override;
  const platform = options.platform ?? process.platform;
  const appData = options.env['APPDATA'];
  if (platform === 'win32' && appData !== undefined && appData !== '') return join(appData, 'gcloud');
  return join(options.home, '.config', 'gcloud');
}

/**
 * The ADC file a run would use and its kind, read and checked as for a token but without asking for one
 * (`qwen auth status`): a missing, unreadable or incomplete file, or a service account's key that cannot
 * sign, is the same auth error a run gives.
 */
export async function findGoogleCredentials(
  options: Pick<GoogleAccessTokenOptions, 'env' | 'home' | 'platform' | 'cwd'>,
): Promise<{ path: string; type: GoogleCredentials['type'] }> {
  const { path, fromVariable } = googleCredentialsPath(options);
  const credentials = readCredentials(path, fromVariable);
  if (credentials.type === 'service_account') await signingKey(credentials, path);
  return { path, type: credentials.type };
}

/** A Vertex AI access token from Application Default Credentials, cached until a minute before expiry. */
export async function googleAccessToken(options: GoogleAccessTokenOptions): Promise<string> {
  const now = options.now ?? Date.now;
  const { path, fromVariable } = googleCredentialsPath(options);
  const credentials = readCredentials(path, fromVariable);
  const cacheKey = `${path}\n${credentials.type}\n${credentials.type === 'service_account' ? credentials.clientEmail : credentials.clientId}`;

  const cached = tokenCache.get(cacheKey);
  if (cached !== undefined && now() < cached.refreshAtMs) return cached.accessToken;

  let pending = pendingExchanges.get(cacheKey);
  if (pending === undefined) {
    pending = exchange(credentials, path, options, now).finally(() => pendingExchanges.delete(cacheKey));
    pendingExchanges.set(cacheKey, pending);
  }
  const token = await pending;
  tokenCache.set(cacheKey, token);
  return token.accessToken;
}

function readCredentials(path: string, fromVariable: boolean): GoogleCredentials {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' && !fromVariable) {
      throw new CliError(
        'auth',
        'No Google credentials found for Vertex AI (no API key, and no Application Default Credentials).',
        { hint: loginHint, cause: error },
      );
    }
    const reason = code === 'ENOENT' ? 'the file does not exist' : fileErrorReason(error);
    const origin = fromVariable
      ? 'GOOGLE_APPLICATION_CREDENTIALS names'
      : 'Application Default Credentials are in';
    throw new CliError('auth', `Cannot read ${path} (${origin} it): ${reason}.`, {
      hint: loginHint,
      cause: error,
    });
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError('auth', `${path} is not a JSON credentials file.`, { hint: loginHint, cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new CliError('auth', `${path} is not a JSON credentials file.`, { hint: loginHint });
  }
  const fields = parsed as Record<string, unknown>;
  const stringField = (name: string): string | undefined => {
    const value = fields[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const missing = (names: string[]): CliError =>
    new CliError(
      'auth',
      `${path} lacks ${names.join(', ')}; it is not a complete ${String(fields['type'])} file.`,
      {
        hint: loginHint,
      },
    );

  // Checked here, not left to fetch: "Could not reach not a url" would send the user to their network.
  const tokenUri = (): string => {
    const value = stringField('token_uri') ?? defaultGoogleTokenUrl;
    if (/^https?:\/\//i.test(value) && URL.canParse(value)) return value;
    throw new CliError('auth', `${path}: token_uri "${value}" is not a valid http(s) URL.`, {
      hint: `Fix token_uri in that file (Google's is ${defaultGoogleTokenUrl}), or remove it.`,
    });
  };
  const type = stringField('type');
  if (type === 'service_account') {
    const clientEmail = stringField('client_email');
    const privateKey = stringField('private_key');
    if (clientEmail === undefined || privateKey === undefined) {
      throw missing(['client_email', 'private_key'].filter((name) => stringField(name) === undefined));
    }
    const credentials: ServiceAccountCredentials = {
      type,
      clientEmail,
      privateKey,
      tokenUri: tokenUri(),
    };
    const privateKeyId = stringField('private_key_id');
    if (privateKeyId !== undefined) credentials.privateKeyId = privateKeyId;
    return credentials;
  }
  if (type === 'authorized_user') {
    const clientId = stringField('client_id');
    const clientSecret = stringField('client_secret');
    const refreshToken = stringField('refresh_token');
    if (clientId === undefined || clientSecret === undefined || refreshToken === undefined) {
      throw missing(
        ['client_id', 'client_secret', 'refresh_token'].filter((name) => stringField(name) === undefined),
      );
    }
    return {
      type,
      clientId,
      clientSecret,
      refreshToken,
      tokenUri: tokenUri(),
    };
  }
  throw new CliError(
    'auth',
    `${path} holds "${type ?? 'unknown'}" credentials; qwen supports service_account and authorized_user files.`,
    { hint: loginHint },
  );
}

async function exchange(
  credentials: GoogleCredentials,
  path: string,
  options: GoogleAccessTokenOptions,
  now: () => number,
): Promise<CachedToken> {
  const form = new URLSearchParams();
  if (credentials.type === 'service_account') {
    form.set('grant_type', jwtBearerGrant);
    form.set('assertion', await signedAssertion(credentials, path, now()));
  } else {
    form.set('grant_type', 'refresh_token');
    form.set('client_id', credentials.clientId);
    form.set('client_secret', credentials.clientSecret);
    form.set('refresh_token', credentials.refreshToken);
  }

  const fetchImplementation = options.fetchImplementation ?? fetch;
  const host = hostOf(credentials.tokenUri);
  let answer: TokenAnswer;
  try {
    const response = await fetchImplementation(credentials.tokenUri, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: form.toString(),
      signal: AbortSignal.timeout(tokenRequestTimeoutMs),
      // Not followed: a 307 would post the signed assertion or refresh token on to another host.
      redirect: 'manual',
    });
    // Google's error descriptions may quote the client secret or the refresh token sent.
    answer = await readTokenAnswer(response, form);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(
      'network',
      `Could not reach ${host} to get a Google access token: ${describeNetworkError(error)}.`,
      {
        cause: error,
        hint: 'Check your network connection and proxy settings.',
      },
    );
  }

  if (!answer.ok) {
    // An HTML error page from a proxy has neither field; the status says enough.
    const shown = answer.shownFields;
    const description =
      typeof shown['error_description'] === 'string' && shown['error_description'] !== ''
        ? shown['error_description']
        : typeof shown['error'] === 'string'
          ? shown['error']
          : `HTTP ${answer.status}`;
    // A server (or a proxy before it) that failed or is busy refused nothing: the credentials may be fine.
    if (answer.status >= 500 || answer.status === 429 || answer.status === 408) {
      throw new CliError('api', `${host} could not give a Google access token (${path}): ${description}`, {
        status: answer.status,
        hint: 'Try again later; the credentials file was not at fault.',
      });
    }
    const again =
      credentials.type === 'authorized_user'
        ? 'Run `gcloud auth application-default login` again.'
        : 'Check that the service-account key in the file is still valid (it may have been deleted or disabled).';
    throw new CliError('auth', `${host} refused the Google credentials in ${path}: ${description}`, {
      status: answer.status,
      hint: again,
    });
  }

  const parsed = answer.fields;
  const accessToken = parsed['access_token'];
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new CliError('auth', `${host} answered without an access token.`, { hint: loginHint });
  }
  const expiresIn = typeof parsed['expires_in'] === 'number' ? parsed['expires_in'] : 3600;
  return { accessToken, refreshAtMs: now() + expiresIn * 1000 - expiryMarginMs };
}

function base64UrlOfBytes(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64UrlOfJson(value: unknown): string {
  return base64UrlOfBytes(new TextEncoder().encode(JSON.stringify(value)));
}

/** PEM "-----BEGIN PRIVATE KEY-----" (PKCS #8, what Google's key files hold) -> DER bytes. */
function pemToDer(pem: string, path: string): Uint8Array<ArrayBuffer> {
  if (!/-----BEGIN PRIVATE KEY-----/.test(pem)) {
    throw new CliError('auth', `The private_key in ${path} is not a PKCS #8 PEM key.`, { hint: loginHint });
  }
  const base64 = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  try {
    const binary = atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
    return bytes;
  } catch (error) {
    throw new CliError('auth', `The private_key in ${path} is damaged (not base64).`, {
      hint: loginHint,
      cause: error,
    });
  }
}

/** The service account's private key, ready to sign its assertions. */
async function signingKey(credentials: ServiceAccountCredentials, path: string): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey(
      'pkcs8',
      pemToDer(credentials.privateKey, path),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['sign'],
    );
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('auth', `The private_key in ${path} cannot be used as an RSA key.`, {
      hint: loginHint,
      cause: error,
    });
  }
}

async function signedAssertion(
  credentials: ServiceAccountCredentials,
  path: string,
  nowMs: number,
): Promise<string> {
  const key = await signingKey(credentials, path);
  const issuedAt = Math.floor(nowMs / 1000);
  const header: Record<string, string> = { alg: 'RS256', typ: 'JWT' };
  if (credentials.privateKeyId !== undefined) header['kid'] = credentials.privateKeyId;
  const claims = {
    iss: credentials.clientEmail,
    scope: cloudPlatformScope,
    aud: credentials.tokenUri,
    iat: issuedAt,
    exp: issuedAt + assertionLifetimeSeconds,
  };
  const signingInput = `${base64UrlOfJson(header)}.${base64UrlOfJson(claims)}`;
  const signature = await crypto.subtle.sign(
    'RSASSA-PKCS1-v1_5',
    key,
    new TextEncoder().encode(signingInput),
  );
  return `${signingInput}.${base64UrlOfBytes(new Uint8Array(signature))}`;
}
