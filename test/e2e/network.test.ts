// Corporate networks, end to end, from source and in the compiled binary: a private certificate authority
// (trusted only through NODE_EXTRA_CA_CERTS), a CONNECT proxy that counts what passes through it, NO_PROXY,
// proxy credentials, the precedence of --proxy over the setting over the environment, and the failures
// along the way (untrusted certificate, dead proxy, refused connection, idle stream, whole-request timeout),
// each of which must say what to change.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type ConnectProxy, startConnectProxy } from '../fakes/connect-proxy.ts';
import { startFakeOAuth } from '../fakes/oauth-server.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import {
  createTestCertificates,
  type HttpsFake,
  startHttpsFakeOpenAi,
  type TestCertificates,
} from '../fakes/tls.ts';
import {
  type CliFlavour,
  ensureBinary,
  headlessFlavours,
  makeSandbox,
  runCli,
  type Sandbox,
} from './harness.ts';

/** A port nothing listens on: connections to it are refused at once. */
const deadProxy = 'http://127.0.0.1:1';

let certificates: TestCertificates;
let httpsFake: HttpsFake;
let plainFake: FakeOpenAi;
let proxy: ConnectProxy;
let lockedProxy: ConnectProxy;

beforeAll(async () => {
  certificates = createTestCertificates();
  httpsFake = startHttpsFakeOpenAi(certificates);
  plainFake = startFakeOpenAi();
  proxy = await startConnectProxy();
  lockedProxy = await startConnectProxy({ credentials: 'alice:s3cr3t-pass' });
  await ensureBinary();
}, 60_000);

afterAll(async () => {
  await httpsFake.stop();
  await plainFake.stop();
  await proxy.close();
  await lockedProxy.close();
});

function modelFlags(baseUrl: string): string[] {
  return [
    '--auth-type',
    'openai',
    '--openai-api-key',
    'sk-test-network-0001',
    '--openai-base-url',
    baseUrl,
    '-m',
    'm',
  ];
}

interface Scenario {
  flavour: CliFlavour;
  baseUrl: string;
  args?: string[];
  env?: Record<string, string>;
  settings?: object;
  prepare?: (sandbox: Sandbox) => void;
}

async function run(scenario: Scenario) {
  const sandbox = makeSandbox();
  try {
    if (scenario.settings) sandbox.userSettings(scenario.settings);
    scenario.prepare?.(sandbox);
    return await runCli([...modelFlags(scenario.baseUrl), ...(scenario.args ?? []), 'hi'], {
      sandbox,
      flavour: scenario.flavour,
      env: scenario.env,
      timeoutMs: 9_000,
    });
  } finally {
    sandbox.cleanup();
  }
}

/** Counts what passes through a proxy during `action`. */
async function counting<T>(target: ConnectProxy, action: () => Promise<T>): Promise<[T, string[]]> {
  const before = target.requests.length;
  const result = await action();
  return [result, target.requests.slice(before).map((request) => `${request.method} ${request.target}`)];
}

for (const flavour of headlessFlavours) {
  describe(`certificates (${flavour})`, () => {
    test('a private CA is refused without NODE_EXTRA_CA_CERTS, naming the host and both remedies', async () => {
      const before = httpsFake.requests.length;
      const result = await run({ flavour, baseUrl: httpsFake.url });
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`127.0.0.1:${httpsFake.port}`);
      expect(result.stderr).toContain('NODE_EXTRA_CA_CERTS=/path/ca.pem');
      expect(result.stderr).toContain('--insecure');
      expect(result.stderr).toContain('QWEN_TLS_INSECURE=1');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(httpsFake.requests.length).toBe(before);
    });

    test('NODE_EXTRA_CA_CERTS makes the private CA trusted', async () => {
      const result = await run({
        flavour,
        baseUrl: httpsFake.url,
        env: { NODE_EXTRA_CA_CERTS: certificates.caPath },
      });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('Hello over TLS.\n');
      expect(result.exitCode).toBe(0);
    });

    test('NODE_EXTRA_CA_CERTS from the settings env works too (the runtime never sees it)', async () => {
      const result = await run({
        flavour,
        baseUrl: httpsFake.url,
        settings: { env: { NODE_EXTRA_CA_CERTS: certificates.caPath } },
      });
      expect(result.stdout).toBe('Hello over TLS.\n');
      expect(result.exitCode).toBe(0);
    });

    test('SSL_CERT_FILE in ~/.qwen/.env and SSL_CERT_DIR in the settings env are applied (the runtime never sees them)', async () => {
      const fromDotEnv = await run({
        flavour,
        baseUrl: httpsFake.url,
        prepare: (sandbox) => sandbox.write('home/.qwen/.env', `SSL_CERT_FILE=${certificates.caPath}\n`),
      });
      expect(fromDotEnv.stderr).toBe('');
      expect(fromDotEnv.stdout).toBe('Hello over TLS.\n');
      let directory = '';
      const fromSettings = await run({
        flavour,
        baseUrl: httpsFake.url,
        prepare: (sandbox) => {
          directory = path.dirname(
            sandbox.write('home/certs/0a1b2c3d.0', readFileSync(certificates.caPath, 'utf8')),
          );
          sandbox.write('home/certs/README', 'not a certificate');
          sandbox.userSettings({ env: { SSL_CERT_DIR: directory } });
        },
      });
      expect(fromSettings.stderr).toBe('');
      expect(fromSettings.stdout).toBe('Hello over TLS.\n');
      // A wrong path there is named, not taken for the server's fault.
      const missing = await run({
        flavour,
        baseUrl: httpsFake.url,
        settings: { env: { SSL_CERT_FILE: '/nowhere/bundle.pem' } },
      });
      expect(missing.exitCode).toBe(52);
      expect(missing.stderr).toContain('Cannot read SSL_CERT_FILE=/nowhere/bundle.pem: no such file.');
    });

    // Deno verifies certificates unless it is started with --unsafely-ignore-certificate-errors (README).
    test.skipIf(flavour === 'deno')('--insecure accepts it, with a warning on stderr', async () => {
      const result = await run({ flavour, baseUrl: httpsFake.url, args: ['--insecure'] });
      expect(result.stdout).toBe('Hello over TLS.\n');
      expect(result.stderr).toContain('TLS certificate verification is off (--insecure)');
      expect(result.exitCode).toBe(0);
      const byVariable = await run({ flavour, baseUrl: httpsFake.url, env: { QWEN_TLS_INSECURE: '1' } });
      expect(byVariable.stdout).toBe('Hello over TLS.\n');
      expect(byVariable.stderr).toContain('(QWEN_TLS_INSECURE=1)');
    });

    test('an unreadable NODE_EXTRA_CA_CERTS is a configuration error naming the file', async () => {
      const result = await run({
        flavour,
        baseUrl: httpsFake.url,
        env: { NODE_EXTRA_CA_CERTS: '/nowhere/corp-ca.pem' },
      });
      expect(result.exitCode).toBe(52);
      expect(result.stderr).toContain('NODE_EXTRA_CA_CERTS=/nowhere/corp-ca.pem');
    });
  });

  describe(`proxies (${flavour})`, () => {
    test('HTTPS through the CONNECT proxy with the private CA', async () => {
      const [result, passed] = await counting(proxy, () =>
        run({
          flavour,
          baseUrl: httpsFake.url,
          env: { HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: certificates.caPath },
        }),
      );
      expect(result.stdout).toBe('Hello over TLS.\n');
      expect(result.exitCode).toBe(0);
      expect(passed).toEqual([`CONNECT 127.0.0.1:${httpsFake.port}`]);
    });

    test('plain HTTP through the proxy; a proxy URL without a scheme is http://', async () => {
      const [result, passed] = await counting(proxy, () =>
        run({ flavour, baseUrl: plainFake.url, env: { http_proxy: proxy.url.replace('http://', '') } }),
      );
      expect(result.stdout).toBe('Hello from the fake.\n');
      expect(passed).toEqual([`POST ${plainFake.url}/chat/completions`]);
    });

    test('NO_PROXY hosts (names, host:port, IPs) go around the proxy', async () => {
      for (const noProxy of ['127.0.0.1', `localhost, 127.0.0.1:${httpsFake.port}`, '*', '127.0.0.0/8']) {
        const [result, passed] = await counting(proxy, () =>
          run({
            flavour,
            baseUrl: httpsFake.url,
            env: { HTTPS_PROXY: proxy.url, NO_PROXY: noProxy, NODE_EXTRA_CA_CERTS: certificates.caPath },
          }),
        );
        expect(result.stdout).toBe('Hello over TLS.\n');
        expect(passed).toEqual([]);
      }
      // Another port on the same host is not listed: through the proxy.
      const [, passed] = await counting(proxy, () =>
        run({
          flavour,
          baseUrl: httpsFake.url,
          env: { HTTPS_PROXY: proxy.url, no_proxy: '127.0.0.1:9', NODE_EXTRA_CA_CERTS: certificates.caPath },
        }),
      );
      expect(passed).toHaveLength(1);
    });

    test('our NO_PROXY rules are the ones that apply: NO_PROXY in settings beats a dead HTTPS_PROXY in the process', async () => {
      const result = await run({
        flavour,
        baseUrl: httpsFake.url,
        env: { HTTPS_PROXY: deadProxy, NODE_EXTRA_CA_CERTS: certificates.caPath },
        settings: { env: { NO_PROXY: '127.0.0.1' } },
      });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('Hello over TLS.\n');
    });

    test('--proxy beats the proxy setting, which beats the environment', async () => {
      const [flagResult, flagPassed] = await counting(proxy, () =>
        run({
          flavour,
          baseUrl: httpsFake.url,
          args: ['--proxy', proxy.url],
          settings: { proxy: deadProxy },
          env: { HTTPS_PROXY: deadProxy, NODE_EXTRA_CA_CERTS: certificates.caPath },
        }),
      );
      expect(flagResult.stdout).toBe('Hello over TLS.\n');
      expect(flagPassed).toHaveLength(1);

      const [settingResult, settingPassed] = await counting(proxy, () =>
        run({
          flavour,
          baseUrl: httpsFake.url,
          settings: { proxy: proxy.url },
          env: { HTTPS_PROXY: deadProxy, NODE_EXTRA_CA_CERTS: certificates.caPath },
        }),
      );
      expect(settingResult.stdout).toBe('Hello over TLS.\n');
      expect(settingPassed).toHaveLength(1);
    });

    test('proxy credentials in the URL work, and are never printed', async () => {
      const withCredentials = lockedProxy.url.replace('//', '//alice:s3cr3t-pass@');
      const [result, passed] = await counting(lockedProxy, () =>
        run({
          flavour,
          baseUrl: httpsFake.url,
          env: { HTTPS_PROXY: withCredentials, NODE_EXTRA_CA_CERTS: certificates.caPath },
        }),
      );
      expect(result.stdout).toBe('Hello over TLS.\n');
      expect(passed).toEqual([`CONNECT 127.0.0.1:${httpsFake.port}`]);

      const wrong = await run({
        flavour,
        baseUrl: httpsFake.url,
        args: ['--proxy', lockedProxy.url.replace('//', '//alice:wrong-pass-123@')],
        env: { NODE_EXTRA_CA_CERTS: certificates.caPath },
      });
      expect(wrong.exitCode).toBe(1);
      expect(wrong.stderr).toContain(`proxy http://127.0.0.1:${lockedProxy.port} (from --proxy)`);
      expect(wrong.stderr).toContain('407');
      expect(wrong.stderr).not.toContain('wrong-pass-123');

      const missing = await run({ flavour, baseUrl: plainFake.url, env: { HTTP_PROXY: lockedProxy.url } });
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr).toContain('asks for a user name and password');
    });

    test('OAuth token requests take the same way: a Qwen OAuth refresh goes through the proxy', async () => {
      const oauth = startFakeOAuth({ resourceUrl: plainFake.url });
      try {
        const [result, passed] = await counting(proxy, async () => {
          const sandbox = makeSandbox();
          try {
            sandbox.write('home/.qwen/oauth_creds.json', {
              access_token: 'access-old',
              refresh_token: 'refresh-cached',
              token_type: 'Bearer',
              resource_url: plainFake.url,
              expiry_date: Date.now() - 60_000,
            });
            return await runCli(['--auth-type', 'qwen-oauth', 'hi'], {
              sandbox,
              flavour,
              env: { QWEN_OAUTH_BASE_URL: oauth.url, NO_BROWSER: '1', HTTP_PROXY: proxy.url },
              timeoutMs: 9_000,
            });
          } finally {
            sandbox.cleanup();
          }
        });
        expect(result.stderr).toBe('');
        expect(result.exitCode).toBe(0);
        expect(oauth.refreshCount).toBe(1);
        expect(passed.filter((line) => line.startsWith(`POST ${oauth.url}`))).toHaveLength(1);
        expect(passed).toContain(`POST ${plainFake.url}/chat/completions`);
      } finally {
        await oauth.stop();
      }
    });

    test('qwen auth qwen-oauth: the device login goes through --proxy too', async () => {
      const oauth = startFakeOAuth({ resourceUrl: plainFake.url, interval: 0.02 });
      try {
        const [result, passed] = await counting(proxy, async () => {
          const sandbox = makeSandbox();
          try {
            return await runCli(['auth', 'qwen-oauth', '--proxy', proxy.url], {
              sandbox,
              flavour,
              env: { QWEN_OAUTH_BASE_URL: oauth.url, NO_BROWSER: '1' },
              timeoutMs: 9_000,
            });
          } finally {
            sandbox.cleanup();
          }
        });
        expect(result.exitCode).toBe(0);
        expect(passed.filter((line) => line.startsWith(`POST ${oauth.url}`)).length).toBeGreaterThanOrEqual(
          2,
        );
      } finally {
        await oauth.stop();
      }
    });

    test('an error status the proxy gave (no JSON error in it) names the proxy and NO_PROXY', async () => {
      // The fake proxy answers 502 itself when it cannot reach the target.
      const result = await run({
        flavour,
        baseUrl: 'http://llm.internal.invalid/v1',
        settings: { model: { generationConfig: { maxRetries: 0 } } },
        env: { HTTP_PROXY: proxy.url.replace('//', '//bob:pr0xy-pass-77@') },
      });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(
        `llm.internal.invalid answered 502 through the proxy http://127.0.0.1:${proxy.port} (from HTTP_PROXY)`,
      );
      expect(result.stderr).toContain('add it to NO_PROXY');
      expect(result.stderr).not.toContain('pr0xy-pass-77');
      // The server's own JSON error through the same proxy is the server's, as without one.
      plainFake.setResponses({ status: 400 });
      try {
        const served = await run({ flavour, baseUrl: plainFake.url, env: { HTTP_PROXY: proxy.url } });
        expect(served.stderr).toContain(`127.0.0.1:${plainFake.port} answered 400: Fake server error 400`);
        expect(served.stderr).not.toContain('through the proxy');
      } finally {
        plainFake.setResponses();
      }
    });

    test('a 407 with no proxy configured (a transparent proxy) says how to give it credentials', async () => {
      const transparent = Bun.serve({
        hostname: '127.0.0.1',
        port: 0,
        fetch: () => new Response('', { status: 407, headers: { 'proxy-authenticate': 'Basic' } }),
      });
      try {
        const result = await run({ flavour, baseUrl: `http://127.0.0.1:${transparent.port}/v1` });
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toContain(`127.0.0.1:${transparent.port} answered 407`);
        expect(result.stderr).toContain(
          'A proxy on the way asks for a user name and password: set HTTPS_PROXY=http://user:password@host:port',
        );
      } finally {
        await transparent.stop(true);
      }
    });

    test('a dead proxy is named (not the target), at once', async () => {
      const startedAt = performance.now();
      const result = await run({
        flavour,
        baseUrl: httpsFake.url,
        env: { HTTPS_PROXY: `http://user:hunter2-secret@127.0.0.1:1` },
      });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('Could not reach the proxy http://127.0.0.1:1 (from HTTPS_PROXY)');
      expect(result.stderr).toContain('connection refused');
      expect(result.stderr).not.toContain('hunter2-secret');
      // No retries with backoff for a proxy that is not there.
      expect(performance.now() - startedAt).toBeLessThan(3_000);
    });
  });

  describe(`timeouts and connection failures (${flavour})`, () => {
    test('a proxy that takes the connection and never answers is named with the server when the wait ends', async () => {
      // A listener that accepts and stays silent: no CONNECT reply ever comes.
      const silent = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
      try {
        const result = await run({
          flavour,
          baseUrl: httpsFake.url,
          settings: { model: { generationConfig: { maxRetries: 0 } } },
          env: { HTTPS_PROXY: `http://127.0.0.1:${silent.port}`, QWEN_STREAM_IDLE_TIMEOUT_MS: '300' },
        });
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toContain(
          `Nothing came back from 127.0.0.1:${httpsFake.port} (not even the response headers) for 300 ms; stopped waiting (through the proxy http://127.0.0.1:${silent.port} from HTTPS_PROXY, which may be what is not answering).`,
        );
        expect(result.stderr).toContain('The host or the proxy may be unreachable or very slow');
        expect(result.stderr).toContain('add it to NO_PROXY');
      } finally {
        silent.stop(true);
      }
    });

    test('a refused connection names the host and the setting that pointed there', async () => {
      // A port nobody listens on (Deno refuses to connect to well-known ones such as 1 at all).
      const closed = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() });
      const port = closed.port;
      await closed.stop(true);
      const result = await run({
        flavour,
        baseUrl: `http://127.0.0.1:${port}/v1`,
        settings: { model: { generationConfig: { maxRetries: 1 } } },
      });
      expect(result.exitCode).toBe(1);
      // The retry is announced as every other one is, then the failure names the host and the setting.
      const [retry, failure] = result.stderr.split('\n');
      expect(retry).toMatch(/^Retrying in 0\.\d s \(attempt 1\): connection refused$/);
      expect(failure).toContain(`127.0.0.1:${port}`);
      expect(failure).toContain('--openai-base-url');
      expect(failure).toContain('connection refused');
    });

    test('a stream that stops sending bytes ends after QWEN_STREAM_IDLE_TIMEOUT_MS, naming it', async () => {
      // It stops after the first piece of text (a stop before any text is retried: the test below).
      plainFake.setResponses({ stream: { text: ['Hel', 'lo', ' never ends'] }, hangAfterBytes: 620 });
      try {
        const startedAt = performance.now();
        const result = await run({
          flavour,
          baseUrl: plainFake.url,
          env: { QWEN_STREAM_IDLE_TIMEOUT_MS: '600' },
        });
        expect(result).toMatchObject({ exitCode: 1, stdout: 'Hel\n' });
        expect(result.stderr).toContain(`No data from 127.0.0.1:${plainFake.port} for 600 ms`);
        expect(result.stderr).toContain('QWEN_STREAM_IDLE_TIMEOUT_MS');
        expect(performance.now() - startedAt).toBeLessThan(5_000);
      } finally {
        plainFake.setResponses();
      }
    });

    test('keep-alive comments alone end after QWEN_STREAM_MAX_LIFETIME_MS, naming it, and are not retried', async () => {
      // A comment every 100 ms: never idle, never an answer (a gateway whose model never starts).
      const keepAlive = ': OPENROUTER PROCESSING\n\n';
      plainFake.setResponses(
        { sse: keepAlive.repeat(600), slices: { size: keepAlive.length, delayMs: 100 } },
        { stream: { text: ['never asked'] } },
      );
      try {
        const startedAt = performance.now();
        const result = await run({
          flavour,
          baseUrl: plainFake.url,
          env: { QWEN_STREAM_IDLE_TIMEOUT_MS: '500', QWEN_STREAM_MAX_LIFETIME_MS: '1200' },
        });
        expect(result).toMatchObject({ exitCode: 1, stdout: '' });
        expect(result.stderr).toContain(`The stream from 127.0.0.1:${plainFake.port} went on for 1200 ms`);
        expect(result.stderr).toContain('QWEN_STREAM_MAX_LIFETIME_MS');
        expect(result.stderr).not.toContain('Retrying');
        expect(plainFake.requests).toHaveLength(1);
        expect(performance.now() - startedAt).toBeLessThan(10_000);
      } finally {
        plainFake.setResponses();
      }
    });

    test('0 turns a stream limit or the request timeout off, and so does a value past what a timer can wait', async () => {
      plainFake.setResponses({
        stream: { text: ['slow ', 'but ', 'whole'] },
        slices: { size: 60, delayMs: 30 },
      });
      try {
        for (const value of ['0', '3000000000']) {
          const result = await run({
            flavour,
            baseUrl: plainFake.url,
            env: {
              QWEN_STREAM_IDLE_TIMEOUT_MS: value,
              QWEN_STREAM_MAX_LIFETIME_MS: value,
              QWEN_CODE_API_TIMEOUT_MS: value,
            },
          });
          expect(result).toMatchObject({ exitCode: 0, stdout: 'slow but whole\n', stderr: '' });
        }
      } finally {
        plainFake.setResponses();
      }
    });

    test('an idle timeout that is not a number of milliseconds is ignored with a note', async () => {
      plainFake.setResponses({ stream: { text: ['fine'] } });
      try {
        const result = await run({
          flavour,
          baseUrl: plainFake.url,
          env: { QWEN_STREAM_IDLE_TIMEOUT_MS: '30s' },
        });
        expect(result).toMatchObject({ exitCode: 0, stdout: 'fine\n' });
        expect(result.stderr).toBe(
          'Ignoring QWEN_STREAM_IDLE_TIMEOUT_MS="30s": it takes a number of milliseconds, such as 120000.\n',
        );
      } finally {
        plainFake.setResponses();
      }
    });

    test('a server that never answers trips the idle timeout; before any text that is retried', async () => {
      plainFake.setResponses({ hangBeforeHeaders: true }, { stream: { text: ['second try'] } });
      try {
        const retried = await run({
          flavour,
          baseUrl: plainFake.url,
          env: { QWEN_STREAM_IDLE_TIMEOUT_MS: '500' },
        });
        expect(retried).toMatchObject({ exitCode: 0, stdout: 'second try\n' });
        expect(retried.stderr).toMatch(/^Retrying in \d\.\d s \(attempt 1\): no data for 500 ms\n$/);
        plainFake.setResponses({ hangBeforeHeaders: true });
        const result = await run({
          flavour,
          baseUrl: plainFake.url,
          settings: { model: { generationConfig: { maxRetries: 0 } } },
          env: { QWEN_STREAM_IDLE_TIMEOUT_MS: '500' },
        });
        expect(result.exitCode).toBe(1);
        // Not even the headers came: the host may be out of reach, not a model thinking.
        expect(result.stderr).toContain(
          `Nothing came back from 127.0.0.1:${plainFake.port} (not even the response headers) for 500 ms; stopped waiting.`,
        );
        expect(result.stderr).toContain(
          'a firewall dropping packets, or a proxy needed: HTTP_PROXY / NO_PROXY',
        );
        expect(result.stderr).toContain('QWEN_STREAM_IDLE_TIMEOUT_MS (ms) bounds this wait.');
        expect(result.stderr).not.toContain('thinks for a long time');
      } finally {
        plainFake.setResponses();
      }
    });

    test('generationConfig.timeout stops the whole request, naming the setting', async () => {
      // Bytes keep coming (so the idle timeout never fires), but the whole answer takes too long.
      plainFake.setResponses({
        stream: { text: Array.from({ length: 40 }, () => 'tick ') },
        slices: { size: 20, delayMs: 50 },
      });
      try {
        const result = await run({
          flavour,
          baseUrl: plainFake.url,
          // No retry: a timeout before any text would be tried again (the test above).
          settings: { model: { generationConfig: { timeout: 700, maxRetries: 0 } } },
          env: { QWEN_STREAM_IDLE_TIMEOUT_MS: '5000' },
        });
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toContain('longer than 700 ms');
        // Only the setting that set the limit: the variable cannot raise it, and there is no entry.
        expect(result.stderr).toContain('Raise model.generationConfig.timeout in settings.json (ms).');
        expect(result.stderr).not.toContain('QWEN_CODE_API_TIMEOUT_MS');
        expect(result.stderr).not.toContain('model entry');
        // From the variable, the variable is named.
        const ticking = () =>
          plainFake.setResponses({
            stream: { text: Array.from({ length: 40 }, () => 'tick ') },
            slices: { size: 20, delayMs: 50 },
          });
        ticking();
        const fromVariable = await run({
          flavour,
          baseUrl: plainFake.url,
          settings: { model: { generationConfig: { maxRetries: 0 } } },
          env: { QWEN_STREAM_IDLE_TIMEOUT_MS: '5000', QWEN_CODE_API_TIMEOUT_MS: '700' },
        });
        expect(fromVariable.stderr).toContain(
          'longer than 700 ms and was stopped. Raise QWEN_CODE_API_TIMEOUT_MS (ms).',
        );
        // The entry's timeout wins over the variable: the entry is named, the variable is not.
        ticking();
        const fromEntry = await run({
          flavour,
          baseUrl: plainFake.url,
          settings: {
            modelProviders: {
              openai: [
                { id: 'm', baseUrl: plainFake.url, generationConfig: { timeout: 700, maxRetries: 0 } },
              ],
            },
          },
          env: { QWEN_STREAM_IDLE_TIMEOUT_MS: '5000', QWEN_CODE_API_TIMEOUT_MS: '60000' },
        });
        expect(fromEntry.stderr).toContain(
          'Raise generationConfig.timeout of the modelProviders.openai entry "m" in settings.json (ms).',
        );
        expect(fromEntry.stderr).not.toContain('QWEN_CODE_API_TIMEOUT_MS');
      } finally {
        plainFake.setResponses();
      }
    });
  });
}
