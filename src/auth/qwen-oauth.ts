// Qwen OAuth: the RFC 8628 device authorization grant with PKCE (S256), and token refresh, speaking to
// chat.qwen.ai exactly as Qwen Code does (compat §1), so both tools can share oauth_creds.json.
// Nothing here prints or prompts: callers get the verification URL through a callback, so `qwen auth`,
// the interactive /auth wizard and tests can each show it their own way.
import { asSentence, CliError } from '../core/errors.ts';
import { describeNetworkError, hostOf } from '../net/http.ts';
import { notAnsweringThroughProxy, proxyNoteFor } from '../net/proxy-notes.ts';
import { readTokenAnswer, type TokenAnswer } from './token-answer.ts';
import type { QwenCredentials } from './token-store.ts';

export const qwenOauthDefaultBaseUrl = 'https://chat.qwen.ai';
export const qwenOauthClientId = 'f0304373b74a44d2b584a3fb70ca9e56';
export const qwenOauthScope = 'openid profile email model.completion';
export const deviceCodePath = '/api/v1/oauth2/device/code';
export const tokenPath = '/api/v1/oauth2/token';
/** Where Qwen OAuth traffic goes when the token names no resource_url. */
export const qwenOauthDefaultResourceUrl = 'https://dashscope.aliyuncs.com/compatible-mode/v1';

const deviceCodeGrantType = 'urn:ietf:params:oauth:grant-type:device_code';
/** Qwen Code polls every 2 s; a server that names its own `interval` is honoured (tests use that). */
export const defaultPollIntervalMs = 2_000;
const longestPollIntervalMs = 10_000;
/** How long one request to the login server may take: a proxy or server that never answers ends it. */
const formRequestTimeoutMs = 30_000;

/**
 * `QWEN_OAUTH_BASE_URL` replaces https://chat.qwen.ai, for companies that proxy it and for tests.
 */
export function qwenOauthBaseUrl(env: Record<string, string | undefined>): string {
  const configured = env['QWEN_OAUTH_BASE_URL']?.trim();
  return (configured === undefined || configured === '' ? qwenOauthDefaultBaseUrl : configured).replace(
    /\/+$/,
    '',
  );
}

export interface PkcePair {
  verifier: string;
  challenge: string;
}

/** verifier = 32 random bytes base64url; challenge = base64url(SHA-256(verifier)). */
export async function createPkcePair(): Promise<PkcePair> {
  const verifier = base64Url(crypto.getRandomValues(new Uint8Array(32)));
  return { verifier, challenge: await pkceChallenge(verifier) };
}

export async function pkceChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  /** The URL with the code filled in: the one to open or to put in a QR code. */
  verificationUriComplete: string;
  expiresInSeconds: number;
  /** The server's polling interval, when it names one. */
  intervalSeconds?: number;
}

export interface HttpOptions {
  /** A fetch with proxy and certificate options bound; the global fetch by default. */
  fetchImplementation?: typeof fetch;
  signal?: AbortSignal;
  /** How long one request may take; 30 s by default (tests shorten it). */
  requestTimeoutMs?: number;
}

export async function requestDeviceAuthorization(
  baseUrl: string,
  challenge: string,
  options: HttpOptions = {},
): Promise<DeviceAuthorization> {
  const answer = await postForm(
    `${baseUrl}${deviceCodePath}`,
    {
      client_id: qwenOauthClientId,
      scope: qwenOauthScope,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    },
    options,
  );
  if (!answer.ok) {
    throw new CliError('auth', `Device authorization failed: ${answer.status} ${answer.shownBody}`, {
      status: answer.status,
      hint: 'Try again later, or use an API key or Coding Plan (`qwen auth coding-plan`).',
    });
  }
  const json = answer.fields;
  const deviceCode = stringField(json, 'device_code');
  const userCode = stringField(json, 'user_code');
  const verificationUri = stringField(json, 'verification_uri');
  if (deviceCode === undefined || userCode === undefined || verificationUri === undefined) {
    const missing = Object.entries({
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
    })
      .filter(([, value]) => value === undefined)
      .map(([name]) => name);
    throw new CliError(
      'auth',
      `Device authorization failed: the server's answer has no ${missing.join(', ')}.`,
      {
        hint: 'Try again later, or use an API key or Coding Plan (`qwen auth coding-plan`).',
      },
    );
  }
  const authorization: DeviceAuthorization = {
    deviceCode,
    userCode,
    verificationUri,
    verificationUriComplete: stringField(json, 'verification_uri_complete') ?? verificationUri,
    expiresInSeconds: numberField(json, 'expires_in') ?? 600,
  };
  const interval = numberField(json, 'interval');
  if (interval !== undefined && interval >= 0) authorization.intervalSeconds = interval;
  return authorization;
}

/** What the token endpoint returns on success. */
export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  token_type?: string;
  expires_in?: number;
  resource_url?: string;
}

export interface PollOptions extends HttpOptions {
  now?: () => number;
  sleep?: (milliseconds: number, signal?: AbortSignal) => Promise<void>;
  /** Told when the server asks us to slow down, with the new interval. */
  onSlowDown?: (intervalMs: number) => void;
  /**
   * Told once when polls start failing (a 5xx, an unreadable answer, no connection), with what went wrong;
   * polling goes on until the code expires, as Qwen Code does, but the user should know why nothing happens.
   */
  onServerTrouble?: (problem: string) => void;
}

/** Polls the token endpoint until the user approves, denies, or the code expires. */
export async function pollForToken(
  baseUrl: string,
  authorization: DeviceAuthorization,
  verifier: string,
  options: PollOptions = {},
): Promise<TokenResponse> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableDelay;
  const baseIntervalMs =
    authorization.intervalSeconds === undefined
      ? defaultPollIntervalMs
      : authorization.intervalSeconds * 1000;
  let intervalMs = baseIntervalMs;
  const deadline = now() + authorization.expiresInSeconds * 1000;
  // What the last poll ran into, while polls keep failing; undefined once the server answers sensibly.
  let trouble: string | undefined;
  const troubled = (problem: string) => {
    if (trouble === undefined) options.onServerTrouble?.(problem);
    trouble = problem;
  };

  for (;;) {
    if (now() >= deadline) throw expiredError(trouble);
    await sleep(intervalMs, options.signal);
    if (options.signal?.aborted) throw new CliError('cancelled', 'Login cancelled.');

    let answer: TokenAnswer;
    try {
      answer = await postForm(
        `${baseUrl}${tokenPath}`,
        {
          grant_type: deviceCodeGrantType,
          client_id: qwenOauthClientId,
          device_code: authorization.deviceCode,
          code_verifier: verifier,
        },
        options,
      );
    } catch (error) {
      if (options.signal?.aborted) throw new CliError('cancelled', 'Login cancelled.');
      // A dropped connection while the user is typing the code is not fatal: keep polling until expiry.
      troubled(
        `the login server could not be reached (${error instanceof Error ? error.message : String(error)})`,
      );
      continue;
    }
    const json = answer.fields;
    const accessToken = stringField(json, 'access_token');
    if (answer.ok && accessToken !== undefined) return tokenResponseFrom(json, accessToken);

    const error = stringField(json, 'error');
    if (error !== undefined) trouble = undefined;
    switch (error) {
      case 'authorization_pending':
        intervalMs = baseIntervalMs;
        continue;
      case 'slow_down':
        intervalMs = Math.min(longestPollIntervalMs, Math.max(intervalMs, 1) * 1.5);
        options.onSlowDown?.(intervalMs);
        continue;
      case 'expired_token':
        throw expiredError();
      case 'access_denied':
        throw new CliError('auth', 'The login was denied in the browser.', {
          hint: 'Run `qwen auth qwen-oauth` again and approve the request, or use an API key.',
        });
    }
    if (answer.status === 401) throw expiredError();
    if (answer.status === 400 && error !== undefined) {
      // invalid_grant, invalid_client, ...: polling again cannot fix these.
      const description = stringField(answer.shownFields, 'error_description');
      throw new CliError(
        'auth',
        `Qwen OAuth login failed: ${error}${description ? ` (${description})` : ''}.`,
        {
          hint: 'Run `qwen auth qwen-oauth` again.',
        },
      );
    }
    // 5xx, an unexpected body: the server may recover before the code expires, as Qwen Code assumes.
    troubled(`the login server answered ${answer.status}${answer.shownBody ? `: ${answer.shownBody}` : ''}`);
  }
}

/** The code ran out; when the last polls failed, that is the likelier story, and it is told. */
function expiredError(trouble?: string): CliError {
  if (trouble !== undefined) {
    return new CliError('auth', `The login code expired while ${trouble}.`, {
      hint: 'Try `qwen auth qwen-oauth` again later, or use an API key meanwhile.',
    });
  }
  return new CliError('auth', 'The login code expired before it was approved.', {
    hint: 'Run `qwen auth qwen-oauth` again and finish the login in the browser within the time shown.',
  });
}

/** The credentials file content for a token response; `previous` supplies a refresh token the server omitted. */
export function credentialsFromToken(
  token: TokenResponse,
  now: number,
  previous?: QwenCredentials,
): QwenCredentials {
  const credentials: QwenCredentials = {
    ...previous,
    access_token: token.access_token,
    refresh_token: token.refresh_token ?? previous?.refresh_token ?? '',
    token_type: token.token_type ?? previous?.token_type ?? 'Bearer',
    expiry_date: now + (token.expires_in ?? 3600) * 1000,
  };
  const resourceUrl = token.resource_url ?? previous?.resource_url;
  if (resourceUrl !== undefined) credentials.resource_url = resourceUrl;
  return credentials;
}

export interface DeviceLoginOptions extends PollOptions {
  env: Record<string, string | undefined>;
  /** Called once the code is known: show the URL and the code, open the browser, draw the QR code. */
  onAuthorization: (authorization: DeviceAuthorization) => void | Promise<void>;
}

/** The whole device flow; resolves with credentials ready for writeCredentials. */
export async function runDeviceLogin(options: DeviceLoginOptions): Promise<QwenCredentials> {
  const baseUrl = qwenOauthBaseUrl(options.env);
  const pkce = await createPkcePair();
  const authorization = await requestDeviceAuthorization(baseUrl, pkce.challenge, options);
  await options.onAuthorization(authorization);
  const token = await pollForToken(baseUrl, authorization, pkce.verifier, options);
  return credentialsFromToken(token, (options.now ?? Date.now)());
}

/** The refresh token was refused (400/401): the cached credentials are useless and must go. */
export class RefreshRejectedError extends CliError {
  constructor(status: number) {
    super('auth', 'The Qwen OAuth login has expired or was revoked; the cached credentials were removed.', {
      status,
      hint: 'Run `qwen auth qwen-oauth` in a terminal to log in again, or use an API key.',
    });
  }
}

/** Exchanges the refresh token for a new access token (30 s timeout). */
export async function refreshCredentials(
  current: QwenCredentials,
  options: HttpOptions & { env: Record<string, string | undefined>; now?: () => number },
): Promise<QwenCredentials> {
  const baseUrl = qwenOauthBaseUrl(options.env);
  let answer: TokenAnswer;
  try {
    answer = await postForm(
      `${baseUrl}${tokenPath}`,
      { grant_type: 'refresh_token', refresh_token: current.refresh_token, client_id: qwenOauthClientId },
      options,
      [current.access_token],
    );
  } catch (error) {
    if (options.signal?.aborted) throw new CliError('cancelled', 'Cancelled.');
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError('network', `Could not refresh the Qwen OAuth token: ${reason}`, {
      cause: error,
      // The reason's own advice (the proxy to go around, the CA to trust) says more than ours.
      hint:
        (error instanceof CliError ? error.hint : undefined) ??
        'Check your network connection and proxy settings, then try again.',
    });
  }
  if (answer.status === 400 || answer.status === 401) throw new RefreshRejectedError(answer.status);
  const accessToken = stringField(answer.fields, 'access_token');
  if (!answer.ok || accessToken === undefined) {
    // The server is named (a proxy's 502 has no body to say whose it is); an empty body adds nothing.
    const answered = `${hostOf(baseUrl)} answered HTTP ${answer.status}${answer.ok ? ' without an access token' : ''}`;
    const body = answer.shownBody.trim() === '' ? '' : `: ${answer.shownBody}`;
    throw new CliError('api', asSentence(`Could not refresh the Qwen OAuth token: ${answered}${body}`), {
      status: answer.status,
      hint: 'Try again later.',
    });
  }
  return credentialsFromToken(
    tokenResponseFrom(answer.fields, accessToken),
    (options.now ?? Date.now)(),
    current,
  );
}

/** The chat base URL for a token: resource_url with `https://` and `/v1` added when missing. */
export function resourceBaseUrl(resourceUrl: string | undefined): string {
  const trimmed = resourceUrl?.trim() ?? '';
  if (trimmed === '') return qwenOauthDefaultResourceUrl;
  const withScheme = /^https?:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  const withoutSlash = withScheme.replace(/\/+$/, '');
  return withoutSlash.endsWith('/v1') ? withoutSlash : `${withoutSlash}/v1`;
}

/** Every exchange with the OAuth server goes through here, so that every answer is read masked. */
async function postForm(
  url: string,
  fields: Record<string, string>,
  options: HttpOptions,
  knownSecrets: readonly string[] = [],
): Promise<TokenAnswer> {
  const fetchImplementation = options.fetchImplementation ?? fetch;
  const limitMs = options.requestTimeoutMs ?? formRequestTimeoutMs;
  const timeout = AbortSignal.timeout(limitMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  try {
    return await readTokenAnswer(
      await sendForm(fetchImplementation, url, fields, { ...options, signal }),
      fields,
      knownSecrets,
    );
  } catch (error) {
    if (error instanceof CliError || options.signal?.aborted) throw error;
    // Name the server and what pointed there, as for model requests, instead of the runtime's wording.
    const setting = url.startsWith(qwenOauthDefaultBaseUrl)
      ? 'the Qwen OAuth default'
      : 'QWEN_OAUTH_BASE_URL';
    const failure = new CliError(
      'network',
      `Could not reach ${hostOf(url)} (from ${setting}): ${timeout.aborted ? `no answer within ${limitMs / 1000} s` : describeNetworkError(error)}.`,
      {
        cause: error,
        hint: 'Check your network connection and proxy settings (QWEN_OAUTH_BASE_URL overrides the server).',
      },
    );
    // A wait that ran out through a proxy may be the proxy's: named as for model requests.
    const proxy = timeout.aborted ? proxyNoteFor(options.fetchImplementation, url) : undefined;
    throw proxy === undefined ? failure : notAnsweringThroughProxy(failure, proxy, new URL(url).hostname);
  }
}

function sendForm(
  fetchImplementation: typeof fetch,
  url: string,
  fields: Record<string, string>,
  options: HttpOptions,
): Promise<Response> {
  return fetchImplementation(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
      'x-request-id': crypto.randomUUID(),
    },
    body: new URLSearchParams(fields).toString(),
    signal: options.signal,
    // Not followed: a 307 would post the device code or refresh token on to whatever host it names.
    redirect: 'manual',
  });
}

function tokenResponseFrom(json: Record<string, unknown>, accessToken: string): TokenResponse {
  const token: TokenResponse = { access_token: accessToken };
  const refreshToken = stringField(json, 'refresh_token');
  if (refreshToken !== undefined) token.refresh_token = refreshToken;
  const tokenType = stringField(json, 'token_type');
  if (tokenType !== undefined) token.token_type = tokenType;
  const expiresIn = numberField(json, 'expires_in');
  if (expiresIn !== undefined) token.expires_in = expiresIn;
  const resourceUrl = stringField(json, 'resource_url');
  if (resourceUrl !== undefined) token.resource_url = resourceUrl;
  return token;
}

function stringField(json: Record<string, unknown>, name: string): string | undefined {
  const value = json[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function numberField(json: Record<string, unknown>, name: string): number | undefined {
  const value = json[name];
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

function abortableDelay(milliseconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, milliseconds);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
