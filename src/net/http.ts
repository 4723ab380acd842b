// The only module that sends HTTP requests. Retries happen here and only before a response body has
// started: once a stream delivers text, a failure is reported, never replayed (no duplicated output).
import ky, { type AfterResponseHook, isHTTPError, isTimeoutError } from 'ky';
import { CliError } from '../core/errors.ts';
import { isSecretParameter, maskUrl, redactSecrets } from '../core/redact.ts';
import type { HttpRequest } from '../core/types.ts';
import { isObject } from '../core/types.ts';
import type { ApiErrorDetails } from '../protocols/adapter.ts';
import { parseJson, statusOnlyMessage } from '../protocols/wire.ts';
import { type ProxyNote, proxyCredentialsForm, proxyNoteFor } from './proxy-notes.ts';

/** `generationConfig.maxRetries`, default 3: attempts after the first. */
export function retryLimit(maxRetries: number | undefined): number {
  return Math.max(0, maxRetries ?? 3);
}

/** Statuses worth another attempt besides every 5xx (Anthropic's 529, Cloudflare's 520-524): timeouts, conflicts, rate limits. */
const retryableStatuses = new Set([408, 409, 429]);
/** A server asking for a longer wait than this is not waited for: the user gets the error and the wait. */
const longestHonouredWaitMs = 60_000;
const firstBackoffMs = 500;
const longestBackoffMs = 8_000;

export interface RetryNotice {
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface PostOptions {
  request: HttpRequest;
  /** Retries after the first attempt; default 3. */
  maxRetries?: number;
  signal?: AbortSignal;
  parseErrorBody: (status: number, body: string) => ApiErrorDetails;
  onRetry?: (notice: RetryNotice) => void;
  /** Called as each attempt is sent. */
  onRequest?: () => void;
  /** A fetch with transport options bound (proxy, certificates); plain fetch by default. */
  fetchImplementation?: typeof fetch;
  /** Names the setting that pointed at this URL, for connection-failure messages. */
  urlSetting?: string;
}

/** Sends a POST and resolves with a 2xx response whose body the caller streams; throws CliError otherwise. */
export async function postForStream(options: PostOptions): Promise<Response> {
  const { request, signal } = options;
  const maxRetries = retryLimit(options.maxRetries);
  const host = hostOf(request.url);
  const proxy = proxyNoteFor(options.fetchImplementation, request.url);
  // Needed only to mask an error body: not worked out for the answers that stream.
  let secrets: string[] | undefined;
  const secretsOfRequest = () => {
    secrets ??= requestSecrets(request);
    return secrets;
  };
  let lastFailure: FailedResponse | undefined;
  // The connection failure ky is about to retry: shouldRetry sees it, and delay (which ky calls next, before
  // the wait) announces the retry with its reason, as every other retry is announced.
  let failedConnection: unknown;

  const decideRetry: AfterResponseHook = async (_request, _options, response, state) => {
    if (response.ok) return response;
    if (isRedirect(response.status)) throw redirected(response, request.url, host);
    const body = redactSecrets(await response.clone().text(), secretsOfRequest());
    lastFailure = failedResponse(response.status, body, options.parseErrorBody);
    const { details } = lastFailure;
    if (state.retryCount >= maxRetries || !shouldRetryResponse(response.status, response.headers, details))
      return response;
    const askedMs = askedDelayMs(response.headers, details);
    const delayMs = askedOrBackoffMs(askedMs, state.retryCount + 1);
    if (delayMs === undefined) {
      lastFailure.tooLongWaitMs = askedMs;
      return response;
    }
    options.onRetry?.({
      attempt: state.retryCount + 1,
      delayMs,
      reason: `${response.status} ${details.message}`,
    });
    return ky.retry({ delay: delayMs });
  };

  try {
    const response = await ky.post(request.url, {
      headers: request.headers,
      body: request.body,
      signal,
      timeout: false,
      throwHttpErrors: false,
      // A redirect is reported, never followed: fetch would re-send every header but Authorization to
      // whatever host it names (x-api-key, x-goog-api-key, a customHeaders key), and turn a 301/302's POST
      // into a GET that fails as 405 from the wrong host.
      redirect: 'manual',
      fetch: options.fetchImplementation,
      retry: {
        limit: maxRetries,
        methods: ['post'],
        statusCodes: [],
        // Only connection failures reach here (HTTP statuses are decided in decideRetry). A CliError from
        // the transport (untrusted certificate, proxy refusing us) is final: trying again changes nothing.
        shouldRetry: ({ error }) => {
          failedConnection = error;
          return (
            !signal?.aborted && !isHTTPError(error) && !isTimeoutError(error) && !(error instanceof CliError)
          );
        },
        delay: (attempt) => {
          const delayMs = backoffMs(attempt);
          options.onRetry?.({ attempt, delayMs, reason: describeNetworkError(failedConnection) });
          return delayMs;
        },
      },
      hooks: {
        beforeRequest: [
          () => {
            options.onRequest?.();
          },
        ],
        afterResponse: [decideRetry],
      },
    });
    if (response.ok) return response;
    lastFailure ??= failedResponse(
      response.status,
      redactSecrets(await response.text(), secretsOfRequest()),
      options.parseErrorBody,
    );
    const failure =
      proxy !== undefined && !lastFailure.isServerError
        ? proxiedFailure(lastFailure, host, proxy, request.url)
        : httpFailure(response.status, lastFailure.details, host);
    throw lastFailure.tooLongWaitMs === undefined
      ? failure
      : withLongWaitHint(failure, lastFailure.tooLongWaitMs);
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (signal?.aborted) throw abortError(signal);
    throw networkFailure(error, host, options.urlSetting);
  }
}

function isRedirect(status: number): boolean {
  return status >= 300 && status <= 399;
}

/** The request went elsewhere: where (its credentials masked), so the base URL can be set to it. */
function redirected(response: Response, requestUrl: string, host: string): CliError {
  const location = response.headers.get('location');
  let target: string | undefined;
  try {
    if (location !== null && location.trim() !== '') target = maskUrl(new URL(location, requestUrl).href);
  } catch {
    // Not a URL: no address to name.
  }
  // A 3xx that names no address (304, a 300 without a choice, a broken 302) is no redirect to follow.
  if (target === undefined) {
    return new CliError('api', `${host} answered ${response.status} without naming an address to go to.`, {
      status: response.status,
      hint: 'This is not how a model API answers: check the base URL (for example https://host/v1).',
    });
  }
  return new CliError(
    'api',
    `${host} answered ${response.status}, a redirect to ${target}; qwen does not follow redirects, so that the key never goes to an address it was not given.`,
    { status: response.status, hint: 'Set the base URL to the address the server names.' },
  );
}

interface FailedResponse {
  status: number;
  details: ApiErrorDetails;
  /** Whether the body is a JSON error object, as the provider's APIs send: else a proxy may have answered. */
  isServerError: boolean;
  /** The wait the server asked for when it was too long to wait (no retry was made). */
  tooLongWaitMs?: number;
}

/**
 * Statuses no attempt can change: a malformed request, missing or refused credentials, an unknown model or
 * URL. Never retried, whatever the server's `x-should-retry` says (README: never 400/401/403/404).
 */
const neverRetriedStatuses = new Set([400, 401, 403, 404]);

/**
 * Whether a failed response deserves another attempt. Never for a status in neverRetriedStatuses, a spent
 * quota or an auth failure. Otherwise the server's `x-should-retry` (OpenAI's and Anthropic's APIs send it,
 * and their SDKs obey it) wins over the status: `false` stops a retry, `true` retries a status that is not
 * on the retryable list (a 422 the server knows to be passing).
 */
export function shouldRetryResponse(status: number, headers: Headers, details: ApiErrorDetails): boolean {
  if (neverRetriedStatuses.has(status) || details.doNotRetry || details.isAuthFailure) return false;
  const told = headers.get('x-should-retry');
  if (told === 'false') return false;
  if (told === 'true') return true;
  return isRetryableStatus(status);
}

/** Timeouts, conflicts, rate limits and server errors: worth another attempt while nothing was shown. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status !== undefined && ((status >= 500 && status <= 599) || retryableStatuses.has(status));
}

/** The wait a failed response asks for: its headers', else its body's (Gemini's RetryInfo). */
export function askedDelayMs(headers: Headers, details: ApiErrorDetails): number | undefined {
  return serverRequestedDelayMs(headers) ?? details.retryAfterMs;
}

/** The wait a server asked for (undefined, no retry, when it is too long to wait for), else the backoff. */
export function askedOrBackoffMs(askedMs: number | undefined, attempt: number): number | undefined {
  if (askedMs !== undefined) return askedMs <= longestHonouredWaitMs ? Math.max(0, askedMs) : undefined;
  return backoffMs(attempt);
}

/**
 * The failure of a request that was not retried because the server asked for a longer wait than qwen waits
 * (a daily quota, say): the hint says how long, so that a CI log tells when trying again makes sense.
 */
export function withLongWaitHint(failure: CliError, askedMs: number): CliError {
  const hint = `The server asks to wait ${describeWait(askedMs)} before another try, longer than qwen waits (${describeWait(longestHonouredWaitMs)}); try again then.`;
  return new CliError(failure.kind, failure.message, { hint, status: failure.status, cause: failure.cause });
}

/** `61 s`, `5 min`, `3 h`: rounded up, so that trying again at that time is not too early. */
function describeWait(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${Math.ceil(minutes / 60)} h`;
}

/** The wait a response asks for (`retry-after-ms`, `retry-after` in seconds or as a date); a negative number is none. */
export function serverRequestedDelayMs(headers: Headers): number | undefined {
  const milliseconds = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const retryAfter = headers.get('retry-after');
  if (!retryAfter) return undefined;
  const seconds = Number.parseFloat(retryAfter);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  // A date already past asks for no wait either: the backoff applies, as for a negative number.
  const waitMs = Date.parse(retryAfter) - Date.now();
  return Number.isFinite(waitMs) && waitMs >= 0 ? waitMs : undefined;
}

/** 0.5 s, 1 s, 2 s, ... capped at 8 s, minus up to 25 % so many clients do not retry in step. */
export function backoffMs(attempt: number): number {
  const base = Math.min(longestBackoffMs, firstBackoffMs * 2 ** (attempt - 1));
  return base * (1 - Math.random() * 0.25);
}

/**
 * Headers whose values are never secrets: the framing every request carries and the client's own headers.
 * Every other value is treated as one, whatever its name: gateways authenticate with headers no name pattern
 * foresees (Cloudflare's cf-aig-authorization, Helicone-Auth, a Cookie, X-Auth), and masking a value that
 * was no secret costs a message little.
 */
const publicHeaders = new Set([
  'accept',
  'accept-encoding',
  'anthropic-beta',
  'anthropic-version',
  'content-type',
  'openai-beta',
  'user-agent',
  'x-app',
  'x-dashscope-authtype',
  'x-dashscope-cachecontrol',
  'x-dashscope-useragent',
]);

/**
 * Every credential this request carries, for redactSecrets: servers echo keys in error bodies and in error
 * events mid-stream, and a URL may hold a password or a `?key=`.
 */
export function requestSecrets(request: HttpRequest): string[] {
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(request.headers)) {
    const lowerName = name.toLowerCase();
    if (publicHeaders.has(lowerName)) continue;
    secrets.push(value.trim());
    // `Bearer TOKEN` (or any scheme): the token alone is what a server echoes as often as the whole value.
    const credentials = /^[A-Za-z][\w-]*\s+(\S+)$/.exec(value.trim())?.[1];
    if (credentials !== undefined) secrets.push(credentials);
    // A cookie's values, each on its own: `session=...; csrf=...`.
    if (lowerName === 'cookie') {
      for (const pair of value.split(';')) secrets.push(pair.slice(pair.indexOf('=') + 1).trim());
    }
  }
  if (URL.canParse(request.url)) {
    const url = new URL(request.url);
    secrets.push(url.password);
    for (const [name, value] of url.searchParams) if (isSecretParameter(name)) secrets.push(value);
  }
  return secrets;
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return maskUrl(url);
  }
}

function failedResponse(
  status: number,
  body: string,
  parseErrorBody: (status: number, body: string) => ApiErrorDetails,
): FailedResponse {
  return { status, details: parseErrorBody(status, body), isServerError: isErrorObject(body) };
}

function isErrorObject(body: string): boolean {
  return isObject(parseJson(body));
}

/**
 * An error status that came back through a proxy with no JSON error in it (empty, an HTML page): the proxy
 * may have answered for a server it could not reach, so it is named, with the way around it.
 */
function proxiedFailure(failure: FailedResponse, host: string, proxy: ProxyNote, url: string): CliError {
  const { status, details } = failure;
  return new CliError(
    failureKind(status, details.isAuthFailure),
    `${host} answered ${status} through the proxy ${proxy.display} (from ${proxy.source}), with no error from the server in it: ${details.message}`,
    {
      status,
      hint: `The proxy may have answered for a server it could not reach; if ${new URL(url).hostname} needs no proxy, add it to ${proxy.noProxyVariable}.`,
    },
  );
}

function httpFailure(status: number, details: ApiErrorDetails, host: string): CliError {
  const kind = failureKind(status, details.isAuthFailure);
  // A refused key gets the key's advice, whatever status said so (Gemini's 400 API_KEY_INVALID).
  // An empty body leaves only the status: say so, and where to look.
  const saidNothing = details.message === statusOnlyMessage(status);
  return new CliError(
    kind,
    `${host} answered ${status}${saidNothing ? ' without saying why' : `: ${details.message}`}`,
    {
      status,
      hint:
        statusHint(kind === 'auth' ? 401 : status, details) ??
        (saidNothing ? 'Check the base URL and the model id.' : undefined),
    },
  );
}

/** A refused key or login (401, 403, or what the protocol knows to be one) is exit 41; the rest exit 1. */
export function failureKind(status: number | undefined, isAuthFailure = false): 'auth' | 'api' {
  return status === 401 || status === 403 || isAuthFailure ? 'auth' : 'api';
}

/** What to do about a failure with this status, answered over HTTP or reported inside a stream. */
export function statusHint(status: number, details: { doNotRetry?: boolean }): string | undefined {
  if (status === 401 || status === 403)
    return 'Check the API key (`qwen auth status` shows which key is used and where it comes from).';
  if (status === 429 && details.doNotRetry)
    return 'The quota of this key is spent; check the plan or billing.';
  if (status === 429) return 'Rate limited: wait a little and try again.';
  if (status === 404) return 'Check the model id and the base URL.';
  // No POST at this address: a base URL that stops short of the API's paths, or goes past them.
  if (status === 405)
    return "Check the base URL: it should be where the API's paths begin (for example https://host/v1).";
  if (status === 413)
    return 'The request is too large for this server: send a shorter prompt or less on stdin.';
  // A 407 with no proxy configured: one on the way (a transparent proxy) wants credentials.
  if (status === 407)
    return `A proxy on the way asks for a user name and password: set HTTPS_PROXY=${proxyCredentialsForm}.`;
  if (status >= 500) return 'The server failed; try again later.';
  return undefined;
}

export function abortError(signal: AbortSignal): CliError {
  const reason: unknown = signal.reason;
  if (reason instanceof CliError) return reason;
  return new CliError('cancelled', 'Cancelled.');
}

function networkFailure(error: unknown, host: string, urlSetting: string | undefined): CliError {
  const reason = describeNetworkError(error);
  const setting = urlSetting ? ` (from ${urlSetting})` : '';
  return new CliError('network', `Could not reach ${host}${setting}: ${reason}`, {
    cause: error,
    hint: 'Check the base URL, your network connection and proxy settings.',
  });
}

/** The codes along an error's cause chain (Bun: error.code, Node: error.cause.code), outermost first. */
export function errorCodes(error: unknown): string[] {
  return causesOf(error).flatMap((cause) => {
    const code = (cause as Error & { code?: unknown }).code;
    return typeof code === 'string' ? [code] : [];
  });
}

/** An error and its causes, outermost first (four deep at most): where a runtime puts the actual reason. */
export function causesOf(error: unknown): Error[] {
  const causes: Error[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    causes.push(current);
    current = current.cause;
  }
  return causes;
}

/** A readable reason for a failed connection, from the first code along the cause chain. */
export function describeNetworkError(error: unknown): string {
  const code = errorCodes(error)[0];
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ConnectionRefused: 'connection refused',
    ENOTFOUND: 'host name not found (DNS)',
    EAI_AGAIN: 'host name lookup failed (DNS)',
    ECONNRESET: 'connection reset',
    // An https:// URL on a plain-HTTP port, most often (a local vLLM, Ollama or LiteLLM).
    EPROTO: tlsHandshakeFailed,
    ConnectionClosed: 'connection closed by the server',
    ETIMEDOUT: 'connection timed out',
    FailedToOpenSocket: 'could not open a connection',
    ZlibError: 'the compressed reply could not be decompressed',
    BrotliDecompressionError: 'the compressed reply could not be decompressed',
    ZstdDecompressionError: 'the compressed reply could not be decompressed',
    Malformed_HTTP_Response: 'the reply is not valid HTTP',
    InvalidHTTPResponse: 'the reply is not valid HTTP',
  };
  if (code && Object.hasOwn(known, code)) return known[code] as string;
  // Deno gives no codes: its "fetch failed" holds the reason in the cause's words.
  const text = errorChainText(error);
  for (const [pattern, reason] of reasonsByWords) if (pattern.test(text)) return reason;
  // Bun's words name the whole URL (query and all) and advise a fetch option: neither helps here.
  const message = (error instanceof Error ? error.message : String(error))
    .replace(/ fetching "[^"]*"\.?/, '')
    .replace(/\s*For more information, pass `verbose: true`[\s\S]*$/, '')
    .trim();
  if (code === undefined || message === code) return message || 'unknown network error';
  return `${message} (${code})`;
}

const tlsHandshakeFailed =
  'the TLS handshake failed (does the server speak TLS on this port? for plain HTTP, use http://)';

/**
 * Deno's (hyper's, rustls', its decompressor's) words for the failures Bun names with codes, so that both
 * runtimes say the same: CI logs and scripts read these words.
 */
const reasonsByWords: [RegExp, string][] = [
  [/connection refused/i, 'connection refused'],
  [/dns error|failed to lookup address|name or service not known/i, 'host name not found (DNS)'],
  // A body cut off is what Bun reports as ECONNRESET.
  [
    /connection reset|error reading a body from connection|connection closed before message completed/i,
    'connection reset',
  ],
  [/timed out/i, 'connection timed out'],
  [/InvalidContentType|received corrupt message/i, tlsHandshakeFailed],
  [
    /invalid gzip header|corrupt deflate stream|invalid deflate|decompress/i,
    'the compressed reply could not be decompressed',
  ],
];

/** The messages of an error and its causes, outermost first, as one text. */
export function errorChainText(error: unknown): string {
  const causes = causesOf(error);
  return causes.length > 0 ? causes.map((cause) => cause.message).join(': ') : String(error);
}
