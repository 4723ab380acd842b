// Command-line shapes a CI script writes, end to end (source and compiled): which prompt, model and output
// format reach the fake server, and which lines are refused before any request.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { binaryPath, ensureBinary, flavours, makeSandbox, runCli, type Sandbox } from './harness.ts';

let fake: FakeOpenAi;
let sandbox: Sandbox;

beforeAll(async () => {
  fake = startFakeOpenAi([{ stream: { text: ['ok'] } }]);
  await ensureBinary();
});
afterAll(() => fake.stop());
afterEach(() => sandbox?.cleanup());

const keyFlags = () => ['--openai-api-key', 'sk-flag-0001', '--openai-base-url', fake.url];

/** Runs qwen with a key for the fake server; the request it sent, if any. */
async function run(
  args: string[],
  flavour: (typeof flavours)[number],
  env: Record<string, string> = {},
  stdin?: string,
) {
  sandbox = makeSandbox();
  fake.setResponses({ stream: { text: ['ok'] } });
  const before = fake.requests.length;
  const result = await runCli([...keyFlags(), ...args], { sandbox, flavour, env, stdin });
  const body = fake.requests.slice(before).at(-1)?.body as
    | { model: string; messages: { content: string }[] }
    | undefined;
  return { ...result, model: body?.model, prompt: body?.messages.at(-1)?.content };
}

for (const flavour of flavours) {
  describe(`command-line shapes (${flavour})`, () => {
    test('short options with `=` (-m=foo, -p=foo) are read as yargs reads them', async () => {
      expect(await run(['-m=foo', 'hi'], flavour)).toMatchObject({ exitCode: 0, model: 'foo', prompt: 'hi' });
      expect(await run(['-m', 'm', '-p=foo'], flavour)).toMatchObject({ exitCode: 0, prompt: 'foo' });
      const yaml = await run(['-m', 'm', '-o=yaml', 'hi'], flavour);
      expect(yaml).toMatchObject({ exitCode: 42, model: undefined });
      expect(yaml.stderr).toContain('Unknown output format "yaml"; use one of: text, json, stream-json.');
    });

    test('values and prompts that start with -, empty values, repeated flags, flags after the prompt', async () => {
      const dash = { exitCode: 0, prompt: '-x is a flag?' };
      expect(await run(['-m', 'm', '-p', '-x is a flag?'], flavour)).toMatchObject(dash);
      expect(await run(['-m', 'm', '--', '-x is a flag?'], flavour)).toMatchObject(dash);
      const missing = await run(['-m', '--yolo', 'fix it'], flavour);
      expect(missing).toMatchObject({ exitCode: 42, prompt: undefined });
      expect(missing.stderr).toContain('The flag -m needs a value; --yolo reads as a flag.');
      // `--model="$MODEL"` with MODEL unset: the model comes from the environment, the prompt stays.
      expect(await run(['--model=', 'hi'], flavour, { OPENAI_MODEL: 'env-model' })).toMatchObject({
        exitCode: 0,
        model: 'env-model',
        prompt: 'hi',
      });
      const json = await run(['-m', 'a', '--model', 'b', 'hi', '-o', 'json', '--debug', '--debug'], flavour);
      expect(json).toMatchObject({ exitCode: 0, model: 'b', prompt: 'hi' });
      expect(JSON.parse(json.stdout).at(-1)).toMatchObject({ type: 'result', result: 'ok' });
    });

    test("Qwen Code's CI flags are accepted (`-p ... --yolo -o json`, `-yo json`); what it refuses is exit 42", async () => {
      const yolo = await run(['-m', 'm', '-p', 'review', '--yolo', '-o', 'json'], flavour);
      expect(yolo).toMatchObject({ exitCode: 0, prompt: 'review' });
      expect(JSON.parse(yolo.stdout).at(-1)).toMatchObject({ type: 'result', result: 'ok' });
      // system/init says the approval mode asked for, as Qwen Code does.
      expect(JSON.parse(yolo.stdout)[0]).toMatchObject({ subtype: 'init', permission_mode: 'yolo' });
      const plan = await run(['-m', 'm', '--approval-mode', 'plan', '-o', 'json', 'hi'], flavour);
      expect(JSON.parse(plan.stdout)[0]).toMatchObject({ subtype: 'init', permission_mode: 'plan' });
      const grouped = await run(['-m', 'm', '-yo', 'json', 'hi'], flavour);
      expect(grouped).toMatchObject({ exitCode: 0, prompt: 'hi' });
      expect(JSON.parse(grouped.stdout).at(-1)).toMatchObject({ type: 'result', result: 'ok' });
      const quiet = [
        ...['--approval-mode', 'auto-edit', '--input-format', 'text', '--bare', '--max-session-turns', '3'],
        ...['--max-tool-calls', '5', '--fallback-model', 'f', '--max-wall-time', '10m'],
      ];
      expect(await run(['-m', 'm', ...quiet, 'hi'], flavour)).toMatchObject({
        exitCode: 0,
        model: 'm',
        prompt: 'hi',
        stdout: 'ok\n',
      });
      for (const [args, line] of [
        [['--input-format', 'stream-json'], '--input-format stream-json is not supported'],
        [['--approval-mode', 'auto_edit'], 'Unknown approval mode "auto_edit"'],
        [['-y', '--approval-mode', 'yolo'], 'Give either --yolo (-y) or --approval-mode, not both.'],
      ] as const) {
        const refused = await run(['-m', 'm', ...args, 'hi'], flavour);
        expect(refused).toMatchObject({ exitCode: 42, prompt: undefined });
        expect(refused.stderr).toStartWith(`qwen: ${line}`);
        expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      }
    });

    test('a `-` and negative numbers among the words are part of the prompt; a lone `-` is stdin', async () => {
      for (const [args, prompt] of [
        [['what', 'is', '5', '-', '3'], 'what is 5 - 3'],
        [['P', '-'], 'P -'],
        [['what', 'is', '3', '-5'], 'what is 3 -5'],
        [['-5', 'degrees', 'is', 'cold'], '-5 degrees is cold'],
        // Off the fast path (`--debug=true`), through cac: the same prompt.
        [['--debug=true', 'what', 'is', '5', '-', '3', '-5'], 'what is 5 - 3 -5'],
      ] as const) {
        expect(await run(['-m', 'm', ...args], flavour)).toMatchObject({ exitCode: 0, prompt });
      }
      expect(await run(['-m', 'm', '-'], flavour, {}, 'piped notes')).toMatchObject({
        exitCode: 0,
        prompt: 'piped notes',
      });
    });

    test('an empty -p next to a prompt argument counts as not given; a non-empty one is refused', async () => {
      for (const args of [
        ['-p', '', 'hi'],
        ['-p=', 'hi'],
        ['hi', '--prompt='],
      ]) {
        expect(await run(['-m', 'm', ...args], flavour)).toMatchObject({ exitCode: 0, prompt: 'hi' });
      }
      const both = await run(['-m', 'm', '-p', 'x', 'hi'], flavour);
      expect(both).toMatchObject({ exitCode: 42, prompt: undefined });
      expect(both.stderr).toContain('Give the prompt either as an argument or with --prompt (-p), not both.');
    });

    test('an unknown flag is named as typed (--bogus-flag), exit 42, nothing sent', async () => {
      const result = await run(['--bogus-flag', 'hi'], flavour);
      expect(result).toMatchObject({ exitCode: 42, prompt: undefined });
      expect(result.stderr).toBe('qwen: Unknown option `--bogus-flag`. Run `qwen --help` for the flags.\n');
    });
  });
}

// A container run with an arbitrary `--user` and no HOME: the user is in no passwd file, so there is no
// home to find. Needs root (to take another uid) and setpriv.
const canTakeAnotherUser = process.getuid?.() === 0 && Bun.which('setpriv') !== null;

test.skipIf(!canTakeAnotherUser)(
  'without HOME, for a user the system does not know: --version works, a run says so in one line (exit 52)',
  async () => {
    await ensureBinary();
    const asStranger = (args: string[]) =>
      Bun.spawnSync(['setpriv', '--reuid=4321', '--regid=4321', '--clear-groups', binaryPath, ...args], {
        cwd: '/',
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
        stdin: 'ignore',
      });
    const version = asStranger(['--version']);
    expect(version.exitCode).toBe(0);
    expect(version.stdout.toString()).toMatch(/^\d+\.\d+\.\d+\n$/);
    const run = asStranger([...keyFlags(), '-m', 'm', '-o', 'json', 'hi']);
    expect(run.exitCode).toBe(52);
    expect(run.stderr.toString()).toBe(
      'qwen: Cannot find your home directory: HOME is not set, and this user has no entry in the system user list. ' +
        'Set HOME to a directory you can write to (in a container run with --user, for example HOME=/tmp).\n',
    );
    expect(JSON.parse(run.stdout.toString()).at(-1)).toMatchObject({
      is_error: true,
      error: { exit_code: 52 },
    });
  },
);
