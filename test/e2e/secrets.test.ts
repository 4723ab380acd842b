// The house rule end to end: a key a server echoes mid-stream, a token a token endpoint sends back or
// echoes, and the credentials inside a URL never reach stdout or stderr; their masked forms do.
import { afterEach, describe, expect, test } from 'bun:test';
import {
  type AnthropicStreamOptions,
  anthropicStream,
  startFakeAnthropic,
} from '../fakes/anthropic-server.ts';
import { geminiStream, startFakeGemini } from '../fakes/gemini-server.ts';
import { type FakeOAuthOptions, startFakeOAuth } from '../fakes/oauth-server.ts';
import { startFakeOpenAi } from '../fakes/openai-server.ts';
import { type CliResult, makeSandbox, runCli, type Sandbox } from './harness.ts';

const stops: (() => Promise<void>)[] = [];
let sandbox: Sandbox;

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  sandbox?.cleanup();
});

function run(args: string[], env: Record<string, string>): Promise<CliResult> {
  sandbox = makeSandbox();
  return runCli(args, { sandbox, env });
}

function expectHidden(result: CliResult, secret: string, masked: string): void {
  expect(result.stdout).not.toContain(secret);
  expect(result.stderr).not.toContain(secret);
  expect(`${result.stdout}${result.stderr}`).toContain(masked);
}

describe('a stream that fails midway does not print the key the server echoes', () => {
  const key = 'sk-test-SECRET1234';

  test('OpenAI-compatible: text, json and stream-json', async () => {
    const fake = startFakeOpenAi({
      sse:
        'data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n' +
        `data: {"error":{"message":"key ${key} revoked"}}\n\n`,
    });
    stops.push(fake.stop);
    const env = { OPENAI_API_KEY: key, OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'm' };
    for (const format of ['text', 'json', 'stream-json']) {
      const result = await run(['-o', format, 'hi'], env);
      expect(result.exitCode).toBe(1);
      expectHidden(result, key, 'key sk-...1234 revoked');
      if (format !== 'text') expect(result.stdout).toContain('sk-...1234');
    }
  });

  test('a data line that is not JSON and quotes the key: masked before it is cut to length', async () => {
    const longKey = `sk-proj-${'A1b2C3d4E5'.repeat(8)}`;
    const fake = startFakeOpenAi({ sse: `data: Incorrect API key provided: ${longKey} check it\n\n` });
    stops.push(fake.stop);
    const result = await run(['hi'], {
      OPENAI_API_KEY: longKey,
      OPENAI_BASE_URL: fake.url,
      OPENAI_MODEL: 'm',
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      'an event is not valid JSON: Incorrect API key provided: sk-...d4E5 check it',
    );
    expect(result.stderr).not.toContain('A1b2C3d4E5');
  });

  test('a rate limit before any text that quotes the key: the retry notice is masked too', async () => {
    const fake = startFakeOpenAi([
      { sse: `data: {"error":{"message":"slow down, ${key}","code":"rate_limit_exceeded"}}\n\n` },
      { stream: { text: ['ok'] } },
    ]);
    stops.push(fake.stop);
    const result = await run(['hi'], { OPENAI_API_KEY: key, OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'm' });
    expect(result.exitCode).toBe(0);
    expectHidden(result, key, '429 slow down, sk-...1234');
  });

  test('Anthropic: an error event quoting the x-api-key value', async () => {
    const anthropicKey = 'sk-ant-api03-SECRET-5678';
    const stream: AnthropicStreamOptions = {
      text: ['Hi'],
      errorType: 'invalid_request_error',
      errorMessage: `x-api-key ${anthropicKey} is revoked`,
    };
    const fake = startFakeAnthropic({ sse: anthropicStream(stream) }, { apiKey: anthropicKey });
    stops.push(fake.stop);
    const result = await run(['hi'], {
      ANTHROPIC_API_KEY: anthropicKey,
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_MODEL: 'claude-sonnet-4-5',
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toStartWith('Hi');
    expectHidden(result, anthropicKey, 'x-api-key sk-...5678 is revoked');
  });

  test('Gemini: an {error} chunk quoting the API key', async () => {
    const geminiKey = 'AIzaSyE2eSECRET-GeminiKey9012';
    const fake = startFakeGemini(
      {
        sse: geminiStream({
          text: ['Hi'],
          error: { code: 403, message: `API key ${geminiKey} was revoked`, status: 'PERMISSION_DENIED' },
        }),
      },
      { apiKey: geminiKey },
    );
    stops.push(fake.stop);
    const result = await run(['--auth-type', 'gemini', 'hi'], {
      GEMINI_API_KEY: geminiKey,
      GOOGLE_GEMINI_BASE_URL: fake.url,
      GEMINI_MODEL: 'gemini-2.5-pro',
    });
    // A 403 inside the stream is a refused key, as over HTTP.
    expect(result.exitCode).toBe(41);
    expectHidden(result, geminiKey, 'API key AIz...9012 was revoked');
  });
});

describe('messages built from a token endpoint mask the tokens', () => {
  function oauth(options: FakeOAuthOptions) {
    const chat = startFakeOpenAi([{ stream: { text: ['unused'] } }]);
    const server = startFakeOAuth({ interval: 0.02, resourceUrl: chat.url, ...options });
    stops.push(chat.stop, server.stop);
    return server;
  }

  test('a refresh answered 500 with the refresh token in the body', async () => {
    const refreshToken = 'qort-REFRESH-SECRET';
    const server = oauth({
      refreshOutcomes: [
        {
          status: 500,
          body: (form) => ({
            error: 'server_error',
            // The server knows the expired access token too, though the refresh does not send it.
            error_description: `refresh token ${form['refresh_token']} is bad (was qoat-EXPIRED-000000001)`,
            access_token: 'qoat-ACCESS-SECRET-0042',
          }),
        },
      ],
    });
    sandbox = makeSandbox();
    sandbox.write('home/.qwen/oauth_creds.json', {
      access_token: 'qoat-EXPIRED-000000001',
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expiry_date: Date.now() - 1000,
    });
    const result = await runCli(['--auth-type', 'qwen-oauth', 'hi'], {
      sandbox,
      env: { QWEN_OAUTH_BASE_URL: server.url },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      `Could not refresh the Qwen OAuth token: ${new URL(server.url).host} answered HTTP 500`,
    );
    expectHidden(result, refreshToken, 'refresh token qort-...CRET is bad');
    expectHidden(result, 'qoat-ACCESS-SECRET-0042', 'qoat-...0042');
    expectHidden(result, 'qoat-EXPIRED-000000001', 'was qoat-...0001');
  });

  test('device login: a poll refused with a description quoting what was sent', async () => {
    const server = oauth({
      pollOutcomes: [
        {
          status: 400,
          body: (form) => ({
            error: 'invalid_grant',
            error_description: `verifier ${form['code_verifier']} does not match ${form['device_code']}`,
          }),
        },
      ],
    });
    const result = await run(['auth', 'qwen-oauth'], { QWEN_OAUTH_BASE_URL: server.url, NO_BROWSER: '1' });
    expect(result.exitCode).toBe(41);
    const sent = server.requests.find((request) => request.form['code_verifier'] !== undefined)?.form;
    expectHidden(result, sent?.['code_verifier'] ?? 'missing', 'Qwen OAuth login failed: invalid_grant');
    expectHidden(result, 'device-code-1', 'device-...de-1');
  });

  test('device login: a device authorization answered 500 with a token in the body', async () => {
    const server = oauth({
      deviceCodeAnswer: {
        status: 500,
        body: () => ({ error: 'oops', access_token: 'qoat-LEAKED-TOKEN-7777' }),
      },
    });
    const result = await run(['auth', 'qwen-oauth'], { QWEN_OAUTH_BASE_URL: server.url, NO_BROWSER: '1' });
    expect(result.exitCode).toBe(41);
    expectHidden(result, 'qoat-LEAKED-TOKEN-7777', 'Device authorization failed: 500');
    expect(result.stderr).toContain('qoat-...7777');
  });
});

describe('URLs are shown with their credentials masked', () => {
  test('auth status: the password and a token in the query', async () => {
    const result = await run(['auth', 'status'], {
      OPENAI_API_KEY: 'sk-status-0001',
      OPENAI_MODEL: 'm',
      OPENAI_BASE_URL: 'http://admin:hunter2pass@127.0.0.1:9/v1?token=tok-SECRET-5678&region=eu',
    });
    expectHidden(result, 'hunter2pass', 'http://admin:***@127.0.0.1:9/v1?token=***&region=eu');
    expect(`${result.stdout}${result.stderr}`).not.toContain('tok-SECRET-5678');
  });

  test('an invalid base URL (exit 52) is named without its userinfo or sensitive query values', async () => {
    const result = await run(['hi'], {
      OPENAI_API_KEY: 'sk-invalid-0001',
      OPENAI_MODEL: 'm',
      OPENAI_BASE_URL: 'http://admin:hunter2pass@bad host/v1?api_key=key-SECRET-9999',
    });
    expect(result.exitCode).toBe(52);
    expectHidden(result, 'hunter2pass', 'http://admin:***@bad host/v1?api_key=***');
    expect(result.stderr).toContain('Fix it where it was set (OPENAI_BASE_URL in the environment)');
    expect(result.stderr).not.toContain('key-SECRET-9999');

    // Without a scheme it is no URL at all, and the password is still one.
    const schemeless = await run(['hi'], {
      OPENAI_API_KEY: 'sk-invalid-0001',
      OPENAI_MODEL: 'm',
      OPENAI_BASE_URL: 'user:pa55word@host/v1',
    });
    expect(schemeless.exitCode).toBe(52);
    expect(schemeless.stderr).not.toContain('pa55word');
  });

  test('a key given where the base URL or the proxy goes (two CI secrets swapped) is shown masked', async () => {
    const key = 'sk-proj-SWAPPEDsecret1234567890abcd';
    const swapped = { OPENAI_API_KEY: 'http://127.0.0.1:9/v1', OPENAI_MODEL: 'm', OPENAI_BASE_URL: key };
    for (const args of [['hi'], ['auth', 'status']]) {
      const result = await run(args, swapped);
      expect(result.exitCode).toBe(52);
      expectHidden(result, key, 'The base URL is not a valid URL: sk-...abcd');
    }
    const proxied = await run(['hi'], {
      OPENAI_API_KEY: 'sk-proxy-0001',
      OPENAI_MODEL: 'm',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      HTTPS_PROXY: key,
      HTTP_PROXY: key,
    });
    expect(proxied.exitCode).toBe(1);
    expectHidden(proxied, key.toLowerCase(), 'the proxy http://sk-...abcd (from HTTP_PROXY)');
  });
});

describe('a key put in envKey by mistake', () => {
  const key = 'sk-test-SECRET1234567890';

  test('is shown masked, with what envKey is for: the run (exit 41, json too) and auth status', async () => {
    const fake = startFakeOpenAi({ stream: { text: ['never'] } });
    stops.push(fake.stop);
    sandbox = makeSandbox();
    sandbox.userSettings({
      security: { auth: { selectedType: 'openai' } },
      modelProviders: { openai: [{ id: 'm', envKey: key, baseUrl: fake.url }] },
    });
    const runs = [
      await runCli(['hi'], { sandbox }),
      await runCli(['-o', 'json', 'hi'], { sandbox }),
      await runCli(['auth', 'status'], { sandbox }),
      await runCli(['auth', 'status', '-o', 'json'], { sandbox }),
    ];
    for (const result of runs) {
      expect(result.exitCode).toBe(41);
      expectHidden(result, key, 'envKey "sk-...7890" is not a variable name');
      expect(`${result.stdout}${result.stderr}`).toContain('for example OPENAI_API_KEY');
    }
    expect(runs[0]?.stderr).toContain('Set "envKey": "OPENAI_API_KEY"');
    expect(runs[2]?.stdout).toContain('API key:     none (envKey "sk-...7890" is not a variable name');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('a key or header that cannot go in an HTTP header', () => {
  const key = 'sk-test-SECRET1234567890';

  test('a key pasted with a curly quote: exit 41 naming where it is set, nothing sent, the key not shown', async () => {
    const fake = startFakeOpenAi({ stream: { text: ['never'] } });
    stops.push(fake.stop);
    sandbox = makeSandbox();
    const env = { OPENAI_API_KEY: `${key}\u201d`, OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'm' };
    const run = await runCli(['hi'], { sandbox, env });
    expect(run.exitCode).toBe(41);
    expect(run.stderr).toContain(
      'The API key for openai model "m" (OPENAI_API_KEY in the environment) cannot be sent: it has "\u201d" (U+201D) at position 25.',
    );
    const status = await runCli(['auth', 'status'], { sandbox, env });
    expect(status.exitCode).toBe(41);
    expect(status.stdout).toContain('API key:     unusable, it has "\u201d" (U+201D) at position 25');
    for (const result of [run, status]) expect(`${result.stdout}${result.stderr}`).not.toContain('SECRET');
    expect(fake.requests).toHaveLength(0);
  });

  test('a key wrapped in the escape sequences of a bracketed paste: exit 41, nothing written raw', async () => {
    const fake = startFakeOpenAi({ stream: { text: ['never'] } });
    stops.push(fake.stop);
    sandbox = makeSandbox();
    const env = {
      OPENAI_API_KEY: `\u001b[200~${key}\u001b[201~`,
      OPENAI_BASE_URL: fake.url,
      OPENAI_MODEL: 'm',
    };
    const run = await runCli(['hi'], { sandbox, env });
    expect(run.exitCode).toBe(41);
    expect(run.stderr).toContain('cannot be sent: it has a control character (U+001B) at position 1.');
    const status = await runCli(['auth', 'status'], { sandbox, env });
    expect(status.exitCode).toBe(41);
    for (const result of [run, status]) {
      expect(`${result.stdout}${result.stderr}`).not.toContain('\u001b');
      expect(`${result.stdout}${result.stderr}`).not.toContain('SECRET');
    }
    expect(fake.requests).toHaveLength(0);
  });

  test('a custom header with a line break: exit 52 naming the header, its value not shown', async () => {
    const fake = startFakeOpenAi({ stream: { text: ['never'] } });
    stops.push(fake.stop);
    sandbox = makeSandbox();
    const settingsFile = sandbox.userSettings({
      security: { auth: { selectedType: 'openai' } },
      model: { name: 'm' },
      modelProviders: {
        openai: [
          {
            id: 'm',
            envKey: 'ENTRY_KEY',
            baseUrl: fake.url,
            generationConfig: { customHeaders: { 'X-Token': 'SECRET-line-one\nline-two' } },
          },
        ],
      },
    });
    const result = await runCli(['hi'], { sandbox, env: { ENTRY_KEY: key } });
    expect(result.exitCode).toBe(52);
    expect(result.stderr).toContain(
      `${settingsFile}: modelProviders.openai[0].generationConfig.customHeaders: the value of the header "X-Token" cannot be sent: it has a line break (U+000A) at position 16.`,
    );
    expect(result.stderr).not.toContain('SECRET');
    expect(fake.requests).toHaveLength(0);
  });

  test('a custom header name that cannot be sent: exit 52 naming the file, the JSON path and what a name is', async () => {
    const fake = startFakeOpenAi({ stream: { text: ['never'] } });
    stops.push(fake.stop);
    sandbox = makeSandbox();
    const settingsFile = sandbox.userSettings({
      security: { auth: { selectedType: 'openai' } },
      modelProviders: {
        openai: [
          {
            id: 'm',
            envKey: 'ENTRY_KEY',
            baseUrl: fake.url,
            generationConfig: { customHeaders: { 'X A': 'v' } },
          },
        ],
      },
    });
    const result = await runCli(['hi'], { sandbox, env: { ENTRY_KEY: key } });
    expect(result.exitCode).toBe(52);
    expect(result.stderr).toContain(
      `${settingsFile}: modelProviders.openai[0].generationConfig.customHeaders: the header name "X A" cannot be sent: a header name holds only letters, digits and -`,
    );
    expect(result.stderr).toContain('a name is one word such as X-Request-Id');
    expect(result.stderr).not.toContain('multi-line variable');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('network failures quote no URL', () => {
  test('a reply that claims gzip but is not: retries and the last line name the failure, not the ?key= URL', async () => {
    const key = 'sk-test-SECRET1234567890';
    const fake = startFakeOpenAi({
      headers: { 'content-encoding': 'gzip' },
      sse: 'data: not gzip at all\n\n',
    });
    stops.push(fake.stop);
    const result = await run(['hi'], {
      OPENAI_API_KEY: 'sk-header-key-1234',
      OPENAI_BASE_URL: `${fake.url}?key=${key}`,
      OPENAI_MODEL: 'm',
    });
    expect(result.exitCode).toBe(1);
    const ours = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('Retrying') || line.startsWith('qwen:'));
    expect(ours).toHaveLength(4);
    for (const line of ours) expect(line).toContain('the compressed reply could not be decompressed');
    expect(result.stderr).not.toContain('SECRET');
    expect(result.stderr).not.toContain('verbose: true');
  });
});

describe("a proxy's credentials", () => {
  test('echoed back by a proxy that refuses the request: masked on stderr and in the JSON result', async () => {
    const password = 'prx-secret-999';
    // A plain-HTTP proxy gets the request itself, with Proxy-Authorization, and answers it: here with a 400
    // whose message quotes what it received.
    const proxy = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(request) {
        const header = request.headers.get('proxy-authorization') ?? '';
        const decoded = atob(header.replace(/^Basic /, ''));
        return Response.json(
          { error: { message: `refused: Proxy-Authorization: ${header} (decoded ${decoded})` } },
          { status: 400 },
        );
      },
    });
    stops.push(async () => proxy.stop(true));
    const flags = [
      '--openai-api-key',
      'sk-test-SECRET1234',
      '--openai-base-url',
      'http://127.0.0.1:9/v1',
      '-m',
      'm',
    ];
    for (const format of ['text', 'stream-json']) {
      const result = await run(
        [...flags, '--proxy', `http://u:${password}@127.0.0.1:${proxy.port}`, '-o', format, 'hi'],
        {},
      );
      expect(result.exitCode).toBe(1);
      const shown = `${result.stdout}${result.stderr}`;
      expect(shown).toContain('refused: Proxy-Authorization: Basic ');
      expect(shown).not.toContain(password);
      expect(shown).not.toContain(btoa(`u:${password}`));
    }
  });
});

describe('customHeaders values are secrets, whatever the header is called', () => {
  test('a server that echoes gateway credentials, a cookie and a password: all masked', async () => {
    const values = {
      'cf-aig-authorization': 'Bearer CFgatewaySECRET1234',
      'Helicone-Auth': 'Bearer sk-helicone-SECRET5678',
      Cookie: 'session=COOKIEsecret9999; theme=dark',
      'X-Auth': 'XAUTHsecret0000',
      'X-Password': 'PWsecret1111',
    };
    const echoed = 'CFgatewaySECRET1234 sk-helicone-SECRET5678 COOKIEsecret9999 XAUTHsecret0000 PWsecret1111';
    const fake = startFakeOpenAi([{ status: 400, body: { error: { message: `rejected: ${echoed}` } } }]);
    stops.push(fake.stop);
    sandbox = makeSandbox();
    sandbox.userSettings({
      modelProviders: {
        openai: [
          {
            id: 'm',
            envKey: 'K',
            baseUrl: fake.url,
            generationConfig: { maxRetries: 0, customHeaders: values },
          },
        ],
      },
      security: { auth: { selectedType: 'openai' } },
    });
    for (const format of ['text', 'json']) {
      const result = await runCli(['-o', format, '-m', 'm', 'hi'], {
        sandbox,
        env: { K: 'sk-abcdefgh12345678' },
      });
      expect(result.exitCode).toBe(1);
      expect(fake.requests.at(-1)?.headers['x-password']).toBe('PWsecret1111');
      for (const secret of echoed.split(' ')) {
        expect(result.stdout).not.toContain(secret);
        expect(result.stderr).not.toContain(secret);
      }
      expect(result.stderr).toContain('rejected: CFg...1234 sk-...5678 COO...9999 XAU...0000 PWs...1111');
    }
  });
});
