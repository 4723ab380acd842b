// `qwen auth ...` and Qwen OAuth headless runs end to end: the real CLI in separate processes, a fake
// chat.qwen.ai (QWEN_OAUTH_BASE_URL) and a fake OpenAI-compatible server that resource_url points at.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { codingPlanModels } from '../../src/auth/coding-plan.ts';
import { startConnectProxy } from '../fakes/connect-proxy.ts';
import { privateKeyPem, rsaKeyPair } from '../fakes/google-token-server.ts';
import {
  type FakeOAuthOptions,
  type FakeOAuthServer,
  fakeUserCode,
  startFakeOAuth,
} from '../fakes/oauth-server.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import {
  canRunAsAnotherUser,
  giveToAnotherUser,
  makeSandbox,
  type RunOptions,
  runAsAnotherUser,
  runCli,
  type Sandbox,
} from './harness.ts';

let chat: FakeOpenAi;
let oauth: FakeOAuthServer | undefined;
let sandbox: Sandbox;

beforeEach(() => {
  sandbox = makeSandbox();
  chat = startFakeOpenAi([{ stream: { text: ['Hello', ' from', ' Qwen.'] } }]);
});
afterEach(async () => {
  await oauth?.stop();
  oauth = undefined;
  await chat.stop();
  sandbox.cleanup();
});

const credentialsPath = () => path.join(sandbox.qwenHome, 'oauth_creds.json');
const lockPath = () => path.join(sandbox.qwenHome, 'oauth_creds.lock');

function startOAuth(options: FakeOAuthOptions = {}): FakeOAuthServer {
  oauth = startFakeOAuth({ interval: 0.02, resourceUrl: chat.url, ...options });
  return oauth;
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { QWEN_OAUTH_BASE_URL: oauth?.url ?? 'http://127.0.0.1:9', NO_BROWSER: '1', ...extra };
}

function qwen(args: string[], options: Pick<RunOptions, 'stdin' | 'env' | 'timeoutMs' | 'signal'> = {}) {
  return runCli(args, { ...options, sandbox, env: env(options.env) });
}

/** Writes oauth_creds.json as Qwen Code would. */
function cacheCredentials(fields: { access: string; expiresInMs: number; resourceUrl?: string }): void {
  sandbox.write('home/.qwen/oauth_creds.json', {
    access_token: fields.access,
    refresh_token: 'refresh-cached',
    token_type: 'Bearer',
    resource_url: fields.resourceUrl ?? chat.url,
    expiry_date: Date.now() + fields.expiresInMs,
  });
}

const readCredentials = () => JSON.parse(readFileSync(credentialsPath(), 'utf8'));
const authorizations = () => chat.requests.map((request) => request.headers.authorization);

describe('qwen auth qwen-oauth (device flow)', () => {
  test('pending then approved: credentials cached 0600 in a 0700 directory, URL and code on stderr', async () => {
    const server = startOAuth({ pollOutcomes: ['pending', 'pending', 'success'] });
    const result = await qwen(['auth', 'qwen-oauth']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`${server.url}/authorize?user_code=${fakeUserCode}&client=qwen-code`);
    expect(result.stderr).toContain(`Code: ${fakeUserCode}`);
    expect(result.stderr).toContain('No browser opened: NO_BROWSER is set');
    expect(result.stdout).toContain(`Credentials saved to ${credentialsPath()}`);
    expect(server.pollCount).toBe(3);

    const saved = readCredentials();
    expect(saved).toMatchObject({
      access_token: 'access-1',
      refresh_token: 'refresh-1',
      token_type: 'Bearer',
      resource_url: chat.url,
    });
    expect(saved.expiry_date).toBeGreaterThan(Date.now() + 3_500_000);
    expect(statSync(credentialsPath()).mode & 0o777).toBe(0o600);
    expect(statSync(sandbox.qwenHome).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(path.join(sandbox.qwenHome, 'settings.json'), 'utf8'))).toEqual({
      security: { auth: { selectedType: 'qwen-oauth' } },
    });

    // Every later headless run uses the cached token, with no flags at all.
    const answer = await qwen(['say hello']);
    expect(answer).toMatchObject({ exitCode: 0, stdout: 'Hello from Qwen.\n' });
    const request = chat.requests.at(-1)!;
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe('Bearer access-1');
    expect(request.headers['x-dashscope-authtype']).toBe('qwen-oauth');
    expect(request.headers['x-dashscope-cachecontrol']).toBe('enable');
    expect(request.headers['x-dashscope-useragent']).toMatch(/^QwenCode\//);
    expect((request.body as { model: string }).model).toBe('coder-model');
    expect(server.refreshCount).toBe(0);
  });

  test('a file where the credentials directory should be: one line naming it and the fix, exit 52, before the login', async () => {
    const server = startOAuth();
    writeFileSync(sandbox.qwenHome, 'not a directory\n');
    const result = await qwen(['auth', 'qwen-oauth']);
    expect(result).toEqual({
      exitCode: 52,
      stdout: '',
      stderr: `qwen: Cannot save the Qwen OAuth credentials: ${sandbox.qwenHome} is a file, not a directory. Move or rename it, then try again.\n`,
    });
    // Found before the user was sent to the browser: no approval is thrown away.
    expect(server.requests).toEqual([]);
    expect(result.stderr).not.toContain('EEXIST');
    expect(readFileSync(sandbox.qwenHome, 'utf8')).toBe('not a directory\n');
  });

  test('slow_down: polling slows and the login still succeeds', async () => {
    const server = startOAuth({ pollOutcomes: ['slow_down', 'slow_down', 'success'] });
    const result = await qwen(['auth', 'qwen-oauth']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('The server asked to poll less often');
    expect(server.pollCount).toBe(3);
    expect(existsSync(credentialsPath())).toBe(true);
  });

  test('denied in the browser: exit 41, clear message, nothing cached', async () => {
    startOAuth({ pollOutcomes: ['pending', 'denied'] });
    const result = await qwen(['auth', 'qwen-oauth']);
    expect(result.exitCode).toBe(41);
    expect(result.stderr).toContain('The login was denied in the browser.');
    expect(existsSync(credentialsPath())).toBe(false);
  });

  test('expired: by the server (expired_token) and by running out of time, exit 41', async () => {
    startOAuth({ pollOutcomes: ['pending', 'expired'] });
    const byServer = await qwen(['auth', 'qwen-oauth']);
    expect(byServer.exitCode).toBe(41);
    expect(byServer.stderr).toContain('The login code expired before it was approved.');
    await oauth?.stop();

    startOAuth({ pollOutcomes: ['pending'], expiresIn: 0.3 });
    const byTime = await qwen(['auth', 'qwen-oauth']);
    expect(byTime.exitCode).toBe(41);
    expect(byTime.stderr).toContain('The login code expired before it was approved.');
    expect(existsSync(credentialsPath())).toBe(false);
  });

  test('a login server in trouble: said once while polling goes on; an expiry during it says so', async () => {
    startOAuth({ pollOutcomes: ['server_error', 'server_error', 'pending', 'success'] });
    const recovered = await qwen(['auth', 'qwen-oauth']);
    expect(recovered.exitCode).toBe(0);
    const notes = recovered.stderr.split('\n').filter((line) => line.startsWith('Still waiting'));
    expect(notes).toEqual([expect.stringContaining('Still waiting: the login server answered 5')]);
    await oauth?.stop();

    startOAuth({ pollOutcomes: ['server_error'], expiresIn: 0.3 });
    const failed = await qwen(['auth', 'qwen-oauth']);
    expect(failed.exitCode).toBe(41);
    expect(failed.stderr).toContain('(valid for about 1 s)');
    expect(failed.stderr).toContain('The login code expired while the login server answered 5');
    expect(failed.stderr).toContain('Try `qwen auth qwen-oauth` again later');
  });
});

describe('qwen auth qwen-oauth after another provider', () => {
  test("the earlier provider's model.name is removed (Qwen OAuth serves one model), so runs do not warn", async () => {
    startOAuth({ pollOutcomes: ['success'] });
    sandbox.userSettings({
      security: { auth: { selectedType: 'openai' } },
      model: { name: 'gpt-x', baseUrl: 'http://127.0.0.1:9/v1' },
      modelProviders: { openai: [{ id: 'gpt-x', baseUrl: 'http://127.0.0.1:9/v1', envKey: 'X_KEY' }] },
    });
    const login = await qwen(['auth', 'qwen-oauth']);
    expect(login.exitCode).toBe(0);
    expect(login.stdout).toContain(
      `model.name "gpt-x" from ${path.join(sandbox.qwenHome, 'settings.json')} removed: Qwen OAuth serves coder-model.`,
    );
    const settings = JSON.parse(readFileSync(path.join(sandbox.qwenHome, 'settings.json'), 'utf8'));
    expect(settings.model).toEqual({});
    expect(settings.security.auth.selectedType).toBe('qwen-oauth');
    // The provider's list stays, for a later switch back.
    expect(settings.modelProviders.openai).toHaveLength(1);
    chat.setResponses({ stream: { text: ['Hi.'] } });
    const run = await qwen(['hi']);
    expect(run).toMatchObject({ exitCode: 0, stdout: 'Hi.\n', stderr: '' });
  });
});

describe('qwen auth qwen-oauth in a project that selects another provider', () => {
  test('the workspace file is switched too (with its comments), so the login is what runs use there', async () => {
    startOAuth({ pollOutcomes: ['success'] });
    const workspaceFile = sandbox.write(
      'project/.qwen/settings.json',
      '{\n  // the team\'s gateway\n  "security": { "auth": { "selectedType": "openai" } },\n' +
        '  "model": { "name": "proj-model" },\n' +
        '  "modelProviders": { "openai": [{ "id": "proj-model", "envKey": "PROJ_KEY" }] }\n}\n',
    );
    const login = await qwen(['auth', 'qwen-oauth']);
    expect(login.exitCode).toBe(0);
    expect(login.stdout).toContain(
      `"qwen-oauth" in ${path.join(sandbox.qwenHome, 'settings.json')} and in ${workspaceFile}. model.name "proj-model" from ${workspaceFile} removed`,
    );
    expect(login.stderr).not.toContain('Warning');
    const workspace = readFileSync(workspaceFile, 'utf8');
    expect(workspace).toContain("// the team's gateway");
    expect(workspace).toContain('"selectedType": "qwen-oauth"');
    expect(workspace).toContain('"proj-model", "envKey"');
    chat.setResponses({ stream: { text: ['Hi.'] } });
    const run = await qwen(['hi']);
    expect(run).toMatchObject({ exitCode: 0, stdout: 'Hi.\n', stderr: '' });
    expect(chat.requests.at(-1)?.headers.authorization).toStartWith('Bearer access-');
  });
});

describe('qwen auth qwen-oauth in a project whose settings define no modelProviders', () => {
  test('the project file is left as written, and what in it wins over the login is warned about', async () => {
    startOAuth({ pollOutcomes: ['success'] });
    const original = '{"security": {"auth": {"selectedType": "openai"}}, "model": {"name": "proj-m"}}\n';
    const workspaceFile = sandbox.write('project/.qwen/settings.json', original);
    const userFile = path.join(sandbox.qwenHome, 'settings.json');
    const login = await qwen(['auth', 'qwen-oauth']);
    expect(login.exitCode).toBe(0);
    expect(login.stdout).toContain(`security.auth.selectedType is now "qwen-oauth" in ${userFile}.`);
    expect(login.stdout).not.toContain(workspaceFile);
    expect(readFileSync(workspaceFile, 'utf8')).toBe(original);
    expect(JSON.parse(readFileSync(userFile, 'utf8'))).toEqual({
      security: { auth: { selectedType: 'qwen-oauth' } },
    });
    expect(login.stderr).toContain(
      `Warning: ${workspaceFile} selects "openai", which wins over ${userFile}; pass --auth-type qwen-oauth or change it there.`,
    );
    expect(login.stderr).toContain(
      `Warning: ${workspaceFile} sets model.name "proj-m", which wins over ${userFile}; Qwen OAuth serves coder-model`,
    );
  });

  test('one that only names another model keeps it, with a warning', async () => {
    startOAuth({ pollOutcomes: ['success'] });
    const workspaceFile = sandbox.write('project/.qwen/settings.json', { model: { name: 'team-model' } });
    const login = await qwen(['auth', 'qwen-oauth']);
    expect(login.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(workspaceFile, 'utf8'))).toEqual({ model: { name: 'team-model' } });
    expect(login.stderr).toContain(`Warning: ${workspaceFile} sets model.name "team-model"`);
    expect(login.stderr).not.toContain('selects');
  });
});

describe('headless runs with Qwen OAuth', () => {
  test('no cached credentials: exit 41 pointing at `qwen auth qwen-oauth`, and no device flow started', async () => {
    const server = startOAuth();
    const result = await qwen(['--auth-type', 'qwen-oauth', 'hi']);
    expect(result.exitCode).toBe(41);
    expect(result.stderr).toContain('qwen auth qwen-oauth');
    expect(result.stderr).toContain('API key');
    expect(server.requests).toHaveLength(0);
    expect(chat.requests).toHaveLength(0);
  });

  test('a token with a line break (a hand edit): exit 41 naming the file and the login, nothing sent; status agrees', async () => {
    cacheCredentials({ access: 'ACCESS\nTOKEN123', expiresInMs: 3_600_000 });
    const result = await qwen(['--auth-type', 'qwen-oauth', 'hi']);
    const line =
      `qwen: The Qwen OAuth access token in ${credentialsPath()} cannot be sent: it has a line break (U+000A) at position 7. ` +
      'Log in again with `qwen auth qwen-oauth`, which rewrites the file.\n';
    expect(result).toEqual({ exitCode: 41, stdout: '', stderr: line });
    expect(chat.requests).toHaveLength(0);
    const status = await qwen(['auth', 'status', '--auth-type', 'qwen-oauth']);
    expect(status.exitCode).toBe(41);
    expect(status.stdout).toContain('unusable, it has a line break (U+000A) at position 7');
    expect(status.stdout).not.toContain('TOKEN123');
    expect(status.stderr).toBe(line);
  });

  test('a token within 30 s of expiry is refreshed first, and the new one saved', async () => {
    const server = startOAuth();
    cacheCredentials({ access: 'access-old', expiresInMs: 10_000 });
    const result = await qwen(['--auth-type', 'qwen-oauth', 'hi']);
    expect(result.exitCode).toBe(0);
    expect(server.refreshCount).toBe(1);
    expect(server.requests[0]!.form['refresh_token']).toBe('refresh-cached');
    expect(authorizations()).toEqual(['Bearer access-1']);
    expect(readCredentials()).toMatchObject({ access_token: 'access-1', refresh_token: 'refresh-1' });
    expect(statSync(credentialsPath()).mode & 0o777).toBe(0o600);
    expect(existsSync(lockPath())).toBe(false);
  });

  test('a run stopped while the refresh is in flight still saves the rotated token (no forced re-login)', async () => {
    // The server has rotated the refresh token by the time it answers: losing its answer would leave a
    // file whose refresh token no longer works.
    const server = startOAuth({ refreshDelayMs: 600 });
    cacheCredentials({ access: 'access-old', expiresInMs: -60_000 });
    const result = await qwen(['--auth-type', 'qwen-oauth', '--max-wall-time', '200ms', 'hi']);
    expect(result.exitCode).toBe(55);
    expect(server.refreshCount).toBe(1);
    expect(readCredentials()).toMatchObject({ access_token: 'access-1', refresh_token: 'refresh-1' });
    expect(existsSync(lockPath())).toBe(false);
    expect(chat.requests).toHaveLength(0);
  });

  test('SIGTERM (a CI timeout) during the refresh: the rotated token is saved, said while waited for; exit 143', async () => {
    startOAuth({ refreshDelayMs: 1_500 });
    cacheCredentials({ access: 'access-old', expiresInMs: -60_000 });
    const result = await qwen(['--auth-type', 'qwen-oauth', '-o', 'json', 'hi'], {
      signal: { name: 'SIGTERM', afterMs: 400 },
    });
    expect(result.exitCode).toBe(143);
    // The wait is explained when it starts; the run's last word comes after it.
    expect(
      result.stderr.indexOf('Finishing the Qwen OAuth token refresh so that the new token is kept'),
    ).toBe(0);
    expect(result.stderr.trimEnd().endsWith('qwen: Terminated.')).toBe(true);
    const last = (JSON.parse(result.stdout) as Record<string, unknown>[]).at(-1);
    expect(last).toMatchObject({ type: 'result', is_error: true, error: { exit_code: 143 } });
    expect(readCredentials()).toMatchObject({ access_token: 'access-1', refresh_token: 'refresh-1' });
    expect(existsSync(lockPath())).toBe(false);
  });

  test('a refresh rejected with 400 removes the cached file and says to log in again (exit 41)', async () => {
    const server = startOAuth({ refreshOutcomes: ['rejected'] });
    cacheCredentials({ access: 'access-old', expiresInMs: -60_000 });
    const result = await qwen(['--auth-type', 'qwen-oauth', 'hi']);
    expect(result.exitCode).toBe(41);
    expect(result.stderr).toContain('qwen auth qwen-oauth');
    expect(result.stderr).toContain('removed');
    expect(server.refreshCount).toBe(1);
    expect(existsSync(credentialsPath())).toBe(false);
    expect(existsSync(lockPath())).toBe(false);
    expect(chat.requests).toHaveLength(0);
  });

  test('QWEN_HOME set in ~/.env is not used for the login either: runs and status agree with the note', async () => {
    startOAuth();
    cacheCredentials({ access: 'access-in-home', expiresInMs: 3_600_000 });
    const alternative = path.dirname(
      sandbox.write('alt/oauth_creds.json', { ...readCredentials(), access_token: 'access-in-alt' }),
    );
    sandbox.write('home/.env', `QWEN_HOME=${alternative}\n`);
    chat.setResponses({ stream: { text: ['From home.'] } });
    const result = await qwen(['--auth-type', 'qwen-oauth', 'hi']);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'From home.\n' });
    expect(result.stderr).toContain('Note: QWEN_HOME in ');
    expect(authorizations()).toEqual(['Bearer access-in-home']);
    const status = await qwen(['auth', 'status', '--auth-type', 'qwen-oauth']);
    expect(status.stdout).toContain(`Credentials: ${credentialsPath()}`);
  });

  test('a 401 from the API: one refresh, one retry with the new token', async () => {
    const server = startOAuth();
    cacheCredentials({ access: 'access-revoked', expiresInMs: 3_600_000 });
    chat.setResponses(
      { status: 401, body: { error: { message: 'Invalid access token', code: 'invalid_api_key' } } },
      { stream: { text: ['Retried.'] } },
    );
    const result = await qwen(['--auth-type', 'qwen-oauth', 'hi']);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'Retried.\n' });
    expect(server.refreshCount).toBe(1);
    expect(authorizations()).toEqual(['Bearer access-revoked', 'Bearer access-1']);
  });

  test('a token refused inside the stream after some reasoning: refreshed, and only the retry is the answer', async () => {
    const server = startOAuth();
    cacheCredentials({ access: 'access-revoked', expiresInMs: 3_600_000 });
    const reasoningThenRefused =
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { reasoning_content: 'first try' } }] })}\n\n` +
      `data: ${JSON.stringify({ error: { message: 'Invalid access token', code: 'invalid_api_key' } })}\n\n`;
    chat.setResponses(
      { sse: reasoningThenRefused },
      { stream: { reasoning: ['second'], text: ['Retried.'] } },
    );
    const result = await qwen(['--auth-type', 'qwen-oauth', '-o', 'json', 'hi']);
    expect(result.exitCode).toBe(0);
    expect(server.refreshCount).toBe(1);
    const items = JSON.parse(result.stdout) as { type: string; message?: { content: unknown[] } }[];
    expect(items.filter((item) => item.type === 'assistant').map((item) => item.message?.content)).toEqual([
      [{ type: 'thinking', thinking: 'second' }],
      [{ type: 'text', text: 'Retried.' }],
    ]);
  });

  test('a 403, or a 400 whose words say the token expired: one refresh and one retry, as for a 401 (compat §1)', async () => {
    for (const refused of [
      { status: 403, body: { error: { message: 'Invalid access token' } } },
      { status: 400, body: { error: { message: 'Access token expired' } } },
    ]) {
      const server = startOAuth();
      cacheCredentials({ access: 'access-revoked', expiresInMs: 3_600_000 });
      chat.setResponses(refused, { stream: { text: ['Retried.'] } });
      const result = await qwen(['--auth-type', 'qwen-oauth', 'hi']);
      expect(result).toMatchObject({ exitCode: 0, stdout: 'Retried.\n' });
      expect(server.refreshCount).toBe(1);
      expect(authorizations()).toEqual(['Bearer access-revoked', 'Bearer access-1']);
      server.stop();
    }
  });

  test('a 401 or 403 that outlasts the refresh: exit 41 advising a new login (403: the account), not an API key', async () => {
    for (const [status, message, advice] of [
      [401, 'Invalid access token', 'Log in again with `qwen auth qwen-oauth`'],
      [403, 'Forbidden', 'The Qwen OAuth login was refused: this account may not have access.'],
    ] as const) {
      const server = startOAuth();
      cacheCredentials({ access: 'access-revoked', expiresInMs: 3_600_000 });
      const refused = { status, body: { error: { message } } };
      chat.setResponses(refused, refused);
      const result = await qwen(['--auth-type', 'qwen-oauth', 'hi']);
      expect(result.exitCode).toBe(41);
      expect(server.refreshCount).toBe(1);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain(advice);
      expect(result.stderr).not.toContain('Check the API key');
      server.stop();
    }
  });

  test('a 401, then the refresh is refused: exit 41, file removed, and the JSON result says so', async () => {
    const server = startOAuth({ refreshOutcomes: ['rejected'] });
    cacheCredentials({ access: 'access-revoked', expiresInMs: 3_600_000 });
    chat.setResponses({ status: 401, body: { error: { message: 'Invalid access token' } } });
    const result = await qwen(['--auth-type', 'qwen-oauth', '-o', 'json', 'hi']);
    expect(result.exitCode).toBe(41);
    expect(server.refreshCount).toBe(1);
    expect(chat.requests).toHaveLength(1);
    expect(existsSync(credentialsPath())).toBe(false);
    expect(result.stdout).toContain('error_during_execution');
    expect(result.stdout).toContain('the cached credentials were removed');
  });

  test('eight processes against an expired token: exactly one refresh request, all eight succeed', async () => {
    // The slow refresh keeps the lock held while the seven others arrive and wait.
    const server = startOAuth({ refreshDelayMs: 300 });
    cacheCredentials({ access: 'access-expired', expiresInMs: -1_000 });
    const startedAt = performance.now();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        qwen(['--auth-type', 'qwen-oauth', `run ${index}`], { timeoutMs: 60_000 }),
      ),
    );
    const elapsedMs = performance.now() - startedAt;
    for (const result of results) expect(result).toMatchObject({ exitCode: 0, stdout: 'Hello from Qwen.\n' });
    expect(server.refreshCount).toBe(1);
    expect(chat.requests).toHaveLength(8);
    expect(new Set(authorizations())).toEqual(new Set(['Bearer access-1']));
    expect(existsSync(lockPath())).toBe(false);
    console.error(`[race] 8 processes, ${server.refreshCount} refresh, ${Math.round(elapsedMs)} ms in all`);
  }, 90_000);

  test('free quota spent (429 insufficient_quota): not retried, says what to do instead', async () => {
    startOAuth();
    cacheCredentials({ access: 'access-ok', expiresInMs: 3_600_000 });
    chat.setResponses({
      status: 429,
      body: {
        error: {
          message: 'Free allocated quota exceeded.',
          type: 'insufficient_quota',
          code: 'insufficient_quota',
        },
      },
    });
    const result = await qwen(['--auth-type', 'qwen-oauth', 'hi']);
    expect(result.exitCode).toBe(1);
    expect(chat.requests).toHaveLength(1);
    expect(result.stderr).toContain('free quota (60 requests a minute, 1,000 a day) is spent: ');
    // The server's words stay: which host answered, the status, and its message.
    expect(result.stderr).toMatch(/is spent: 127\.0\.0\.1:\d+ answered 429: Free allocated quota exceeded\./);
    expect(result.stderr).toContain('qwen auth coding-plan');
    expect(result.stderr).not.toContain('Retrying');
  });
});

describe('qwen auth coding-plan', () => {
  const settingsPath = () => path.join(sandbox.qwenHome, 'settings.json');

  test('from --key: writes the compat §2 settings with mode 0600 and says where the key went', async () => {
    const result = await qwen(['auth', 'coding-plan', '--region', 'china', '--key', 'sk-sp-fromflag9876']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(settingsPath());
    expect(result.stdout).toContain('sk-...9876');
    expect(result.stdout + result.stderr).not.toContain('sk-sp-fromflag9876');
    const settings = JSON.parse(readFileSync(settingsPath(), 'utf8'));
    expect(settings.env).toEqual({ BAILIAN_CODING_PLAN_API_KEY: 'sk-sp-fromflag9876' });
    expect(settings.modelProviders.openai).toEqual(codingPlanModels('china'));
    expect(settings.security.auth.selectedType).toBe('openai');
    expect(settings.model).toEqual({ name: 'qwen3.5-plus', baseUrl: '' });
    expect(settings.providerMetadata['coding-plan'].baseUrl).toBe('https://coding.dashscope.aliyuncs.com/v1');
    expect(statSync(settingsPath()).mode & 0o777).toBe(0o600);
  });

  test('two keys pasted on stdin (or one with a curly quote) are refused with exit 42; nothing is written', async () => {
    for (const stdin of ['sk-sp-aaaaaaaaaaaa1111\nsk-sp-bbbbbbbbbbbb2222\n', 'sk-sp-aaaaaaaa1111\u201d\n']) {
      const result = await qwen(['auth', 'coding-plan', '--region', 'china'], { stdin });
      expect(result.exitCode).toBe(42);
      expect(result.stderr).toContain('That Coding Plan key cannot be right: it has ');
      expect(result.stderr).not.toContain('aaaa1111');
      expect(existsSync(settingsPath())).toBe(false);
    }
  });

  test('from stdin when stdin is not a terminal; the region picks the endpoint', async () => {
    const result = await qwen(['auth', 'coding-plan', '--region', 'global'], {
      stdin: 'sk-sp-fromstdin5555\n',
    });
    expect(result.exitCode).toBe(0);
    const settings = JSON.parse(readFileSync(settingsPath(), 'utf8'));
    expect(settings.env.BAILIAN_CODING_PLAN_API_KEY).toBe('sk-sp-fromstdin5555');
    expect(settings.modelProviders.openai[0].baseUrl).toBe('https://coding-intl.dashscope.aliyuncs.com/v1');
    expect(settings.modelProviders.openai[0].name).toBe(
      '[ModelStudio Coding Plan for Global/Intl] qwen3.5-plus',
    );
  });

  test('a file where ~/.qwen should be: one line naming it and the fix, exit 52', async () => {
    writeFileSync(sandbox.qwenHome, 'not a directory\n');
    const result = await qwen(['auth', 'coding-plan', '--region', 'china', '--key', 'sk-sp-fromflag9876']);
    expect(result.exitCode).toBe(52);
    expect(result.stderr).toBe(
      `qwen: Cannot save the settings: ${sandbox.qwenHome} is a file, not a directory. Move or rename it, then try again.\n`,
    );
    expect(result.stdout).toBe('');
    expect(readFileSync(sandbox.qwenHome, 'utf8')).toBe('not a directory\n');
  });

  test('a read-only settings.json is not replaced: exit 52, one line saying how to allow it', async () => {
    const original = '{ "ui": { "theme": "dark" } }\n';
    const file = sandbox.userSettings(original);
    chmodSync(file, 0o444);
    const result = await qwen(['auth', 'coding-plan', '--region', 'global', '--key', 'sk-sp-fromflag9876']);
    expect(result.exitCode).toBe(52);
    expect(result.stderr).toBe(
      `qwen: ${file}: the file is read-only; it was not changed. To let qwen change it, make it writable (chmod u+w ${file}) and run the command again.\n`,
    );
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(statSync(file).mode & 0o777).toBe(0o444);
  });

  test('a settings.json symlink whose target directory is missing is refused; the link stays', async () => {
    mkdirSync(sandbox.qwenHome, { recursive: true });
    symlinkSync('/nonexistent/dotfiles/settings.json', settingsPath());
    const result = await qwen(['auth', 'coding-plan', '--region', 'global', '--key', 'sk-sp-fromflag9876']);
    expect(result.exitCode).toBe(52);
    expect(result.stderr).toBe(
      `qwen: ${settingsPath()}: the symlink points to /nonexistent/dotfiles/settings.json, whose directory does not exist; nothing was written. Create /nonexistent/dotfiles, or remove the link, then try again.\n`,
    );
    expect(readlinkSync(settingsPath())).toBe('/nonexistent/dotfiles/settings.json');
  });

  test.skipIf(process.getuid?.() !== 0)(
    "root writing a user's settings (sudo keeping HOME) leaves them the user's",
    async () => {
      const file = sandbox.userSettings('{}\n');
      for (const path of [sandbox.home, sandbox.qwenHome, file]) chownSync(path, 65534, 65534);
      const result = await qwen(['auth', 'coding-plan', '--region', 'global', '--key', 'sk-sp-fromflag9876']);
      expect(result.exitCode).toBe(0);
      expect(statSync(file).uid).toBe(65534);
      expect(statSync(file).gid).toBe(65534);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    },
  );

  test('a key without sk-sp- is refused with that sentence; nothing is written', async () => {
    const result = await qwen(['auth', 'coding-plan', '--region', 'china', '--key', 'sk-plainkey1234']);
    expect(result.exitCode).toBe(42);
    expect(result.stderr).toContain(
      'Invalid API key. Coding Plan API keys start with "sk-sp-". Please check.',
    );
    expect(result.stderr).not.toContain('sk-plainkey1234');
    expect(existsSync(settingsPath())).toBe(false);
    const noRegion = await qwen(['auth', 'coding-plan', '--key', 'sk-sp-x12345']);
    expect(noRegion.exitCode).toBe(42);
    expect(noRegion.stderr).toContain('--region china or global');
  });

  test('an auth type that security.auth.enforcedType forbids is not set up: exit 41, nothing written or asked', async () => {
    const enforced = '{ "security": { "auth": { "enforcedType": "anthropic" } } }\n';
    sandbox.userSettings(enforced);
    const codingPlan = await qwen([
      'auth',
      'coding-plan',
      '--region',
      'china',
      '--key',
      'sk-sp-fromflag9876',
    ]);
    expect(codingPlan.exitCode).toBe(41);
    expect(codingPlan.stderr).toContain(
      'The configured auth type is anthropic, but the current auth type is openai. Set that auth type up instead, or ask whoever set security.auth.enforcedType.',
    );
    expect(readFileSync(settingsPath(), 'utf8')).toBe(enforced);

    const server = startOAuth({ pollOutcomes: ['success'] });
    const login = await qwen(['auth', 'qwen-oauth']);
    expect(login.exitCode).toBe(41);
    expect(login.stderr).toContain('but the current auth type is qwen-oauth');
    expect(server.pollCount).toBe(0);
    expect(existsSync(credentialsPath())).toBe(false);
    expect(readFileSync(settingsPath(), 'utf8')).toBe(enforced);
  });

  test('a key saved over a $VAR reference names that reference; over another key, masks it', async () => {
    sandbox.userSettings({ env: { BAILIAN_CODING_PLAN_API_KEY: `\${CP_SECRET}` } });
    const first = await qwen(['auth', 'coding-plan', '--region', 'global', '--key', 'sk-sp-first0009999']);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain(
      `Key sk-...9999 stored in ${settingsPath()} (env.BAILIAN_CODING_PLAN_API_KEY, file mode 0600), replacing \${CP_SECRET}.`,
    );
    const second = await qwen(['auth', 'coding-plan', '--region', 'global', '--key', 'sk-sp-second001234']);
    expect(second.stdout).toContain('file mode 0600), replacing sk-...9999.');
    expect(second.stdout).not.toContain('sk-sp-first');
    // The same key again replaces nothing.
    const again = await qwen(['auth', 'coding-plan', '--region', 'global', '--key', 'sk-sp-second001234']);
    expect(again.stdout).not.toContain('replacing');
  });

  test('a project file without modelProviders is left as written; what in it wins is warned about', async () => {
    const original = '{"security": {"auth": {"selectedType": "anthropic"}}, "model": {"name": "proj-m"}}\n';
    const workspaceFile = sandbox.write('project/.qwen/settings.json', original);
    const result = await qwen(['auth', 'coding-plan', '--region', 'global', '--key', 'sk-sp-project1234']);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(workspaceFile, 'utf8')).toBe(original);
    expect(JSON.parse(readFileSync(settingsPath(), 'utf8')).security.auth.selectedType).toBe('openai');
    expect(result.stderr).toContain(
      `Warning: ${workspaceFile} selects "anthropic", which wins over ${settingsPath()}`,
    );
    expect(result.stderr).toContain(`Warning: ${workspaceFile} sets model.name "proj-m", which wins over`);
  });

  test('a settings file with comments keeps them, and keeps the user entries after the Coding Plan ones', async () => {
    const original = `// My Qwen settings
{
  /* providers I added by hand */
  "modelProviders": {
    "openai": [
      // old Coding Plan entry, to be replaced
      { "id": "qwen3-coder-plus", "envKey": "BAILIAN_CODING_PLAN_API_KEY", "baseUrl": "https://coding.dashscope.aliyuncs.com/v1" },
      { "id": "my-model", "envKey": "MY_KEY", "baseUrl": "https://llm.example.com/v1" }
    ]
  },
  "ui": { "theme": "dark" } // trailing comment
}
`;
    sandbox.userSettings(original);
    const result = await qwen(['auth', 'coding-plan', '--region', 'china', '--key', 'sk-sp-commented1']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Kept your 1 other modelProviders.openai entry');
    const text = readFileSync(settingsPath(), 'utf8');
    for (const comment of ['// My Qwen settings', '/* providers I added by hand */', '// trailing comment']) {
      expect(text).toContain(comment);
    }
    const { parse } = await import('jsonc-parser');
    const settings = parse(text);
    expect(settings.modelProviders.openai.map((entry: { id: string }) => entry.id)).toEqual([
      ...codingPlanModels('china').map((model) => model.id),
      'my-model',
    ]);
    expect(settings.ui).toEqual({ theme: 'dark' });

    // The OAuth login's settings write keeps them too.
    startOAuth({ pollOutcomes: ['success'] });
    expect((await qwen(['auth', 'qwen-oauth'])).exitCode).toBe(0);
    const after = readFileSync(settingsPath(), 'utf8');
    expect(after).toContain('// My Qwen settings');
    expect(after).toContain('"selectedType": "qwen-oauth"');
    expect(statSync(settingsPath()).mode & 0o777).toBe(0o600);
  });

  test('a workspace file with modelProviders gets the models (the key stays in the user file): status and a run use them', async () => {
    const workspacePath = sandbox.write('project/.qwen/settings.json', {
      modelProviders: { openai: [{ id: 'wsm', envKey: 'WSK', baseUrl: chat.url }] },
    });
    const key = 'sk-sp-test-SECRET1234567890';
    const result = await qwen(['auth', 'coding-plan', '--region', 'global', '--key', key]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`in ${workspacePath} (it defines modelProviders`);
    expect(result.stdout).toContain(`Key sk-...7890 stored in ${settingsPath()}`);
    expect(result.stderr).toBe('');
    expect(JSON.parse(readFileSync(settingsPath(), 'utf8'))).toEqual({
      env: { BAILIAN_CODING_PLAN_API_KEY: key },
    });
    const workspace = JSON.parse(readFileSync(workspacePath, 'utf8'));
    expect(JSON.stringify(workspace)).not.toContain(key);
    expect(workspace.modelProviders.openai.at(-1)).toEqual({ id: 'wsm', envKey: 'WSK', baseUrl: chat.url });

    const status = await qwen(['auth', 'status']);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toContain(`Auth type:   openai (security.auth.selectedType in ${workspacePath})`);
    expect(status.stdout).toContain(
      `Model:       qwen3.5-plus "[ModelStudio Coding Plan for Global/Intl] qwen3.5-plus"`,
    );
    expect(status.stdout).toContain('Base URL:    https://coding-intl.dashscope.aliyuncs.com/v1');
    expect(status.stdout).toContain(
      `API key:     sk-...7890 (BAILIAN_CODING_PLAN_API_KEY in settings env (${settingsPath()}))`,
    );

    // The run goes to the Coding Plan endpoint with the key: seen at a proxy that asks for credentials it
    // never gets, so nothing leaves the machine.
    const proxy = await startConnectProxy({ credentials: 'nobody:never' });
    try {
      const run = await qwen(['--proxy', proxy.url, 'hi']);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).not.toContain('No API key');
      expect(proxy.requests.map((request) => request.target)).toContain(
        'coding-intl.dashscope.aliyuncs.com:443',
      );
    } finally {
      await proxy.close();
    }
    expect(chat.requests).toHaveLength(0);
  });

  test("a workspace file's model.name or model.baseUrl that wins over the written ones is named", async () => {
    const workspace = sandbox.write('project/.qwen/settings.json', {
      model: { name: 'gpt-4o-mini', baseUrl: 'https://user:pass@gateway.example/v1' },
    });
    const result = await qwen(['auth', 'coding-plan', '--region', 'global', '--key', 'sk-sp-override12']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(
      `Warning: ${workspace} sets model.name "gpt-4o-mini", which wins over "qwen3.5-plus" in ${settingsPath()}; pass --model qwen3.5-plus or change it there.`,
    );
    expect(result.stderr).toContain(
      `Warning: ${workspace} sets model.baseUrl "https://user:***@gateway.example/v1"`,
    );
    expect(result.stderr).not.toContain('pass@');
  });

  test('a settings file that does not parse is left alone: exit 52 naming it', async () => {
    const broken = '{ "env": { "A": "b" ';
    sandbox.userSettings(broken);
    const result = await qwen(['auth', 'coding-plan', '--region', 'china', '--key', 'sk-sp-whatever1']);
    expect(result.exitCode).toBe(52);
    expect(result.stderr).toContain(settingsPath());
    expect(readFileSync(settingsPath(), 'utf8')).toBe(broken);
  });
});

describe('qwen auth status and logout', () => {
  test('a Qwen OAuth file that cannot be read does not fail the status of an API-key setup', async () => {
    // A directory where the file should be reads as unreadably as a root-owned file does for a user.
    mkdirSync(credentialsPath(), { recursive: true });
    const args = ['auth', 'status', '--auth-type', 'openai', '-m', 'gpt-test', '--openai-base-url', chat.url];
    const status = await qwen(args, { env: { OPENAI_API_KEY: 'sk-fromshell-8765' } });
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toContain('sk-...8765 (OPENAI_API_KEY in the environment)');
    expect(status.stdout).toContain(
      `${credentialsPath()} cannot be read by this user; not used by this auth type`,
    );
  });

  test('status names the key source (.env file, environment, flag) and never prints the key', async () => {
    sandbox.write('project/.qwen/.env', 'OPENAI_API_KEY=sk-fromdotenv-4321\n');
    const common = [
      'auth',
      'status',
      '--auth-type',
      'openai',
      '-m',
      'gpt-test',
      '--openai-base-url',
      chat.url,
    ];
    const fromDotEnv = await qwen(common);
    expect(fromDotEnv.exitCode).toBe(0);
    expect(fromDotEnv.stdout).toContain('Auth type:   openai (flag --auth-type)');
    expect(fromDotEnv.stdout).toContain('Model:       gpt-test (flag --model)');
    expect(fromDotEnv.stdout).toContain(`Base URL:    ${chat.url}`);
    expect(fromDotEnv.stdout).toContain(
      `sk-...4321 (OPENAI_API_KEY in ${path.join(sandbox.cwd, '.qwen', '.env')})`,
    );
    expect(fromDotEnv.stdout + fromDotEnv.stderr).not.toContain('sk-fromdotenv-4321');

    const fromEnvironment = await qwen(common, { env: { OPENAI_API_KEY: 'sk-fromshell-8765' } });
    expect(fromEnvironment.stdout).toContain('sk-...8765 (OPENAI_API_KEY in the environment)');
    // The base URL says which variable set it, as the key does.
    const urlFromEnvironment = await qwen(common.slice(0, -2), { env: { OPENAI_BASE_URL: chat.url } });
    expect(urlFromEnvironment.stdout).toContain(
      `Base URL:    ${chat.url} (OPENAI_BASE_URL in the environment)`,
    );
    const fromFlag = await qwen([...common, '--openai-api-key', 'sk-fromflag-1111']);
    expect(fromFlag.stdout).toContain('sk-...1111 (flag --openai-api-key)');
    expect(fromFlag.stdout + fromFlag.stderr).not.toContain('sk-fromflag-1111');
  });

  test('status names where the model came from: a variable and its .env file, model.name, the first entry', async () => {
    sandbox.write(
      'project/.env',
      `OPENAI_API_KEY=sk-test-SECRET1234567890\nOPENAI_BASE_URL=${chat.url}\nOPENAI_MODEL=from-dotenv\n`,
    );
    const dotEnv = path.join(sandbox.cwd, '.env');
    const fromDotEnv = await qwen(['auth', 'status']);
    expect(fromDotEnv.exitCode).toBe(0);
    expect(fromDotEnv.stdout).toContain(`Model:       from-dotenv (OPENAI_MODEL in ${dotEnv})`);
    const json = JSON.parse((await qwen(['auth', 'status', '-o', 'json'])).stdout);
    expect(json.model).toBe('from-dotenv');
    expect(json.model_source).toBe(`OPENAI_MODEL in ${dotEnv}`);
    const fromShell = await qwen(['auth', 'status'], { env: { OPENAI_MODEL: 'from-shell' } });
    expect(fromShell.stdout).toContain('Model:       from-shell (OPENAI_MODEL in the environment)');

    const user = sandbox.userSettings({
      modelProviders: { openai: [{ id: 'first-entry', name: 'First Entry' }, { id: 'named' }] },
    });
    const workspace = sandbox.write('project/.qwen/settings.json', { model: { name: 'named' } });
    const fromName = await qwen(['auth', 'status']);
    expect(fromName.stdout).toContain(`Model:       named (model.name in ${workspace})`);
    rmSync(workspace);
    rmSync(dotEnv);
    const first = await qwen(['auth', 'status', '--auth-type', 'openai'], {
      env: { OPENAI_API_KEY: 'sk-test-SECRET1234567890' },
    });
    expect(first.stdout).toContain(
      `Model:       first-entry "First Entry" (first entry of modelProviders.openai in ${user})`,
    );
  });

  test('status for Qwen OAuth shows the credentials file, the masked token and its expiry', async () => {
    cacheCredentials({
      access: 'access-token-abcdef-9999',
      expiresInMs: 20 * 60_000,
      resourceUrl: 'portal.qwen.ai',
    });
    const result = await qwen(['auth', 'status', '--auth-type', 'qwen-oauth']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Credentials: ${credentialsPath()}`);
    expect(result.stdout).toContain('Base URL:    https://portal.qwen.ai/v1 (resource_url of the login)');
    expect(result.stdout).toMatch(/Token: +access-\.\.\.9999 expires \S+ \(in 20 min\)/);
    expect(result.stdout).not.toContain('access-token-abcdef-9999');
    const json = JSON.parse(
      (await qwen(['auth', 'status', '--auth-type', 'qwen-oauth', '-o', 'json'])).stdout,
    );
    expect(json).toMatchObject({
      auth_type: 'qwen-oauth',
      credentials: credentialsPath(),
      base_url: 'https://portal.qwen.ai/v1',
      base_url_source: 'resource_url of the login',
      token: 'access-...9999',
    });
    expect(Date.parse(json.token_expires) - Date.now()).toBeGreaterThan(15 * 60_000);

    // A login that named no resource_url: the default, said to be one.
    const { resource_url: _named, ...withoutResource } = readCredentials();
    writeFileSync(credentialsPath(), JSON.stringify(withoutResource));
    const unnamed = await qwen(['auth', 'status', '--auth-type', 'qwen-oauth']);
    expect(unnamed.stdout).toContain(
      'Base URL:    https://dashscope.aliyuncs.com/compatible-mode/v1 (default; the login named no resource_url)',
    );

    // Without the file: the explanation a run gives, word for word.
    rmSync(credentialsPath());
    const status = await qwen(['auth', 'status', '--auth-type', 'qwen-oauth']);
    const run = await qwen(['--auth-type', 'qwen-oauth', 'hi']);
    expect(status.exitCode).toBe(41);
    expect(status.stderr).toContain('Not logged in with Qwen OAuth');
    expect(status.stderr).toBe(run.stderr);
    expect(status.stdout).toContain(`Credentials: none in ${credentialsPath()}`);
    // A file that is there but broken is not "none".
    writeFileSync(credentialsPath(), '{garbage');
    const broken = await qwen(['auth', 'status', '--auth-type', 'qwen-oauth']);
    expect(broken.exitCode).toBe(41);
    expect(broken.stdout).toContain(`Credentials: ${credentialsPath()} is there but not usable`);
  });

  test('status says when the key flag alone chose the auth type', async () => {
    const result = await qwen(['--openai-api-key', 'sk-flag99998888', '-m', 'foo', 'auth', 'status']);
    expect(result.stdout).toContain('Auth type:   openai (implied by --openai-api-key)');
  });

  test('flags before `auth` (`qwen --debug auth status`): the status, not a prompt sent to the model', async () => {
    cacheCredentials({ access: 'access-token-abcdef-9999', expiresInMs: 20 * 60_000 });
    for (const args of [
      ['--debug', 'auth', 'status', '--auth-type', 'qwen-oauth'],
      ['--auth-type', 'qwen-oauth', 'auth', 'status'],
    ]) {
      const result = await qwen(args);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain('Auth type:   qwen-oauth (flag --auth-type)');
    }
    const oneShotFlag = await qwen(['-p', 'x', 'auth', 'status']);
    expect(oneShotFlag.exitCode).toBe(42);
    expect(oneShotFlag.stderr).toContain('Unknown option `-p` for `qwen auth`.');
    expect(chat.requests).toHaveLength(0);
  });

  test('`qwen -o json auth status`: the same fields as one JSON object, values bare and sources apart; other formats and actions exit 42', async () => {
    sandbox.write('project/.qwen/.env', 'OPENAI_API_KEY=sk-fromdotenv-4321\n');
    const flags = ['--auth-type', 'openai', '-m', 'gpt-test', '--openai-base-url', chat.url];
    const result = await qwen(['-o', 'json', 'auth', 'status', ...flags]);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      auth_type: 'openai',
      auth_type_source: 'flag --auth-type',
      model: 'gpt-test',
      model_source: 'flag --model',
      base_url: chat.url,
      base_url_source: 'flag --openai-base-url',
      api_key: 'sk-...4321',
      api_key_source: `OPENAI_API_KEY in ${path.join(sandbox.cwd, '.qwen', '.env')}`,
    });
    expect(result.stdout).not.toContain('sk-fromdotenv-4321');
    rmSync(path.join(sandbox.cwd, '.qwen', '.env'));
    const none = await qwen(['auth', 'status', '-o', 'json']);
    expect(none.exitCode).toBe(41);
    expect(JSON.parse(none.stdout)).toEqual({ auth_type: null });
    for (const args of [
      ['-o', 'stream-json', 'auth', 'status'],
      ['-o', 'json', 'auth', 'logout'],
    ]) {
      const refused = await qwen(args);
      expect(refused.exitCode).toBe(42);
      expect(refused.stderr).toContain('only `qwen auth status` also prints json');
    }
    expect(chat.requests).toHaveLength(0);
  });

  test("status without a base URL names the one runs use: each protocol's default", async () => {
    const anthropic = await qwen(['--auth-type', 'anthropic', 'auth', 'status'], {
      env: { ANTHROPIC_API_KEY: 'sk-ant-status-1234', ANTHROPIC_MODEL: 'claude-x' },
    });
    expect(anthropic.stdout).toContain('Base URL:    https://api.anthropic.com (default)');
    const gemini = await qwen(['--auth-type', 'gemini', 'auth', 'status'], {
      env: { GEMINI_API_KEY: 'AIza-status-1234', GEMINI_MODEL: 'gemini-x' },
    });
    expect(gemini.stdout).toContain('Base URL:    https://generativelanguage.googleapis.com (default)');
  });

  test('status for Vertex AI project mode finds the ADC file as a run would, without fetching a token', async () => {
    const project = { GOOGLE_CLOUD_PROJECT: 'p', GOOGLE_MODEL: 'gm' };
    const none = await qwen(['auth', 'status'], { env: project });
    expect(none.exitCode).toBe(41);
    expect(none.stdout).toContain('Auth type:   vertex-ai (detected from the environment)');
    expect(none.stdout).toContain('Credentials: none usable');
    // No base URL set: the host the location's requests go to.
    expect(none.stdout).toMatch(
      /Base URL: +https:\/\/[a-z0-9-]*aiplatform[a-z.]*googleapis\.com \(default\)/,
    );
    expect(none.stderr).toContain('No Google credentials found for Vertex AI');
    expect(none.stderr).toContain('gcloud auth application-default login');

    const missing = await qwen(['auth', 'status'], {
      env: { ...project, GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent.json' },
    });
    expect(missing.exitCode).toBe(41);
    expect(missing.stderr).toContain(
      'Cannot read /nonexistent.json (GOOGLE_APPLICATION_CREDENTIALS names it)',
    );

    const file = sandbox.write('home/.config/gcloud/application_default_credentials.json', {
      type: 'authorized_user',
      client_id: 'c',
      client_secret: 's',
      refresh_token: 'r',
    });
    const found = await qwen(['auth', 'status'], { env: project });
    expect(found.exitCode).toBe(0);
    expect(found.stdout).toContain(`Credentials: ${file} (authorized_user)`);
  });

  test("status checks a service account's private key as a run would: one that cannot sign is exit 41", async () => {
    const project = { GOOGLE_CLOUD_PROJECT: 'p', GOOGLE_MODEL: 'gm' };
    const account = { type: 'service_account', client_email: 'a@p.iam.gserviceaccount.com' };
    const keyPair = await rsaKeyPair();
    const good = sandbox.write('good.json', {
      ...account,
      private_key: await privateKeyPem(keyPair.privateKey),
    });
    const usable = await qwen(['auth', 'status'], {
      env: { ...project, GOOGLE_APPLICATION_CREDENTIALS: good },
    });
    expect(usable.exitCode).toBe(0);
    expect(usable.stdout).toContain(`Credentials: ${good} (service_account)`);

    const damaged = '-----BEGIN PRIVATE KEY-----\nSECRETSECRET\n-----END PRIVATE KEY-----\n';
    const bad = sandbox.write('bad.json', { ...account, private_key: damaged });
    const status = await qwen(['auth', 'status'], {
      env: { ...project, GOOGLE_APPLICATION_CREDENTIALS: bad },
    });
    expect(status.exitCode).toBe(41);
    expect(status.stdout).toContain('Credentials: none usable');
    expect(status.stderr).toContain(`The private_key in ${bad} cannot be used as an RSA key.`);
    expect(status.stdout + status.stderr).not.toContain('SECRETSECRET');
  });

  test('status with nothing configured: exit 41 and what to do', async () => {
    const result = await qwen(['auth', 'status']);
    expect(result.exitCode).toBe(41);
    expect(result.stdout).toContain('Auth type:   none');
    expect(result.stderr).toContain('qwen auth');
  });

  test('an auth type without a model: status shows the type and its source, no model; exit 41 as a run', async () => {
    const key = { GEMINI_API_KEY: 'sk-test-SECRET1234567890' };
    for (const format of ['text', 'json']) {
      const status = await qwen(['--auth-type', 'gemini', 'auth', 'status', '-o', format], { env: key });
      expect(status.exitCode).toBe(41);
      const shown = format === 'json' ? JSON.parse(status.stdout) : undefined;
      if (shown === undefined) {
        expect(status.stdout).toBe('Auth type:   gemini (flag --auth-type)\nModel:       none\n');
      } else {
        expect(shown).toEqual({ auth_type: 'gemini', auth_type_source: 'flag --auth-type', model: null });
      }
      expect(status.stderr).toContain('No model selected for gemini.');
      expect(status.stderr).toContain('-m/--model, set GEMINI_MODEL, set model.name in settings.json');
    }
    const run = await qwen(['--auth-type', 'gemini', 'hi'], { env: key });
    expect(run.exitCode).toBe(41);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('No model selected for gemini.');
    expect(existsSync(sandbox.qwenHome)).toBe(false);
  });

  // Root may write anywhere: a read-only ~/.qwen stops only another user.
  describe.skipIf(!canRunAsAnotherUser)('a ~/.qwen this user may not write in (mode 500)', () => {
    const asTheUser = (args: string[]) =>
      runAsAnotherUser(args, { cwd: sandbox.cwd, env: { HOME: sandbox.home, ...env() } });
    const codingPlan = ['auth', 'coding-plan', '--region', 'global', '--key', 'sk-sp-fromflag9876'];
    const closeForWrites = () => {
      giveToAnotherUser(path.dirname(sandbox.home));
      chmodSync(sandbox.qwenHome, 0o500);
    };

    test('qwen auth qwen-oauth stops before the login, exit 52 naming the directory and the fix', async () => {
      const server = startOAuth();
      sandbox.userSettings('{}\n');
      closeForWrites();
      expect(await asTheUser(['auth', 'qwen-oauth'])).toEqual({
        exitCode: 52,
        stdout: '',
        stderr: `qwen: Cannot save the Qwen OAuth credentials: cannot write in ${sandbox.qwenHome} (permission denied). Let your user write there (chmod u+rwx ${sandbox.qwenHome}, or chown it to yourself), then try again.\n`,
      });
      expect(server.requests).toEqual([]);
    });

    test('a settings.json the login could not change stops it before it starts, exit 52', async () => {
      const server = startOAuth();
      const settings = sandbox.userSettings('{}\n');
      giveToAnotherUser(path.dirname(sandbox.home));
      chownSync(settings, 0, 0);
      const result = await asTheUser(['auth', 'qwen-oauth']);
      expect(result.exitCode).toBe(52);
      expect(result.stderr).toStartWith(`qwen: ${settings}: cannot write the file (permission denied)`);
      expect(server.requests).toEqual([]);
    });

    test('qwen auth coding-plan: exit 52 naming the settings file and the directory to open', async () => {
      const settings = sandbox.userSettings('{}\n');
      closeForWrites();
      const result = await asTheUser(codingPlan);
      expect(result).toEqual({
        exitCode: 52,
        stdout: '',
        stderr: `qwen: ${settings}: cannot write the file (permission denied). Let your user write there (chmod u+rwx ${sandbox.qwenHome}, or chown it to yourself), then try again.\n`,
      });
      expect(readFileSync(settings, 'utf8')).toBe('{}\n');
    });

    test('a home that ~/.qwen cannot be created in: exit 52 naming the home to open', async () => {
      giveToAnotherUser(path.dirname(sandbox.home));
      chmodSync(sandbox.home, 0o500);
      const result = await asTheUser(codingPlan);
      expect(result).toEqual({
        exitCode: 52,
        stdout: '',
        stderr: `qwen: Cannot save the settings: cannot create ${sandbox.qwenHome} (permission denied). Let your user write there (chmod u+rwx ${sandbox.home}, or chown it to yourself), then try again.\n`,
      });
    });

    test('qwen auth logout: exit 52 naming the file and the fix; the file stays', async () => {
      cacheCredentials({ access: 'access-x', expiresInMs: 3_600_000 });
      closeForWrites();
      expect(await asTheUser(['auth', 'logout'])).toEqual({
        exitCode: 52,
        stdout: '',
        stderr: `qwen: ${credentialsPath()}: cannot remove the file (permission denied). Let your user write there (chmod u+rwx ${sandbox.qwenHome}, or chown it to yourself), then try again.\n`,
      });
      expect(existsSync(credentialsPath())).toBe(true);
    });
  });

  test('logout removes the credentials and the lock, and says so', async () => {
    cacheCredentials({ access: 'access-x', expiresInMs: 3_600_000 });
    writeFileSync(lockPath(), 'left-behind');
    const result = await qwen(['auth', 'logout']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(credentialsPath());
    expect(result.stdout).toContain(lockPath());
    expect(existsSync(credentialsPath())).toBe(false);
    expect(existsSync(lockPath())).toBe(false);
    const again = await qwen(['auth', 'logout']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('nothing removed');
  });
});
