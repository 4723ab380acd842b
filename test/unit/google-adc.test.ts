import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clearGoogleTokenCache,
  cloudPlatformScope,
  googleAccessToken,
  googleCredentialsPath,
} from '../../src/auth/google-adc.ts';
import { oneLine } from '../../src/core/errors.ts';
import {
  type FakeGoogleToken,
  jwtBearerGrant,
  privateKeyPem,
  rsaKeyPair,
  startFakeGoogleToken,
} from '../fakes/google-token-server.ts';
import { caught } from './helpers.ts';

const clientEmail = 'qwen-lite-test@my-project.iam.gserviceaccount.com';

let directory: string;
let keyPair: CryptoKeyPair;
let serviceAccountPem: string;
let tokenServer: FakeGoogleToken;

function writeJson(path: string, value: unknown): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

function serviceAccountFile(name: string, overrides: Record<string, unknown> = {}): string {
  return writeJson(join(directory, name), {
    type: 'service_account',
    project_id: 'my-project',
    private_key_id: 'a1b2c3d4e5f6',
    private_key: serviceAccountPem,
    client_email: clientEmail,
    client_id: '109876543210987654321',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenServer.tokenUrl,
    ...overrides,
  });
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'qwen-adc-'));
  keyPair = await rsaKeyPair();
  serviceAccountPem = await privateKeyPem(keyPair.privateKey);
  tokenServer = startFakeGoogleToken({
    publicKey: keyPair.publicKey,
    clientEmail,
    clientId: '764086051850-fake.apps.googleusercontent.com',
    clientSecret: 'd-FL95Q19q7MQmFpd7hHD0Ty',
    refreshToken: '1//0gFakeRefreshToken',
    expiresIn: 3599,
  });
});

afterAll(async () => {
  await tokenServer.stop();
  rmSync(directory, { recursive: true, force: true });
});

beforeEach(() => {
  clearGoogleTokenCache();
  tokenServer.requests.length = 0;
});

describe('service_account files', () => {
  test('an RS256 JWT, verified with the public key, is exchanged for a token', async () => {
    const path = serviceAccountFile('service-account.json');
    const now = 1_764_200_000_000;
    const token = await googleAccessToken({
      env: { GOOGLE_APPLICATION_CREDENTIALS: path },
      home: directory,
      now: () => now,
    });
    expect(token).toMatch(/^ya29\.fake-\d+$/);
    const [request] = tokenServer.requests;
    expect(request?.contentType).toBe('application/x-www-form-urlencoded');
    expect(request?.form['grant_type']).toBe(jwtBearerGrant);
    expect(request?.assertion?.signatureValid).toBe(true);
    expect(request?.assertion?.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'a1b2c3d4e5f6' });
    expect(request?.assertion?.claims).toEqual({
      iss: clientEmail,
      scope: cloudPlatformScope,
      aud: tokenServer.tokenUrl,
      iat: now / 1000,
      exp: now / 1000 + 3600,
    });
  });

  test('the token is cached until 60 s before it expires', async () => {
    const path = serviceAccountFile('cached.json');
    let now = 1_764_200_000_000;
    const options = { env: { GOOGLE_APPLICATION_CREDENTIALS: path }, home: directory, now: () => now };
    const first = await googleAccessToken(options);
    now += (3599 - 61) * 1000;
    expect(await googleAccessToken(options)).toBe(first);
    expect(tokenServer.requests).toHaveLength(1);
    now += 2000;
    const second = await googleAccessToken(options);
    expect(second).not.toBe(first);
    expect(tokenServer.requests).toHaveLength(2);
  });

  test('concurrent callers share one exchange', async () => {
    const path = serviceAccountFile('concurrent.json');
    const options = { env: { GOOGLE_APPLICATION_CREDENTIALS: path }, home: directory };
    const tokens = await Promise.all([
      googleAccessToken(options),
      googleAccessToken(options),
      googleAccessToken(options),
    ]);
    expect(new Set(tokens).size).toBe(1);
    expect(tokenServer.requests).toHaveLength(1);
  });

  test('a signature made with another key is refused with the endpoint’s description', async () => {
    const other = await rsaKeyPair();
    const path = serviceAccountFile('wrong-key.json', {
      private_key: await privateKeyPem(other.privateKey),
    });
    const error = await caught(
      googleAccessToken({ env: { GOOGLE_APPLICATION_CREDENTIALS: path }, home: directory }),
    );
    expect(error.kind).toBe('auth');
    expect(error.exitCode).toBe(41);
    expect(error.message).toContain('Invalid JWT Signature.');
    expect(error.message).toContain(path);
  });

  test('a damaged private key is an auth error, not a crash', async () => {
    const path = serviceAccountFile('damaged.json', {
      private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
    });
    const error = await caught(
      googleAccessToken({ env: { GOOGLE_APPLICATION_CREDENTIALS: path }, home: directory }),
    );
    expect(error.kind).toBe('auth');
    expect(error.message).toContain('private_key');
    expect(tokenServer.requests).toHaveLength(0);
  });

  test('a relative GOOGLE_APPLICATION_CREDENTIALS is resolved against cwd', async () => {
    serviceAccountFile('relative.json');
    const token = await googleAccessToken({
      env: { GOOGLE_APPLICATION_CREDENTIALS: 'relative.json' },
      home: '/nonexistent',
      cwd: directory,
    });
    expect(token).toMatch(/^ya29\./);
  });
});

describe('authorized_user files (gcloud auth application-default login)', () => {
  function gcloudFile(home: string, overrides: Record<string, unknown> = {}): string {
    return writeJson(join(home, '.config', 'gcloud', 'application_default_credentials.json'), {
      account: '',
      client_id: '764086051850-fake.apps.googleusercontent.com',
      client_secret: 'd-FL95Q19q7MQmFpd7hHD0Ty',
      quota_project_id: 'my-project',
      refresh_token: '1//0gFakeRefreshToken',
      type: 'authorized_user',
      universe_domain: 'googleapis.com',
      token_uri: tokenServer.tokenUrl,
      ...overrides,
    });
  }

  test('the well-known file under HOME is used, with a refresh-token exchange', async () => {
    const home = join(directory, 'home-ok');
    gcloudFile(home);
    const token = await googleAccessToken({ env: {}, home });
    expect(token).toMatch(/^ya29\./);
    expect(tokenServer.requests[0]?.form).toEqual({
      grant_type: 'refresh_token',
      client_id: '764086051850-fake.apps.googleusercontent.com',
      client_secret: 'd-FL95Q19q7MQmFpd7hHD0Ty',
      refresh_token: '1//0gFakeRefreshToken',
    });
  });

  test('a revoked refresh token: the endpoint’s description and a hint to log in again', async () => {
    const home = join(directory, 'home-revoked');
    gcloudFile(home, { refresh_token: '1//0gRevoked' });
    const error = await caught(googleAccessToken({ env: {}, home }));
    expect(error.kind).toBe('auth');
    expect(error.message).toContain('Token has been expired or revoked.');
    expect(error.hint).toContain('gcloud auth application-default login');
  });

  test('a description quoting the client secret and the refresh token sent shows them masked', async () => {
    const home = join(directory, 'home-echo');
    gcloudFile(home);
    tokenServer.failNext({
      status: 400,
      body: {
        error: 'invalid_client',
        error_description:
          'refresh token 1%2F%2F0gFakeRefreshToken of client d-FL95Q19q7MQmFpd7hHD0Ty is revoked',
      },
    });
    const error = await caught(googleAccessToken({ env: {}, home }));
    expect(error.message).toEndWith(': refresh token 1//...oken of client d-...D0Ty is revoked');
  });

  test('CLOUDSDK_CONFIG moves the gcloud directory', () => {
    expect(googleCredentialsPath({ env: { CLOUDSDK_CONFIG: '/opt/gcloud' }, home: '/home/u' }).path).toBe(
      '/opt/gcloud/application_default_credentials.json',
    );
    expect(googleCredentialsPath({ env: {}, home: '/home/u', platform: 'linux' }).path).toBe(
      '/home/u/.config/gcloud/application_default_credentials.json',
    );
    expect(
      googleCredentialsPath({
        env: { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' },
        home: 'C:\\Users\\u',
        platform: 'win32',
      }).path,
    ).toContain('gcloud');
  });

  test('a fetchImplementation is used for the exchange', async () => {
    const home = join(directory, 'home-fetch');
    gcloudFile(home);
    const seen: string[] = [];
    const fetchImplementation = ((input: string | URL | Request, init?: RequestInit) => {
      seen.push(String(input));
      return fetch(input, init);
    }) as typeof fetch;
    await googleAccessToken({ env: {}, home, fetchImplementation });
    expect(seen).toEqual([tokenServer.tokenUrl]);
  });
});

describe('failures', () => {
  test('no credentials at all: say how to get some', async () => {
    const error = await caught(googleAccessToken({ env: {}, home: join(directory, 'nobody') }));
    expect(error.kind).toBe('auth');
    expect(error.exitCode).toBe(41);
    expect(error.hint).toContain('gcloud auth application-default login');
    expect(error.hint).toContain('GOOGLE_APPLICATION_CREDENTIALS');
    expect(error.hint).toContain('GOOGLE_API_KEY');
  });

  test('GOOGLE_APPLICATION_CREDENTIALS naming a missing file says which file', async () => {
    const path = join(directory, 'missing.json');
    const error = await caught(
      googleAccessToken({ env: { GOOGLE_APPLICATION_CREDENTIALS: path }, home: directory }),
    );
    expect(error.kind).toBe('auth');
    expect(error.message).toContain(path);
    expect(error.message).toContain('GOOGLE_APPLICATION_CREDENTIALS');
  });

  test('unsupported and broken files', async () => {
    const external = writeJson(join(directory, 'external.json'), { type: 'external_account', audience: 'x' });
    const unsupported = await caught(
      googleAccessToken({ env: { GOOGLE_APPLICATION_CREDENTIALS: external }, home: directory }),
    );
    expect(unsupported.message).toContain('external_account');
    const broken = join(directory, 'broken.json');
    writeFileSync(broken, '{ not json');
    expect(
      (await caught(googleAccessToken({ env: { GOOGLE_APPLICATION_CREDENTIALS: broken }, home: directory })))
        .message,
    ).toContain('not a JSON credentials file');
    const incomplete = writeJson(join(directory, 'incomplete.json'), {
      type: 'authorized_user',
      client_id: 'x',
    });
    expect(
      (
        await caught(
          googleAccessToken({ env: { GOOGLE_APPLICATION_CREDENTIALS: incomplete }, home: directory }),
        )
      ).message,
    ).toContain('client_secret, refresh_token');
  });

  test('a 5xx or 429 from the token endpoint (or a proxy before it) is a failure to retry later, not a refusal', async () => {
    const path = serviceAccountFile('server-error.json');
    for (const status of [503, 502, 429]) {
      tokenServer.failNext({ status, body: { error: 'temporarily_unavailable' } });
      const error = await caught(
        googleAccessToken({ env: { GOOGLE_APPLICATION_CREDENTIALS: path }, home: directory }),
      );
      expect(error.message).toContain('could not give a Google access token');
      expect(error.message).toContain('temporarily_unavailable');
      expect(error.status).toBe(status);
      expect(error.exitCode).toBe(1);
      expect(error.hint).toContain('Try again later');
    }
  });

  test("an unreachable token endpoint is a network error, in words (not the runtime's)", async () => {
    const closed = startFakeGoogleToken();
    const url = closed.tokenUrl;
    await closed.stop();
    const path = serviceAccountFile('unreachable.json', { token_uri: url });
    const error = await caught(
      googleAccessToken({ env: { GOOGLE_APPLICATION_CREDENTIALS: path }, home: directory }),
    );
    expect(error.kind).toBe('network');
    expect(error.exitCode).toBe(1);
    expect(error.message).toBe(
      `Could not reach ${new URL(url).host} to get a Google access token: connection refused.`,
    );
  });

  test('a token_uri that is no URL names the file and the field; nothing is sent', async () => {
    const path = serviceAccountFile('not-a-url.json', { token_uri: 'not a url' });
    const error = await caught(
      googleAccessToken({ env: { GOOGLE_APPLICATION_CREDENTIALS: path }, home: directory }),
    );
    expect(error.exitCode).toBe(41);
    expect(oneLine(error)).toBe(
      `${path}: token_uri "not a url" is not a valid http(s) URL. Fix token_uri in that file (Google's is https://oauth2.googleapis.com/token), or remove it.`,
    );
    expect(tokenServer.requests).toHaveLength(0);
  });

  test('GOOGLE_APPLICATION_CREDENTIALS naming a directory says so in words', async () => {
    const error = await caught(
      googleAccessToken({ env: { GOOGLE_APPLICATION_CREDENTIALS: directory }, home: directory }),
    );
    expect(error.exitCode).toBe(41);
    expect(error.message).toBe(
      `Cannot read ${directory} (GOOGLE_APPLICATION_CREDENTIALS names it): it is a directory.`,
    );
  });
});
