import { afterEach, beforeEach, expect, test } from 'bun:test';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type CredentialFiles,
  isUsable,
  obtainFreshCredentials,
  type QwenCredentials,
  readCredentials,
  withLock,
  writeCredentials,
} from '../../src/auth/token-store.ts';
import { CliError } from '../../src/core/errors.ts';

let root: string;
let files: CredentialFiles;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'token-store-'));
  const qwenHome = path.join(root, '.qwen');
  files = {
    credentials: path.join(qwenHome, 'oauth_creds.json'),
    lock: path.join(qwenHome, 'oauth_creds.lock'),
  };
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const credentials = (overrides: Partial<QwenCredentials> = {}): QwenCredentials => ({
  access_token: 'access-0',
  refresh_token: 'refresh-0',
  token_type: 'Bearer',
  resource_url: 'portal.qwen.ai',
  expiry_date: Date.now() + 3_600_000,
  ...overrides,
});

test('written in Qwen Code format: 2-space JSON, file 0600, directory 0700, no temp file left', () => {
  const value = credentials({ id_token: 'kept-unknown-field' });
  writeCredentials(files.credentials, value);
  expect(readFileSync(files.credentials, 'utf8')).toBe(`${JSON.stringify(value, null, 2)}\n`);
  expect(statSync(files.credentials).mode & 0o777).toBe(0o600);
  expect(statSync(path.dirname(files.credentials)).mode & 0o777).toBe(0o700);
  expect(readdirSync(path.dirname(files.credentials))).toEqual(['oauth_creds.json']);
  expect(readCredentials(files.credentials)).toEqual(value);
});

test('a missing, unparseable or incomplete file reads as no credentials', () => {
  expect(readCredentials(files.credentials)).toBeUndefined();
  writeCredentials(files.credentials, credentials());
  writeFileSync(files.credentials, '{ not json');
  expect(readCredentials(files.credentials)).toBeUndefined();
  writeFileSync(
    files.credentials,
    JSON.stringify({ access_token: 'a', refresh_token: 'r', token_type: 'Bearer' }),
  );
  expect(readCredentials(files.credentials)).toBeUndefined();
  writeFileSync(files.credentials, JSON.stringify({ ...credentials(), expiry_date: '123' }));
  expect(readCredentials(files.credentials)).toBeUndefined();
});

test('a file where the directory should be: no credentials to read; saving names it and the fix', () => {
  writeFileSync(path.dirname(files.credentials), 'x');
  expect(readCredentials(files.credentials)).toBeUndefined();
  expect(() => writeCredentials(files.credentials, credentials())).toThrow(
    new CliError(
      'config',
      `Cannot save the Qwen OAuth credentials: ${path.dirname(files.credentials)} is a file, not a directory.`,
    ),
  );
});

test('usable until 30 s before expiry', () => {
  const now = 1_000_000;
  expect(isUsable(credentials({ expiry_date: now + 31_000 }), now)).toBe(true);
  expect(isUsable(credentials({ expiry_date: now + 30_000 }), now)).toBe(false);
  expect(isUsable(credentials({ expiry_date: now - 1 }), now)).toBe(false);
});

test('the lock serializes holders and is removed afterwards', async () => {
  const order: string[] = [];
  const holder = (name: string) =>
    withLock(
      files.lock,
      async () => {
        order.push(`${name} in`);
        expect(readFileSync(files.lock, 'utf8')).toMatch(/^[0-9a-f-]{36}$/);
        await Bun.sleep(30);
        order.push(`${name} out`);
      },
      { initialDelayMs: 5 },
    );
  await Promise.all([holder('a'), holder('b'), holder('c')]);
  for (let index = 0; index < order.length; index += 2) {
    expect(order[index]!.replace(' in', '')).toBe(order[index + 1]!.replace(' out', ''));
  }
  expect(existsSync(files.lock)).toBe(false);
});

test('a stale lock (older than 35 s) is taken over; a fresh one makes us wait, then give up', async () => {
  writeCredentials(files.credentials, credentials());
  writeFileSync(files.lock, 'dead-process');
  const old = new Date(Date.now() - 40_000);
  utimesSync(files.lock, old, old);
  expect(await withLock(files.lock, async () => 'ran')).toBe('ran');
  expect(existsSync(files.lock)).toBe(false);

  writeFileSync(files.lock, 'live-process');
  let caught: unknown;
  try {
    await withLock(files.lock, async () => 'never', { timeoutMs: 100, initialDelayMs: 10 });
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CliError);
  expect((caught as CliError).exitCode).toBe(41);
  expect((caught as CliError).message).toContain(files.lock);
  // Someone else's lock is never removed by us.
  expect(readFileSync(files.lock, 'utf8')).toBe('live-process');
});

test('a wait for the lock is mentioned once, after about 2 s (a simulated clock)', async () => {
  writeCredentials(files.credentials, credentials());
  writeFileSync(files.lock, 'live-process');
  let clock = 0;
  let waits = 0;
  const attempt = withLock(files.lock, async () => 'ran', {
    now: () => clock,
    sleep: async (milliseconds) => {
      clock += milliseconds;
      if (clock > 5_000) rmSync(files.lock);
    },
    onWaiting: () => {
      waits += 1;
      expect(clock).toBeGreaterThanOrEqual(2_000);
    },
  });
  expect(await attempt).toBe('ran');
  expect(waits).toBe(1);
});

test('fresh credentials are used as they are: no refresh, no lock', async () => {
  writeCredentials(files.credentials, credentials());
  let refreshes = 0;
  const result = await obtainFreshCredentials({
    files,
    refresh: async (current) => {
      refreshes += 1;
      return current;
    },
  });
  expect(result?.access_token).toBe('access-0');
  expect(refreshes).toBe(0);
  expect(
    await obtainFreshCredentials({
      files: { ...files, credentials: `${files.credentials}.missing` },
      refresh: async (c) => c,
    }),
  ).toBeUndefined();
});

test('expired credentials: concurrent callers make one refresh; the others re-read the file under the lock', async () => {
  writeCredentials(files.credentials, credentials({ expiry_date: Date.now() - 1000 }));
  let refreshes = 0;
  const refresh = async (current: QwenCredentials): Promise<QwenCredentials> => {
    refreshes += 1;
    await Bun.sleep(40);
    return { ...current, access_token: `access-${refreshes}`, expiry_date: Date.now() + 3_600_000 };
  };
  const results = await Promise.all(
    Array.from({ length: 6 }, () => obtainFreshCredentials({ files, refresh, lock: { initialDelayMs: 5 } })),
  );
  expect(refreshes).toBe(1);
  expect(results.map((result) => result?.access_token)).toEqual(Array(6).fill('access-1'));
  expect(readCredentials(files.credentials)?.access_token).toBe('access-1');
});

test('after a 401 the rejected token is refreshed, unless another process already replaced it', async () => {
  writeCredentials(files.credentials, credentials({ access_token: 'rejected' }));
  let refreshes = 0;
  const refresh = async (current: QwenCredentials) => {
    refreshes += 1;
    return { ...current, access_token: 'renewed' };
  };
  expect(
    (await obtainFreshCredentials({ files, refresh, rejectedAccessToken: 'rejected' }))?.access_token,
  ).toBe('renewed');
  expect(refreshes).toBe(1);
  // The file now holds "renewed": a process that was rejected with "rejected" just uses it.
  expect(
    (await obtainFreshCredentials({ files, refresh, rejectedAccessToken: 'rejected' }))?.access_token,
  ).toBe('renewed');
  expect(refreshes).toBe(1);
});

test('a failed refresh leaves the file and releases the lock', async () => {
  writeCredentials(files.credentials, credentials({ expiry_date: 0 }));
  const failing = obtainFreshCredentials({
    files,
    refresh: async () => {
      throw new CliError('network', 'offline');
    },
  });
  await expect(failing).rejects.toThrow('offline');
  expect(existsSync(files.lock)).toBe(false);
  expect(readCredentials(files.credentials)?.access_token).toBe('access-0');
});

test('a read-only credentials file is still rewritten by a refresh, mode 0600', () => {
  writeCredentials(files.credentials, credentials());
  chmodSync(files.credentials, 0o444);
  writeCredentials(files.credentials, { ...credentials(), access_token: 'after' });
  expect(readCredentials(files.credentials)?.access_token).toBe('after');
  expect(statSync(files.credentials).mode & 0o777).toBe(0o600);
});

test.skipIf(process.getuid?.() !== 0)('root keeps the owner of the credentials file it replaces', () => {
  writeCredentials(files.credentials, credentials());
  chownSync(files.credentials, 65534, 65534);
  writeCredentials(files.credentials, { ...credentials(), access_token: 'after' });
  expect(statSync(files.credentials).uid).toBe(65534);
  expect(statSync(files.credentials).gid).toBe(65534);
  expect(readCredentials(files.credentials)?.access_token).toBe('after');
});
