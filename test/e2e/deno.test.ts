// The same source under Deno: `deno run -A src/main.ts` one-shot runs against the fake OpenAI-compatible
// server, and, where Deno's runtime for `deno compile` can be had (DENORT_BIN), the compiled binary.
// Deno resolves cac, ky, valibot... from the npm-managed node_modules next to package.json (Deno 2 treats a
// package.json project as `nodeModulesDir: "manual"`), so no network is needed beyond the fake server.
// Skipped when no deno is installed (it is a devDependency: node_modules/.bin/deno).
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import packageJson from '../../package.json' with { type: 'json' };
import { denoExecutable } from '../../scripts/build.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { makeSandbox, repositoryRoot, type Sandbox, sourceEntry } from './harness.ts';

function workingDeno(): string | undefined {
  const deno = denoExecutable();
  if (!deno) return undefined;
  return Bun.spawnSync([deno, '--version'], { stdout: 'ignore', stderr: 'ignore' }).exitCode === 0
    ? deno
    : undefined;
}

const deno = workingDeno();
// One Deno cache for the whole file: the sandbox HOME changes every test and Deno would otherwise
// transpile the source again into $HOME/.cache/deno each time.
let denoDirectory = '';
let fake: FakeOpenAi;
let sandbox: Sandbox | undefined;

beforeAll(() => {
  if (!deno) return;
  denoDirectory = mkdtempSync(path.join(os.tmpdir(), 'qwen-deno-cache-'));
  fake = startFakeOpenAi([{ stream: { text: ['Hello', ' from', ' fake.'] } }]);
});
afterAll(async () => {
  await fake?.stop();
  if (denoDirectory) rmSync(denoDirectory, { recursive: true, force: true });
});
afterEach(() => {
  sandbox?.cleanup();
  sandbox = undefined;
});

type Result = { exitCode: number; stdout: string; stderr: string };

async function run(
  command: string[],
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<Result> {
  sandbox = makeSandbox();
  const child = Bun.spawn([...command, ...args], {
    cwd: sandbox.cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: sandbox.home,
      NO_COLOR: '1',
      DENO_DIR: denoDirectory,
      DENO_NO_UPDATE_CHECK: '1',
      ...options.env,
    },
    stdin: options.stdin === undefined ? 'ignore' : 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  if (options.stdin !== undefined && child.stdin) {
    child.stdin.write(options.stdin);
    await child.stdin.end();
  }
  const timeout = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timeout);
  return { exitCode, stdout, stderr };
}

const keyFlags = () => [
  '--auth-type',
  'openai',
  '--openai-api-key',
  'sk-deno-0001',
  '--openai-base-url',
  fake.url,
  '-m',
  'test-model',
];
const lastUserText = () =>
  (fake.requests.at(-1)?.body as { messages: { content: string }[] }).messages.at(-1)?.content;

function headlessScenarios(label: string, command: () => string[]): void {
  describe(`headless under ${label}`, () => {
    test('--version prints the package version', async () => {
      const result = await run(command(), ['--version']);
      expect(result).toMatchObject({ exitCode: 0, stdout: `${packageJson.version}\n` });
    });

    test('stdin and the prompt are joined; text output is the answer only', async () => {
      fake.setResponses({ stream: { reasoning: ['hidden'], text: ['Hello', ' from', ' fake.'] } });
      const result = await run(command(), [...keyFlags(), 'summarise'], { stdin: 'diff text\n' });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'Hello from fake.\n', stderr: '' });
      expect(lastUserText()).toBe('diff text\n\n\nsummarise');
      expect(fake.requests.at(-1)?.headers.authorization).toBe('Bearer sk-deno-0001');
    });

    test('-o json prints one array; -o stream-json one object a line', async () => {
      fake.setResponses({
        stream: { text: ['Hi'], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
      });
      const json = await run(command(), [...keyFlags(), '-o', 'json', 'x']);
      expect(json.exitCode).toBe(0);
      const items = JSON.parse(json.stdout) as Record<string, unknown>[];
      expect(items.map((item) => item.type)).toEqual(['system', 'assistant', 'result']);
      expect(items[2]).toMatchObject({ is_error: false, result: 'Hi', usage: { input_tokens: 5 } });

      fake.setResponses({ stream: { text: ['Hi'] } });
      const streamed = await run(command(), [...keyFlags(), '-o', 'stream-json', 'x']);
      const types = streamed.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { type: string }).type);
      expect(types).toEqual(['system', 'assistant', 'result']);
    });

    test('an API error exits 1 naming the status, message and host', async () => {
      fake.setResponses({ status: 400, body: { error: { message: 'context too long', type: 'invalid' } } });
      const result = await run(command(), [...keyFlags(), 'x']);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('400');
      expect(result.stderr).toContain('context too long');
      expect(result.stderr).toContain('127.0.0.1');
      expect(result.stderr).not.toContain('sk-deno-0001');
    });

    test('401 exits 41 with the server message', async () => {
      fake.setResponses({ status: 401, body: { error: { message: 'Incorrect API key provided' } } });
      const result = await run(command(), [...keyFlags(), 'x']);
      expect(result.exitCode).toBe(41);
      expect(result.stderr).toContain('Incorrect API key provided');
    });

    test('no authentication configured exits 41 with one line', async () => {
      const result = await run(command(), ['hello']);
      expect(result.exitCode).toBe(41);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain('OPENAI_API_KEY');
    });

    test('no prompt exits 42', async () => {
      const result = await run(command(), keyFlags());
      expect(result.exitCode).toBe(42);
    });
  });
}

describe.skipIf(!deno)('Deno', () => {
  headlessScenarios('deno run -A src/main.ts', () => [deno as string, 'run', '-A', sourceEntry]);
});

// `deno compile` fetches denort from dl.deno.land unless DENORT_BIN points at one; only then can it run here.
const canCompile = Boolean(deno && process.env.DENORT_BIN);
let compiledDirectory = '';
describe.skipIf(!canCompile)('deno compile', () => {
  beforeAll(async () => {
    compiledDirectory = mkdtempSync(path.join(os.tmpdir(), 'qwen-deno-compile-'));
    const build = Bun.spawn(
      [
        process.execPath,
        path.join(repositoryRoot, 'scripts', 'build.ts'),
        '--deno',
        '--outfile',
        path.join(compiledDirectory, 'qwen'),
      ],
      { cwd: repositoryRoot, stdout: 'pipe', stderr: 'pipe' },
    );
    const [output, exitCode] = await Promise.all([new Response(build.stderr).text(), build.exited]);
    if (exitCode !== 0) throw new Error(`deno compile failed:\n${output}`);
  }, 120_000);
  afterAll(() => {
    if (compiledDirectory) rmSync(compiledDirectory, { recursive: true, force: true });
  });
  headlessScenarios('the deno-compiled binary', () => [path.join(compiledDirectory, 'qwen')]);
});
