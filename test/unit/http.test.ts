import { expect, test } from 'bun:test';
import { redactSecrets } from '../../src/core/redact.ts';
import {
  askedDelayMs,
  askedOrBackoffMs,
  describeNetworkError,
  requestSecrets,
  serverRequestedDelayMs,
  shouldRetryResponse,
} from '../../src/net/http.ts';
import type { ApiErrorDetails } from '../../src/protocols/adapter.ts';

test('a key echoed by the server is masked in error text', () => {
  const headers = { Authorization: 'Bearer sk-live-1234567890abcdef', 'Content-Type': 'application/json' };
  const secrets = requestSecrets({ url: 'https://api.example.com/v1', headers, body: '' });
  const text = redactSecrets('{"error":{"message":"key sk-live-1234567890abcdef is revoked"}}', secrets);
  expect(text).not.toContain('sk-live-1234567890abcdef');
  expect(text).toContain('sk-...cdef');
  const google = requestSecrets({
    url: 'https://g.example',
    headers: { 'x-goog-api-key': 'AIzaSyA-secret-value' },
    body: '',
  });
  expect(redactSecrets('x-goog AIzaSyA-secret-value', google)).not.toContain('AIzaSyA-secret-value');
});

test('the secrets of a request: every header value but the public ones, the URL password and ?key=', () => {
  const secrets = requestSecrets({
    url: 'https://user:url-password-1@g.example/v1beta/models/m:streamGenerateContent?alt=sse&key=AIzaQuery0001',
    headers: {
      authorization: 'Bearer tok-bearer-0001',
      'x-api-key': 'sk-ant-0001',
      'api-key': 'azure-key-0001',
      'X-Portkey-Api-Key': 'pk-custom-0001',
      'cf-aig-authorization': 'Bearer cf-gateway-0001',
      Cookie: 'session=cookie-0001; theme=dark',
      'x-dashscope-authtype': 'qwen-oauth',
      'content-type': 'application/json',
      'User-Agent': 'QwenCode/0.1.0 (linux; x64)',
    },
    body: '{"secret":"not read"}',
  });
  for (const secret of [
    'AIzaQuery0001',
    'azure-key-0001',
    'pk-custom-0001',
    'sk-ant-0001',
    'tok-bearer-0001',
    'url-password-1',
    'cf-gateway-0001',
    'cookie-0001',
  ]) {
    expect(secrets).toContain(secret);
  }
  for (const open of ['qwen-oauth', 'application/json', 'QwenCode/0.1.0 (linux; x64)']) {
    expect(secrets).not.toContain(open);
  }
});

test('server-requested delays: retry-after-ms, retry-after seconds and HTTP dates', () => {
  expect(serverRequestedDelayMs(new Headers({ 'retry-after-ms': '250' }))).toBe(250);
  expect(serverRequestedDelayMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
  // A negative wait is no wait asked for: the backoff applies, not an immediate retry.
  expect(serverRequestedDelayMs(new Headers({ 'retry-after': '-5' }))).toBeUndefined();
  expect(serverRequestedDelayMs(new Headers({ 'retry-after-ms': '-1', 'retry-after': '3' }))).toBe(3000);
  expect(
    serverRequestedDelayMs(new Headers({ 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' })),
  ).toBeUndefined();
  const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
  const fromDate = serverRequestedDelayMs(new Headers({ 'retry-after': inTenSeconds })) ?? 0;
  expect(fromDate).toBeGreaterThan(8000);
  expect(fromDate).toBeLessThanOrEqual(10_000);
  expect(serverRequestedDelayMs(new Headers())).toBeUndefined();
});

test('retry delays: server hint wins, too-long waits are not waited for, backoff grows with jitter', () => {
  const retryDelayMs = (headers: Headers, details: ApiErrorDetails, attempt: number) =>
    askedOrBackoffMs(askedDelayMs(headers, details), attempt);
  expect(retryDelayMs(new Headers({ 'retry-after-ms': '30' }), { message: '' }, 1)).toBe(30);
  expect(retryDelayMs(new Headers(), { message: '', retryAfterMs: 1500 }, 1)).toBe(1500);
  expect(retryDelayMs(new Headers({ 'retry-after': '600' }), { message: '' }, 1)).toBeUndefined();
  for (let attempt = 1; attempt <= 6; attempt += 1) {
    const delay = retryDelayMs(new Headers(), { message: '' }, attempt) ?? -1;
    const base = Math.min(8000, 500 * 2 ** (attempt - 1));
    expect(delay).toBeGreaterThanOrEqual(base * 0.75);
    expect(delay).toBeLessThanOrEqual(base);
  }
});

test('x-should-retry: false stops any retry, true retries only what is not on the never-retry list', () => {
  const told = (value?: string) => new Headers(value === undefined ? {} : { 'x-should-retry': value });
  const plain = { message: 'm' };
  expect(shouldRetryResponse(503, told(), plain)).toBe(true);
  expect(shouldRetryResponse(503, told('false'), plain)).toBe(false);
  expect(shouldRetryResponse(422, told(), plain)).toBe(false);
  expect(shouldRetryResponse(422, told('true'), plain)).toBe(true);
  expect(shouldRetryResponse(409, told('true'), plain)).toBe(true);
  for (const status of [400, 401, 403, 404]) {
    expect(shouldRetryResponse(status, told('true'), plain)).toBe(false);
  }
  const spentQuota = { message: 'quota', code: 'insufficient_quota', doNotRetry: true };
  expect(shouldRetryResponse(429, told(), plain)).toBe(true);
  expect(shouldRetryResponse(429, told('true'), spentQuota)).toBe(false);
  expect(shouldRetryResponse(500, told('true'), { message: 'm', isAuthFailure: true })).toBe(false);
});

test("Deno's words for a network failure give the reason Bun's codes give", () => {
  const denoError = (inner: string) => new TypeError('fetch failed', { cause: new Error(inner) });
  const handshake = describeNetworkError(
    denoError(
      'error sending request for url (https://127.0.0.1:9/v1/chat/completions): client error (Connect): received corrupt message of type InvalidContentType',
    ),
  );
  expect(handshake).toBe(
    describeNetworkError(Object.assign(new Error('The TLS handshake failed.'), { code: 'EPROTO' })),
  );
  expect(handshake).toContain('the TLS handshake failed (does the server speak TLS on this port?');
  expect(describeNetworkError(denoError('error reading a body from connection'))).toBe(
    describeNetworkError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })),
  );
  expect(describeNetworkError(new TypeError('Invalid gzip header'))).toBe(
    describeNetworkError(Object.assign(new Error('zlib'), { code: 'ZlibError' })),
  );
});

test("a network error in Bun's words loses the URL it quotes and the advice about fetch options", () => {
  const bunError = (code: string) =>
    Object.assign(
      new Error(
        `${code} fetching "http://127.0.0.1:9/v1/chat/completions?key=sk-SECRET123456". For more information, pass \`verbose: true\` in the second argument to fetch()`,
      ),
      { code },
    );
  expect(describeNetworkError(bunError('ZlibError'))).toBe('the compressed reply could not be decompressed');
  expect(describeNetworkError(bunError('Malformed_HTTP_Response'))).toBe('the reply is not valid HTTP');
  expect(describeNetworkError(bunError('SomethingNew'))).toBe('SomethingNew');
  const worded = Object.assign(new Error('socket hang up fetching "http://h/?key=sk-SECRET123456"'), {
    code: 'EPIPE',
  });
  expect(describeNetworkError(worded)).toBe('socket hang up (EPIPE)');
  // Object's own property names are no known code.
  expect(describeNetworkError(Object.assign(new Error('odd'), { code: 'constructor' }))).toBe(
    'odd (constructor)',
  );
});
