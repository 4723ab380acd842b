// The fast path of command-line.ts against cac (program.ts): on every command line, either the same answer
// or no answer (cac then decides). Command lines are generated from pieces users type, odd ones included.
import { expect, test } from 'bun:test';
import {
  type MainFlags,
  type ParsedCommand,
  parseCommandLine,
  parsePlainMainCommand,
} from '../../src/cli/command-line.ts';
import { checkCompatibilityFlags } from '../../src/cli/compatibility.ts';
import { parseWithCac } from '../../src/cli/program.ts';
import { CliError } from '../../src/core/errors.ts';

/** cac's answer, or the CliError it ends with (its help output is not part of the comparison). */
function cacAnswer(argv: string[]): ParsedCommand | CliError {
  const write = process.stdout.write;
  const log = console.log;
  // cac prints help itself; keep the test output clean.
  console.log = () => undefined;
  try {
    return parseWithCac(argv);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  } finally {
    console.log = log;
    process.stdout.write = write;
  }
}

test('the usual one-shot command lines take the fast path and match cac', () => {
  const usual = [
    ['hello'],
    ['explain', 'this', 'code'],
    ['-p', 'review'],
    ['--prompt=review', '-m', 'qwen3-coder-plus'],
    [
      '--auth-type',
      'openai',
      '--openai-api-key',
      'sk-1',
      '--openai-base-url',
      'http://h/v1',
      '-m',
      'm',
      'hi',
    ],
    ['-o', 'json', 'summarise'],
    ['--output-format=stream-json', '--debug', 'x'],
    ['--insecure', '--proxy', 'http://proxy:3128', 'x'],
    ['-m', '007', 'x'],
    ['hello', '--', '-not-a-flag', '--model'],
    ['--', 'auth'],
    [],
    ['--version'],
    ['-m=foo', 'hi'],
    ['-o=yaml', 'hi'],
    ['-p=foo'],
    ['-i=x', '--proxy=http://p:3128'],
    // Qwen Code's CI lines.
    ['-p', 'review', '--yolo', '-o', 'json'],
    ['-yo', 'json', 'hi'],
    ['-y', '--approval-mode', 'yolo', 'x'],
    ['--approval-mode=plan', '--input-format', 'text', '--bare', 'x'],
    ['-o', 'stream-json', '--include-partial-messages', 'x'],
    ['--max-session-turns', '5', '--max-tool-calls=3', '--max-wall-time', '10m', 'x'],
    ['--fallback-model', 'qwen-flash', '-ym', 'm', 'x'],
    ['-d', '-p', 'x', '-y', '-o', 'json'],
    ['-yd', 'x'],
    // A `-` and negative numbers among the prompt's words, as yargs reads them.
    ['what', 'is', '5', '-', '3'],
    ['P', '-'],
    ['-'],
    ['what', 'is', '3', '-5'],
    ['-5', 'degrees', 'is', 'cold'],
    ['-o', 'json', '-2.5', '-.5', '-1e3'],
  ];
  for (const argv of usual) {
    const fast = parsePlainMainCommand(argv);
    expect(fast).toBeDefined();
    expect(fast).toEqual(cacAnswer(argv) as ParsedCommand);
  }
});

test('unusual command lines are left to cac', () => {
  for (const argv of [
    ['--help'],
    ['-h'],
    ['auth'],
    ['auth', 'status'],
    ['--nope', 'x'],
    ['-p'],
    ['-p', '-x'],
    ['--insecure=false', 'x'],
    ['--version', 'x'],
  ]) {
    expect(parsePlainMainCommand(argv)).toBeUndefined();
  }
});

test('generated command lines: the fast path agrees with cac or stays out', () => {
  const pieces = [
    'hello',
    'two words',
    '007',
    '-1',
    '-2.5',
    '-1e3',
    '',
    'auth',
    '--',
    '-',
    '-p',
    '--prompt',
    '--prompt=x',
    '-m',
    '--model=m',
    '--auth-type',
    '--auth-type=anthropic',
    '--openai-api-key',
    '--openai-base-url=http://h/v1',
    '-o',
    '--output-format=json',
    '-i',
    '--proxy',
    '--insecure',
    '--debug',
    '--no-debug',
    '-v',
    '--version',
    '--help',
    '--unknown',
    '--model=',
    '--model=-x',
    '--proxy=',
    '-pm',
    'true',
    'false',
    '--debug=false',
    '--insecure=1',
    '-m=foo',
    '-o=json',
    '-p=x',
    '-p=',
    '-m=',
    '-y',
    '--yolo',
    '-yo',
    '-ym',
    '-yv',
    '--bare',
    '--approval-mode',
    '--approval-mode=yolo',
    '--include-partial-messages',
    '--input-format=text',
    '--max-session-turns',
    '--fallback-model=f',
  ];
  // A small deterministic generator: the same command lines every run.
  let seed = 20261121;
  const next = (limit: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % limit;
  };
  let fastAnswers = 0;
  for (let round = 0; round < 3000; round += 1) {
    const argv = Array.from({ length: next(6) }, () => pieces[next(pieces.length)]!);
    let fast: ParsedCommand | undefined;
    try {
      fast = parsePlainMainCommand(argv);
    } catch (error) {
      // A missing value is the same one-line error either way.
      expect(cacAnswer(argv)).toBeInstanceOf(CliError);
      expect(error).toBeInstanceOf(CliError);
      continue;
    }
    if (fast === undefined) continue;
    fastAnswers += 1;
    expect({ argv, answer: fast }).toEqual({ argv, answer: cacAnswer(argv) as ParsedCommand });
  }
  // The comparison is only worth something if the fast path answered often.
  expect(fastAnswers).toBeGreaterThan(500);
});

test('parseCommandLine falls back to cac for what the fast path leaves', async () => {
  expect(await parseCommandLine(['auth', 'status'])).toMatchObject({ kind: 'auth', action: 'status' });
  await expect(parseCommandLine(['--nope'])).rejects.toThrow(/Unknown option `--nope`/);
});

test('options before `auth`: the command is the first positional, as yargs reads it', async () => {
  const authLines: [string[], object][] = [
    [['--debug', 'auth', 'status'], { action: 'status', flags: { debug: true } }],
    [
      ['--auth-type', 'qwen-oauth', 'auth', 'status'],
      { action: 'status', flags: { authType: 'qwen-oauth' } },
    ],
    [['--auth-type=openai', '-m', 'x', 'auth', 'status'], { flags: { authType: 'openai', model: 'x' } }],
    [['--insecure', '--proxy', 'http://p:3128', 'auth', 'qwen-oauth'], { flags: { insecure: true } }],
    [['--region', 'global', 'auth', 'coding-plan'], { action: 'coding-plan', flags: { region: 'global' } }],
  ];
  for (const [argv, expected] of authLines) {
    expect(parsePlainMainCommand(argv)).toBeUndefined();
    expect(await parseCommandLine(argv)).toMatchObject({ kind: 'auth', ...expected });
  }
  // `auth` as a flag's value, after another positional or after `--` stays part of the prompt.
  for (const [argv, prompt] of [
    [['-m', 'auth', 'hi'], 'hi'],
    [['hi', 'auth'], 'hi auth'],
    [['--', 'auth', 'status'], 'auth status'],
  ] as const) {
    expect(await parseCommandLine([...argv])).toMatchObject({ kind: 'main', positionalPrompt: prompt });
  }
});

test('one-shot flags given with `auth` are refused (exit 42), naming the flag and `qwen auth`', async () => {
  for (const [argv, flag] of [
    [['-p', 'x', 'auth', 'status'], '-p'],
    [['auth', 'status', '--prompt', 'x'], '--prompt'],
    [['-i', 'x', 'auth', 'logout'], '-i'],
  ] as const) {
    const failure = cacAnswer([...argv]);
    expect(failure).toBeInstanceOf(CliError);
    expect(failure).toMatchObject({ exitCode: 42, message: `Unknown option \`${flag}\` for \`qwen auth\`.` });
    expect((failure as CliError).hint).toContain('qwen auth --help');
  }
});

test('-o before or after `auth status` is read for the status (text or json)', async () => {
  for (const argv of [
    ['-o', 'json', 'auth', 'status'],
    ['auth', 'status', '--output-format=json'],
  ]) {
    expect(await parseCommandLine(argv)).toMatchObject({
      kind: 'auth',
      action: 'status',
      flags: { outputFormat: 'json' },
    });
  }
  expect(await parseCommandLine(['auth', 'status'])).toMatchObject({ flags: { outputFormat: 'text' } });
});

test('booleans in the cac fallback: only true/false is their value; positionals stay as typed', () => {
  // `--insecure=true` keeps each line off the fast path.
  const lines: [string[], object][] = [
    [['--debug', '007', '--insecure=true'], { positionalPrompt: '007', flags: { debug: true } }],
    [['--debug', '', 'x', '--insecure=true'], { positionalPrompt: ' x', flags: { debug: true } }],
    [['--debug', 'false', 'hi', '--insecure=true'], { positionalPrompt: 'hi', flags: { insecure: true } }],
    [['--insecure', '--insecure', 'auth', 'status'], { kind: 'auth', flags: { insecure: true } }],
    [['--debug=false', '--debug', 'auth', 'status'], { kind: 'auth', flags: { debug: true } }],
  ];
  for (const [argv, expected] of lines) expect(cacAnswer(argv)).toMatchObject(expected);
  expect(cacAnswer(['--debug', 'false', 'hi', '--insecure=true'])).not.toHaveProperty('flags.debug');
  for (const argv of [
    ['--debug=1', 'hi'],
    ['--insecure=yes', 'hi'],
    ['auth', 'status', '--debug='],
  ]) {
    expect(cacAnswer(argv)).toMatchObject({
      exitCode: 42,
      message: expect.stringContaining('true or false'),
    });
  }
  expect(parsePlainMainCommand(['--debug', 'true', 'hi'])).toBeUndefined();
});

test('short options with `=` (-m=foo) give the value after `=`, in both parsers', () => {
  expect(parsePlainMainCommand(['-m=foo', '-o=json', 'hi'])).toMatchObject({
    kind: 'main',
    positionalPrompt: 'hi',
    flags: { model: 'foo', outputFormat: 'json' },
  });
  expect(parsePlainMainCommand(['-p=a=b'])).toMatchObject({ flags: { prompt: 'a=b' } });
  expect(cacAnswer(['auth', 'status', '-m=foo'])).toMatchObject({ kind: 'auth', flags: { model: 'foo' } });
  expect(cacAnswer(['--debug=true', '-i=x'])).toMatchObject({ flags: { promptInteractive: 'x' } });
});

test('an unknown flag is named as typed, not camel-cased by cac', () => {
  for (const [argv, typed] of [
    [['--bogus-flag'], '--bogus-flag'],
    [['hi', '--Bogus-Flag=1'], '--Bogus-Flag'],
    [['--no-such-flag', 'hi'], '--no-such-flag'],
    [['--model', 'm', '--dry.run'], '--dry.run'],
    [['-mfoo', 'hi'], '-mfoo'],
    [['-x'], '-x'],
  ] as const) {
    expect(cacAnswer([...argv])).toMatchObject({ exitCode: 42, message: `Unknown option \`${typed}\`.` });
  }
  expect(cacAnswer(['auth', 'status', '--dry-run'])).toMatchObject({
    message: 'Unknown option `--dry-run` for `qwen auth`.',
  });
});

test('camelCase spellings of our flags are read as yargs reads them, by both parsers', () => {
  expect(parsePlainMainCommand(['--outputFormat=json', '--maxWallTime', '5m', 'hi'])).toMatchObject({
    positionalPrompt: 'hi',
    flags: { outputFormat: 'json', maxWallTime: '5m' },
  });
  expect(cacAnswer(['--outputFormat', 'json', '--authType=gemini', '--debug=true', 'hi'])).toMatchObject({
    positionalPrompt: 'hi',
    flags: { outputFormat: 'json', authType: 'gemini', debug: true },
  });
  expect(cacAnswer(['--includePartialMessages', '-o', 'stream-json', 'hi'])).toMatchObject({
    flags: { includePartialMessages: true },
  });
});

test('a group with its value after = (-yo=json) and a negative number as a value (-1), as yargs reads them', async () => {
  for (const argv of [
    ['-yo=json', 'hi'],
    ['-ym=m9', '--debug=true', 'hi'],
  ]) {
    const parsed = await parseCommandLine(argv);
    expect(parsed).toMatchObject({ kind: 'main', positionalPrompt: 'hi', flags: { yolo: true } });
  }
  expect(await parseCommandLine(['-yo=json', 'hi'])).toMatchObject({ flags: { outputFormat: 'json' } });
  expect(cacAnswer(['-ym=m9', '--debug=true', 'hi'])).toMatchObject({ flags: { model: 'm9', yolo: true } });
  expect(await parseCommandLine(['--max-wall-time', '-1', 'hi'])).toMatchObject({
    positionalPrompt: 'hi',
    flags: { maxWallTime: '-1' },
  });
  expect(cacAnswer(['--max-wall-time', '-1', '--debug=true', 'hi'])).toMatchObject({
    flags: { maxWallTime: '-1' },
  });
});

test('letters after one dash that are not a group of known switches are one unknown option', async () => {
  for (const argv of [['-mecho', 'hi'], ['-xh'], ['-vx', 'hi'], ['-mx']]) {
    const typed = argv[0];
    await expect(parseCommandLine(argv)).rejects.toMatchObject({
      exitCode: 42,
      message: `Unknown option \`${typed}\`.`,
    });
    expect(cacAnswer(argv)).toMatchObject({ exitCode: 42, message: `Unknown option \`${typed}\`.` });
  }
});

test('a prompt that starts with a dash but has a blank is the prompt, never flags read letter by letter', async () => {
  // A Markdown list item with an h or a v in it used to print help or the version and exit 0.
  for (const prompt of ['- summarize the diff', '- give advice', '-x what', '-vh now']) {
    expect(await parseCommandLine([prompt])).toMatchObject({ kind: 'main', positionalPrompt: prompt });
    expect(await parseCommandLine(['-o', 'json', prompt])).toMatchObject({
      positionalPrompt: prompt,
      flags: { outputFormat: 'json' },
    });
    expect(cacAnswer([prompt, '--debug=true'])).toMatchObject({ kind: 'main', positionalPrompt: prompt });
  }
  // A flag's value may hold blanks; the flag's name cannot.
  expect(await parseCommandLine(['--prompt=say hi', 'x'])).toMatchObject({ flags: { prompt: 'say hi' } });
});

test('a value that starts with -: taken when it cannot be a flag (it has a space), else exit 42', () => {
  expect(cacAnswer(['-p', '-x is a flag?'])).toMatchObject({ flags: { prompt: '-x is a flag?' } });
  expect(cacAnswer(['-m', 'm', '--prompt', '- list item'])).toMatchObject({
    flags: { prompt: '- list item' },
  });
  expect(cacAnswer(['-p=-x'])).toMatchObject({ flags: { prompt: '-x' } });
  for (const [argv, flag] of [
    [['-m', '--yolo', 'fix it'], '-m'],
    [['hi', '--proxy', '-x'], '--proxy'],
    [['auth', 'status', '--auth-type', '--debug'], '--auth-type'],
    [['-o'], '-o'],
  ] as const) {
    expect(cacAnswer([...argv])).toMatchObject({
      exitCode: 42,
      message: expect.stringContaining(`The flag ${flag} needs a value`),
    });
  }
});

test('empty values (`--model="$UNSET"`) are empty, and the next word stays in the prompt', () => {
  for (const argv of [
    ['--model=', 'hi'],
    ['-m=', 'hi'],
    ['-m', '', 'hi'],
  ]) {
    expect(parsePlainMainCommand(argv)).toMatchObject({ positionalPrompt: 'hi', flags: { model: '' } });
    expect(cacAnswer([...argv, '--debug=true'])).toMatchObject({
      positionalPrompt: 'hi',
      flags: { model: '' },
    });
  }
  expect(cacAnswer(['auth', 'status', '--region=', '--debug'])).toMatchObject({ flags: { region: '' } });
});

test('a `-` among the words is part of the prompt; alone (stdin, by convention) it adds nothing', async () => {
  const lines: [string[], string][] = [
    [['what', 'is', '5', '-', '3'], 'what is 5 - 3'],
    [['P', '-'], 'P -'],
    [['-', 'hi'], '- hi'],
    [['-'], ''],
    [['-o', 'json', '-'], ''],
    [['--', '-'], '-'],
    [['-', '--', 'x'], '- x'],
  ];
  for (const [argv, prompt] of lines) {
    expect(await parseCommandLine(argv)).toMatchObject({ kind: 'main', positionalPrompt: prompt });
    expect(cacAnswer(['--debug=true', ...argv])).toMatchObject({ kind: 'main', positionalPrompt: prompt });
  }
  // `qwen auth` reads no stdin: a `-` there takes nothing with it.
  expect(cacAnswer(['auth', '-', 'status'])).toMatchObject({ kind: 'auth', action: 'status' });
});

test('a negative number is a word of the prompt, as yargs reads it, not an unknown option', async () => {
  const lines: [string[], string][] = [
    [['what', 'is', '3', '-5'], 'what is 3 -5'],
    [['-5', 'degrees', 'is', 'cold'], '-5 degrees is cold'],
    [['-2.5', '-.5', '-1e3', '-1e-3'], '-2.5 -.5 -1e3 -1e-3'],
    [['--debug', '-5'], '-5'],
  ];
  for (const [argv, prompt] of lines) {
    expect(await parseCommandLine(argv)).toMatchObject({ kind: 'main', positionalPrompt: prompt });
    expect(cacAnswer(['--insecure=true', ...argv])).toMatchObject({ kind: 'main', positionalPrompt: prompt });
  }
  // After a value flag it is the value; with two dashes, or as something other than a number, an option.
  expect(await parseCommandLine(['-m', '-5', 'x'])).toMatchObject({
    positionalPrompt: 'x',
    flags: { model: '-5' },
  });
  for (const option of ['--5', '-5x', '-1.5.3']) {
    await expect(parseCommandLine([option, 'hi'])).rejects.toMatchObject({ exitCode: 42 });
  }
});

test("Qwen Code's flags: read by both parsers, grouped short flags taken apart as yargs does", async () => {
  expect(parsePlainMainCommand(['-p', 'review', '--yolo', '-o', 'json'])).toEqual({
    kind: 'main',
    positionalPrompt: '',
    flags: { prompt: 'review', outputFormat: 'json', yolo: true },
  });
  expect(parsePlainMainCommand(['-yo', 'json', 'hi'])).toMatchObject({
    positionalPrompt: 'hi',
    flags: { outputFormat: 'json', yolo: true },
  });
  expect(
    parsePlainMainCommand([
      '--approval-mode=auto-edit',
      '--input-format',
      'text',
      '--max-session-turns',
      '007',
      '--max-tool-calls',
      '3',
      '--max-wall-time',
      '10m',
      '--fallback-model',
      'f',
      '--bare',
      '--include-partial-messages',
      'x',
    ]),
  ).toMatchObject({
    flags: {
      approvalMode: 'auto-edit',
      inputFormat: 'text',
      maxSessionTurns: '007',
      maxToolCalls: '3',
      maxWallTime: '10m',
      fallbackModel: 'f',
      bare: true,
      includePartialMessages: true,
    },
  });
  // Through cac too (`--debug=true` keeps the line off the fast path), and after `auth`'s refusal.
  expect(cacAnswer(['-yo', 'json', '--debug=true', 'hi'])).toMatchObject({
    positionalPrompt: 'hi',
    flags: { outputFormat: 'json', yolo: true, debug: true },
  });
  expect(cacAnswer(['--yolo=false', 'hi'])).not.toHaveProperty('flags.yolo');
  // Only groups of known letters, all switches but the last, are taken apart.
  expect(cacAnswer(['-my', 'x'])).toMatchObject({ exitCode: 42 });
  expect(cacAnswer(['-yx', 'x'])).toMatchObject({ message: 'Unknown option `-yx`.' });
  expect(await parseCommandLine(['--', '-yo', 'json'])).toMatchObject({ positionalPrompt: '-yo json' });
});

test("Qwen Code's flags: the values it refuses, and stream-json input, are exit 42", () => {
  const accepted: MainFlags[] = [
    { outputFormat: 'json', yolo: true },
    { outputFormat: 'text', approvalMode: 'yolo', inputFormat: 'text', bare: true },
    { outputFormat: 'stream-json', includePartialMessages: true, maxSessionTurns: '-1', maxToolCalls: '0' },
    { outputFormat: 'text', maxSessionTurns: '1', maxWallTime: '30s', fallbackModel: 'f' },
  ];
  for (const flags of accepted) expect(() => checkCompatibilityFlags(flags)).not.toThrow();
  for (const [flags, message] of [
    [{ approvalMode: 'auto_edit' }, 'Unknown approval mode "auto_edit"; use one of: plan, default'],
    [{ approvalMode: 'yolo', yolo: true }, 'Give either --yolo (-y) or --approval-mode, not both.'],
    [{ inputFormat: 'stream-json' }, '--input-format stream-json is not supported'],
    [{ inputFormat: 'xml' }, 'Unknown input format "xml"; use text.'],
    [{ includePartialMessages: true }, '--include-partial-messages needs --output-format stream-json.'],
    [{ maxSessionTurns: 'ten' }, '--max-session-turns takes a whole number, not "ten".'],
    [{ maxToolCalls: '' }, '--max-tool-calls takes a whole number, not "".'],
    [{ maxSessionTurns: '0' }, '--max-session-turns 0 leaves no turn for the prompt.'],
  ] as const) {
    const check = () => checkCompatibilityFlags({ outputFormat: 'text', ...flags });
    expect(check).toThrow(message);
    try {
      check();
    } catch (error) {
      expect(error).toMatchObject({ exitCode: 42 });
    }
  }
});

test("-d is Qwen Code's short --debug, alone and in a group", async () => {
  for (const argv of [
    ['-d', 'hi'],
    ['-yd', 'hi'],
    ['-dyo', 'json', 'hi'],
  ]) {
    expect(await parseCommandLine(argv)).toMatchObject({
      kind: 'main',
      positionalPrompt: 'hi',
      flags: { debug: true },
    });
    expect(cacAnswer(argv)).toMatchObject({ flags: { debug: true } });
  }
});
