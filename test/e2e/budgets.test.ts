// --fallback-model and --max-wall-time end to end: the real CLI against the fake OpenAI-compatible server.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { commandFor, ensureBinary, headlessFlavours, makeSandbox, runCli, type Sandbox } from './harness.ts';

let fake: FakeOpenAi;
let sandbox: Sandbox;

beforeAll(async () => {
  fake = startFakeOpenAi([{ stream: { text: ['ok'] } }]);
  await ensureBinary();
});
afterAll(() => fake.stop());
afterEach(() => sandbox?.cleanup());

const keyFlags = () => ['--openai-api-key', 'sk-flag-0001', '--openai-base-url', fake.url, '-m', 'primary'];
const requestedModels = () => fake.requests.map((request) => (request.body as { model: string }).model);
/** Settings selecting `primary` (its key in PRIMARY_KEY, no retries) with one more entry. */
const primaryAnd = (other: Record<string, unknown>) => ({
  security: { auth: { selectedType: 'openai' } },
  model: { name: 'primary' },
  modelProviders: {
    openai: [
      { id: 'primary', baseUrl: fake.url, envKey: 'PRIMARY_KEY', generationConfig: { maxRetries: 0 } },
      other,
    ],
  },
});
const refused = (status: number, message: string) => ({
  status,
  headers: { 'retry-after-ms': '1' },
  body: { error: { message } },
});

for (const flavour of headlessFlavours) {
  describe(`--fallback-model (${flavour})`, () => {
    test('a model still rate limited after its retries hands the prompt to the fallback', async () => {
      sandbox = makeSandbox();
      const limited = refused(429, 'Rate limit reached');
      fake.setResponses(limited, limited, limited, limited, { stream: { text: ['from fallback'] } });
      const result = await runCli([...keyFlags(), '--fallback-model', 'spare', '-o', 'json', 'x'], {
        sandbox,
        flavour,
      });
      expect(result.exitCode).toBe(0);
      expect(requestedModels()).toEqual(['primary', 'primary', 'primary', 'primary', 'spare']);
      expect(result.stderr).toContain('Model "primary" failed:');
      expect(result.stderr).toContain('429 Rate limit reached');
      expect(result.stderr).toContain('Trying the fallback model "spare".');
      const lines = JSON.parse(result.stdout) as { type: string; message?: { model: string } }[];
      expect(lines.find((line) => line.type === 'assistant')?.message?.model).toBe('spare');
      expect(lines.find((line) => line.type === 'result')).toMatchObject({
        result: 'from fallback',
        // Four attempts at the primary (three retries), all failed; one at the fallback, with its tokens.
        stats: {
          models: {
            primary: { api: { totalRequests: 4, totalErrors: 4 }, tokens: { prompt: 0 } },
            spare: { api: { totalRequests: 1, totalErrors: 0 }, tokens: { prompt: expect.any(Number) } },
          },
        },
      });
    });
  });
}

describe('--fallback-model', () => {
  test('several fallbacks are tried in order (repeated flags and commas); 503 and 529 fall back too', async () => {
    sandbox = makeSandbox();
    sandbox.userSettings({
      modelProviders: { openai: [{ id: 'primary', generationConfig: { maxRetries: 0 } }] },
    });
    fake.setResponses(
      refused(503, 'busy'),
      refused(529, 'overloaded'),
      refused(429, 'slow down'),
      refused(503, 'still busy'),
    );
    const result = await runCli(
      [...keyFlags(), '--fallback-model', 'second,third', '--fallback-model=fourth', 'x'],
      { sandbox, env: { OPENAI_API_KEY: 'k' } },
    );
    expect(result.exitCode).toBe(1);
    // The fallbacks have no entry: each gets the default 3 retries; the primary's entry says none.
    expect(requestedModels()).toEqual([
      'primary',
      ...Array(4).fill('second'),
      ...Array(4).fill('third'),
      ...Array(4).fill('fourth'),
    ]);
    expect(result.stderr).toContain('Trying the fallback model "fourth".');
    expect(result.stderr).toContain('still busy');
  });

  test('a fallback is resolved like --model: its own modelProviders entry, key and base URL', async () => {
    sandbox = makeSandbox();
    const other = startFakeOpenAi([{ stream: { text: ['other server'] } }]);
    try {
      sandbox.userSettings(primaryAnd({ id: 'spare', baseUrl: other.url, envKey: 'SPARE_KEY' }));
      fake.setResponses(refused(429, 'Rate limit reached'));
      const result = await runCli(['--fallback-model', 'spare', 'x'], {
        sandbox,
        env: { PRIMARY_KEY: 'sk-primary', SPARE_KEY: 'sk-spare' },
      });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'other server\n' });
      expect(fake.requests).toHaveLength(1);
      expect(other.requests.at(-1)?.headers.authorization).toBe('Bearer sk-spare');
    } finally {
      await other.stop();
    }
  });

  test('no fallback for other failures, nor once text has been printed', async () => {
    sandbox = makeSandbox();
    fake.setResponses(refused(400, 'bad request'));
    const rejected = await runCli([...keyFlags(), '--fallback-model', 'spare', 'x'], { sandbox });
    expect(rejected.exitCode).toBe(1);
    expect(requestedModels()).toEqual(['primary']);

    fake.setResponses({
      sse: 'data: {"choices":[{"index":0,"delta":{"content":"half"}}]}\n\ndata: {"error":{"message":"overloaded","code":"429"}}\n\n',
    });
    const midway = await runCli([...keyFlags(), '--fallback-model', 'spare', 'x'], { sandbox });
    expect(midway.exitCode).toBe(1);
    expect(midway.stdout).toBe('half\n');
    expect(requestedModels()).toEqual(['primary']);
  });

  test('a fallback that cannot stand in is skipped with a note; with none left the 429 stands', async () => {
    sandbox = makeSandbox();
    sandbox.userSettings(primaryAnd({ id: 'keyless', baseUrl: fake.url, envKey: 'MISSING_KEY' }));
    fake.setResponses(refused(429, 'Rate limit reached'));
    const result = await runCli(['--fallback-model', 'keyless,primary', '-o', 'json', 'x'], {
      sandbox,
      env: { PRIMARY_KEY: 'sk-primary' },
    });
    expect(result.exitCode).toBe(1);
    expect(requestedModels()).toEqual(['primary']);
    expect(result.stderr).toContain(
      'Fallback model "keyless" skipped: No API key for openai model "keyless"',
    );
    expect(result.stderr).toContain(
      'Fallback model "primary" skipped: it resolves to "primary", which was already asked.',
    );
    expect(result.stderr).toContain('answered 429: Rate limit reached');
    expect(result.stderr).not.toContain('..');
    const last = (JSON.parse(result.stdout) as { stats?: { models: object } }[]).at(-1);
    expect(Object.keys(last?.stats?.models ?? {})).toEqual(['primary']);
  });

  test('stream-json partial messages name the fallback as the message model', async () => {
    sandbox = makeSandbox();
    const limited = refused(429, 'Rate limit reached');
    fake.setResponses(limited, limited, limited, limited, { stream: { text: ['spare words'] } });
    const result = await runCli(
      [...keyFlags(), '--fallback-model', 'spare', '-o', 'stream-json', '--include-partial-messages', 'x'],
      { sandbox },
    );
    expect(result.exitCode).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            type: string;
            model?: string;
            event?: { type: string; message?: { model: string } };
            message?: { model: string };
          },
      );
    expect(lines.find((line) => line.type === 'system')?.model).toBe('primary');
    expect(lines.find((line) => line.event?.type === 'message_start')?.event?.message?.model).toBe('spare');
    expect(lines.find((line) => line.type === 'assistant')?.message?.model).toBe('spare');
  });

  test('more than three fallbacks is refused before any request (exit 42)', async () => {
    sandbox = makeSandbox();
    fake.setResponses({ stream: { text: ['ok'] } });
    const result = await runCli([...keyFlags(), '--fallback-model', 'a,b,c,d', 'x'], { sandbox });
    expect(result.exitCode).toBe(42);
    expect(result.stderr).toContain('--fallback-model takes at most 3 models, not 4');
    expect(fake.requests).toHaveLength(0);
  });
});

/** The binary with a pipe on stdin that sends a line and then stays open: qwen must not wait for its end. */
async function startWithSilentStdin(args: string[]) {
  const child = Bun.spawn([...commandFor('binary'), ...keyFlags(), ...args], {
    cwd: sandbox.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: sandbox.home },
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  child.stdin.write('part of the input\n');
  await child.stdin.flush();
  return child;
}

describe('--max-wall-time', () => {
  test('a run that outlasts it stops with exit 55; the text printed so far stays', async () => {
    sandbox = makeSandbox();
    const partial = 'data: {"choices":[{"index":0,"delta":{"content":"first words"}}]}\n\n';
    fake.setResponses({ sse: `${partial}${'x'.repeat(10)}`, hangAfterBytes: partial.length });
    const started = performance.now();
    const result = await runCli([...keyFlags(), '--max-wall-time', '1500ms', 'x'], { sandbox });
    expect(result.exitCode).toBe(55);
    expect(result.stdout).toBe('first words\n');
    expect(result.stderr).toContain('Reached the wall-time limit of 1500ms (--max-wall-time).');
    // Well before the 120 s request timeout: the limit, not the server, ended the run.
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  test('the JSON formats end with an error result carrying exit code 55', async () => {
    sandbox = makeSandbox();
    fake.setResponses({ hangBeforeHeaders: true });
    const result = await runCli([...keyFlags(), '--max-wall-time=1s', '-o', 'json', 'x'], { sandbox });
    expect(result.exitCode).toBe(55);
    const last = (JSON.parse(result.stdout) as Record<string, unknown>[]).at(-1);
    expect(last).toMatchObject({ type: 'result', is_error: true, error: { exit_code: 55 } });
  });

  test('stopped during a retry wait: stats count the one request sent, not the one that never went', async () => {
    sandbox = makeSandbox();
    fake.setResponses({
      status: 429,
      headers: { 'retry-after': '30' },
      body: { error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } },
    });
    const result = await runCli([...keyFlags(), '--max-wall-time', '1s', '-o', 'json', 'x'], { sandbox });
    expect(result.exitCode).toBe(55);
    expect(fake.requests).toHaveLength(1);
    const last = (JSON.parse(result.stdout) as Record<string, unknown>[]).at(-1);
    expect(last).toMatchObject({
      stats: { models: { primary: { api: { totalRequests: 1, totalErrors: 1 } } } },
    });
  });

  test('the limit also ends a run still reading a slow stdin', async () => {
    sandbox = makeSandbox();
    fake.setResponses({ stream: { text: ['never asked'] } });
    const started = performance.now();
    const child = await startWithSilentStdin(['--max-wall-time', '1s', 'x']);
    const stderr = await new Response(child.stderr).text();
    expect(await child.exited).toBe(55);
    expect(stderr).toContain('Reached the wall-time limit of 1s');
    expect(fake.requests).toHaveLength(0);
    // The limit, not the end of stdin (which never comes), ended it.
    expect(performance.now() - started).toBeLessThan(5_000);
    child.stdin.end();
  });

  test('a JSON result for a run stopped before its request says how long the run took', async () => {
    sandbox = makeSandbox();
    const child = await startWithSilentStdin(['--max-wall-time', '1s', '-o', 'json', 'x']);
    const stdout = await new Response(child.stdout).text();
    expect(await child.exited).toBe(55);
    child.stdin.end();
    const last = (JSON.parse(stdout) as Record<string, unknown>[]).at(-1);
    expect(last).toMatchObject({ type: 'result', is_error: true, error: { exit_code: 55 } });
    // The wall-time limit ended it: about a second, not the 0 of a run that never started.
    expect(Number(last?.duration_ms)).toBeGreaterThanOrEqual(900);
  });

  test('a run within the limit is untouched; a bad duration is refused (exit 42)', async () => {
    sandbox = makeSandbox();
    fake.setResponses({ stream: { text: ['quick'] } });
    const quick = await runCli([...keyFlags(), '--max-wall-time', '1h30m', 'x'], { sandbox });
    expect(quick).toMatchObject({ exitCode: 0, stdout: 'quick\n' });
    for (const bad of ['0', 'soon', '5 min']) {
      const result = await runCli([...keyFlags(), `--max-wall-time=${bad}`, 'x'], { sandbox });
      expect(result.exitCode).toBe(42);
      expect(result.stderr).toContain('--max-wall-time takes a duration such as 90, 30s, 5m or 1h30m');
    }
  });
});
