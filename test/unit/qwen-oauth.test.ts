import { afterEach, expect, test } from 'bun:test';
import {
  credentialsFromToken,
  pkceChallenge,
  qwenOauthBaseUrl,
  qwenOauthClientId,
  RefreshRejectedError,
  refreshCredentials,
  resourceBaseUrl,
  runDeviceLogin,
} from '../../src/auth/qwen-oauth.ts';
import type { QwenCredentials } from '../../src/auth/token-store.ts';
import { CliError, oneLine } from '../../src/core/errors.ts';
import { maskSecret } from '../../src/core/redact.ts';
import { createTransport } from '../../src/net/transport.ts';
import {
  type FakeOAuthOptions,
  type FakeOAuthServer,
  fakeUserCode,
  startFakeOAuth,
} from '../fakes/oauth-server.ts';

let fake: FakeOAuthServer | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function start(options: FakeOAuthOptions): FakeOAuthServer {
  fake = startFakeOAuth(options);
  return fake;
}

async function login(server: FakeOAuthServer, extra: { onSlowDown?: (ms: number) => void } = {}) {
  const shown: string[] = [];
  try {
    const credentials = await runDeviceLogin({
      env: { QWEN_OAUTH_BASE_URL: `${server.url}/` },
      onAuthorization: (authorization) => {
        shown.push(authorization.userCode, authorization.verificationUriComplete);
      },
      ...extra,
    });
    return { credentials, shown };
  } catch (error) {
    return { error: error as CliError, shown };
  }
}

test('PKCE S256 challenge matches RFC 7636 appendix B', async () => {
  expect(await pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  );
});

test('base URLs: QWEN_OAUTH_BASE_URL override, resource_url completed with https:// and /v1', () => {
  expect(qwenOauthBaseUrl({})).toBe('https://chat.qwen.ai');
  expect(qwenOauthBaseUrl({ QWEN_OAUTH_BASE_URL: 'http://127.0.0.1:9/' })).toBe('http://127.0.0.1:9');
  expect(resourceBaseUrl('portal.qwen.ai')).toBe('https://portal.qwen.ai/v1');
  expect(resourceBaseUrl('https://portal.qwen.ai/v1/')).toBe('https://portal.qwen.ai/v1');
  expect(resourceBaseUrl('http://127.0.0.1:8080/v1')).toBe('http://127.0.0.1:8080/v1');
  expect(resourceBaseUrl(undefined)).toBe('https://dashscope.aliyuncs.com/compatible-mode/v1');
  expect(resourceBaseUrl('  ')).toBe('https://dashscope.aliyuncs.com/compatible-mode/v1');
});

test('device login: pending, then success; the code and URL are handed over; the verifier matches', async () => {
  const server = start({
    pollOutcomes: ['pending', 'pending', 'success'],
    interval: 0.01,
    resourceUrl: 'portal.qwen.ai',
  });
  const before = Date.now();
  const { credentials, shown } = await login(server);
  expect(shown).toEqual([fakeUserCode, `${server.url}/authorize?user_code=${fakeUserCode}&client=qwen-code`]);
  expect(credentials).toMatchObject({
    access_token: 'access-1',
    refresh_token: 'refresh-1',
    token_type: 'Bearer',
    resource_url: 'portal.qwen.ai',
  });
  expect(credentials!.expiry_date).toBeGreaterThanOrEqual(before + 3_600_000);
  expect(server.pollCount).toBe(3);
  const [device, ...polls] = server.requests;
  expect(device!.form).toMatchObject({
    client_id: qwenOauthClientId,
    scope: 'openid profile email model.completion',
  });
  expect(device!.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(await pkceChallenge(polls[0]!.form['code_verifier']!)).toBe(device!.form['code_challenge']!);
  expect(polls.every((poll) => poll.form['device_code'] === 'device-code-1')).toBe(true);
});

test('slow_down multiplies the interval by 1.5', async () => {
  const server = start({ pollOutcomes: ['slow_down', 'slow_down', 'success'], interval: 0.01 });
  const intervals: number[] = [];
  const { credentials } = await login(server, { onSlowDown: (ms) => intervals.push(ms) });
  expect(credentials?.access_token).toBe('access-1');
  expect(intervals).toEqual([15, 22.5]);
});

test('denied, expired_token and running out of time each end with a clear auth error', async () => {
  const denied = await login(start({ pollOutcomes: ['pending', 'denied'], interval: 0.01 }));
  expect(denied.error?.message).toBe('The login was denied in the browser.');
  expect(denied.error?.exitCode).toBe(41);
  await fake?.stop();

  const expired = await login(start({ pollOutcomes: ['expired'], interval: 0.01 }));
  expect(expired.error?.message).toBe('The login code expired before it was approved.');
  await fake?.stop();

  const timedOut = await login(start({ pollOutcomes: ['pending'], interval: 0.02, expiresIn: 0.1 }));
  expect(timedOut.error?.message).toBe('The login code expired before it was approved.');
  expect(fake!.pollCount).toBeLessThanOrEqual(6);
});

test('a device-code answer that lacks fields names the ones missing', async () => {
  const { error } = await login(
    start({ deviceCodeAnswer: { status: 200, body: () => ({ device_code: 'd' }) } }),
  );
  expect(error?.message).toBe(
    "Device authorization failed: the server's answer has no user_code, verification_uri.",
  );
  expect(error?.exitCode).toBe(41);
});

test('a login server (or a proxy before it) that never answers ends the login with a message, not a hang', async () => {
  const silent = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  try {
    const error = await runDeviceLogin({
      env: { QWEN_OAUTH_BASE_URL: `http://127.0.0.1:${silent.port}` },
      onAuthorization: () => undefined,
      requestTimeoutMs: 200,
    }).catch((caught: unknown) => caught as CliError);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe(
      `Could not reach 127.0.0.1:${silent.port} (from QWEN_OAUTH_BASE_URL): no answer within 0.2 s.`,
    );
    expect((error as CliError).exitCode).toBe(1);
  } finally {
    silent.stop(true);
  }
});

test('a refresh that waits in vain on a proxy names the proxy (masked) and NO_PROXY', async () => {
  // A proxy that takes the connection and never answers.
  const silent = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  try {
    const transport = createTransport({
      env: (name) =>
        name === 'HTTP_PROXY' ? `http://carol:hush-77-pass@127.0.0.1:${silent.port}` : undefined,
      warn: () => undefined,
    });
    const current: QwenCredentials = {
      access_token: 'old',
      refresh_token: 'refresh-old',
      token_type: 'Bearer',
      expiry_date: 0,
    };
    const error = await refreshCredentials(current, {
      env: { QWEN_OAUTH_BASE_URL: 'http://oauth.example.invalid' },
      fetchImplementation: transport.fetchImplementation,
      requestTimeoutMs: 200,
    }).catch((caught: unknown) => caught as CliError);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe(
      `Could not refresh the Qwen OAuth token: Could not reach oauth.example.invalid (from QWEN_OAUTH_BASE_URL): no answer within 0.2 s (through the proxy http://127.0.0.1:${silent.port} from HTTP_PROXY, which may be what is not answering).`,
    );
    expect((error as CliError).hint).toContain(
      'If oauth.example.invalid needs no proxy, add it to NO_PROXY.',
    );
  } finally {
    silent.stop(true);
  }
});

test('server errors while polling are survived', async () => {
  const { credentials } = await login(
    start({ pollOutcomes: ['server_error', 'pending', 'success'], interval: 0.01 }),
  );
  expect(credentials?.access_token).toBe('access-1');
});

test('refresh: new token, old refresh token kept when none is returned; 400 means log in again', async () => {
  const server = start({ refreshOutcomes: ['success', 'rejected', 'server_error'] });
  const env = { QWEN_OAUTH_BASE_URL: server.url };
  const current: QwenCredentials = {
    access_token: 'old',
    refresh_token: 'refresh-old',
    token_type: 'Bearer',
    resource_url: 'portal.qwen.ai',
    expiry_date: 0,
  };
  const renewed = await refreshCredentials(current, { env });
  expect(renewed).toMatchObject({
    access_token: 'access-1',
    refresh_token: 'refresh-1',
    resource_url: 'portal.qwen.ai',
  });
  expect(server.requests[0]!.form).toEqual({
    grant_type: 'refresh_token',
    refresh_token: 'refresh-old',
    client_id: qwenOauthClientId,
  });
  await expect(refreshCredentials(current, { env })).rejects.toBeInstanceOf(RefreshRejectedError);
  const failure = await refreshCredentials(current, { env }).catch((error: CliError) => error);
  expect(failure).toBeInstanceOf(CliError);
  expect((failure as CliError).exitCode).toBe(1);
  expect((failure as CliError).message).toBe(
    `Could not refresh the Qwen OAuth token: ${new URL(server.url).host} answered HTTP 502: upstream down.`,
  );

  expect(credentialsFromToken({ access_token: 'a' }, 0, current).refresh_token).toBe('refresh-old');
});

test('a refresh answered 502 with no body names the host, without a stray " ."', async () => {
  const server = start({ refreshOutcomes: [{ status: 502, body: () => undefined }] });
  const current: QwenCredentials = {
    access_token: 'old',
    refresh_token: 'refresh-old',
    token_type: 'Bearer',
    expiry_date: 0,
  };
  const failure = await refreshCredentials(current, { env: { QWEN_OAUTH_BASE_URL: server.url } }).catch(
    (error: CliError) => error,
  );
  expect(oneLine(failure as CliError)).toBe(
    `Could not refresh the Qwen OAuth token: ${new URL(server.url).host} answered HTTP 502. Try again later.`,
  );
});

test('failure messages built from a token endpoint answer mask what was sent and what came back', async () => {
  const refreshToken = 'qort-REFRESH-SECRET-0001';
  // Past the 200 characters a message keeps: a token cut in two must not escape the masking.
  const padding = 'x'.repeat(150);
  const server = start({
    refreshOutcomes: [
      {
        status: 500,
        body: (form) => ({ error_description: `${padding} refresh token ${form['refresh_token']} is bad` }),
      },
    ],
    pollOutcomes: [
      {
        status: 400,
        body: (form) => ({
          error: 'invalid_grant',
          error_description: `${form['code_verifier']} does not fit; issued qoat-ACCESS-0002`,
          access_token: 'qoat-ACCESS-0002',
        }),
      },
    ],
    interval: 0.01,
  });
  const current: QwenCredentials = {
    access_token: 'qoat-OLD-0001',
    refresh_token: refreshToken,
    token_type: 'Bearer',
    expiry_date: 0,
  };
  const refresh = await refreshCredentials(current, { env: { QWEN_OAUTH_BASE_URL: server.url } }).catch(
    (error: CliError) => error,
  );
  expect((refresh as CliError).message).toStartWith(
    `Could not refresh the Qwen OAuth token: ${new URL(server.url).host} answered HTTP 500: {`,
  );
  expect((refresh as CliError).message).not.toContain('SECRET');

  const { error } = await login(server);
  const verifier = server.requests.at(-1)?.form['code_verifier'] ?? 'missing';
  expect(error?.message).toBe(
    `Qwen OAuth login failed: invalid_grant (${maskSecret(verifier)} does not fit; issued qoat-...0002).`,
  );
});
