// The /auth wizard driven through injected streams, as a person at a terminal would: wait for a question
// on the screen, then press keys. Every branch writes what it should, and cancelling writes nothing.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { parse } from 'jsonc-parser';
import { codingPlanBaseUrls, codingPlanModels } from '../../src/auth/coding-plan.ts';
import type { RunContext } from '../../src/cli/context.ts';
import { runAuthWizard, thirdPartyDefaults } from '../../src/cli/wizard.ts';
import { fakeUserCode, startFakeOAuth } from '../fakes/oauth-server.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { terminalContext } from './helpers.ts';

const keys = {
  up: '\x1b[A',
  down: '\x1b[B',
  enter: '\r',
  escape: '\x1b',
  ctrlC: '\x03',
  /** Clears an input's pre-filled value (readline: delete to the start of the line). */
  clearLine: '\x15',
} as const;

/** A fake terminal: what was drawn (without colours), and keys to send once a text has appeared. */
function createTerminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = '';
  let seenUpTo = 0;
  output.on('data', (chunk: Buffer) => {
    screen += stripVTControlCharacters(chunk.toString());
  });
  return {
    input,
    output,
    screen: () => screen,
    /** Resolves once `text` appears after what earlier waits matched. */
    async waitFor(text: string, timeoutMs = 5_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = screen.indexOf(text, seenUpTo);
        if (index >= 0) {
          seenUpTo = index + text.length;
          return;
        }
        if (Date.now() > deadline) throw new Error(`"${text}" never appeared; screen:\n${screen}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    /** Waits for the question, then sends the keys one answer at a time. */
    async answer(question: string, ...pressed: string[]): Promise<void> {
      await this.waitFor(question);
      // clack draws the question before it listens; a moment later the keys reach it.
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (const key of pressed) input.write(key);
    },
  };
}

let root: string;
let home: string;
let cwd: string;
let userSettings: string;
let fake: FakeOpenAi | undefined;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'wizard-'));
  home = path.join(root, 'home');
  cwd = path.join(root, 'project');
  mkdirSync(home, { recursive: true });
  mkdirSync(cwd, { recursive: true });
  userSettings = path.join(home, '.qwen', 'settings.json');
});
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
  rmSync(root, { recursive: true, force: true });
});

/**
 * The third-party branch's first questions: an API key, the protocol, the base URL (typed over the
 * default when given, else the default kept) and the model id.
 */
async function answerProviderQuestions(
  terminal: ReturnType<typeof createTerminal>,
  protocol: keyof typeof thirdPartyDefaults,
  model: string,
  baseUrl?: string,
): Promise<void> {
  const downs = (['openai', 'anthropic', 'gemini', 'vertex-ai'] as const).indexOf(protocol);
  await terminal.answer('How do you want to sign in?', keys.down, keys.enter);
  await terminal.answer('Which API key?', keys.down, keys.enter);
  await terminal.answer('Protocol the provider speaks', ...Array<string>(downs).fill(keys.down), keys.enter);
  const typedUrl = baseUrl === undefined ? [] : [keys.clearLine, baseUrl];
  await terminal.answer(thirdPartyDefaults[protocol].baseUrl, ...typedUrl, keys.enter);
  await terminal.answer('Model id', model, keys.enter);
}

function contextFor(env: Record<string, string | undefined> = {}): RunContext & { out: string[] } {
  const out: string[] = [];
  const context = terminalContext({
    cwd,
    home,
    env: { HOME: home, NO_BROWSER: '1', ...env },
    writeOut: (output) => out.push(typeof output === 'string' ? output : new TextDecoder().decode(output)),
    writeError: (line) => out.push(`${line}\n`),
  });
  return { ...context, out };
}

function readJson(file: string): Record<string, unknown> {
  return parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

const commentedSettings = `{
  // my theme, keep me
  "theme": "dark", /* trailing */
  "modelProviders": {
    "openai": [
      // an entry of mine
      { "id": "mine", "baseUrl": "https://example.test/v1", "envKey": "MINE_KEY" }
    ]
  }
}
`;

describe('third-party provider', () => {
  test('OpenAI-compatible, key saved, checked with one tiny request; comments kept', async () => {
    fake = startFakeOpenAi({ stream: { text: ['OK'] } });
    mkdirSync(path.dirname(userSettings), { recursive: true });
    writeFileSync(userSettings, commentedSettings);
    const terminal = createTerminal();
    const context = contextFor();
    const running = runAuthWizard({ context, streams: terminal });
    await answerProviderQuestions(terminal, 'openai', 'test-model', fake.url);
    await terminal.answer('Environment variable that holds the key', keys.enter);
    await terminal.answer('API key (OPENAI_API_KEY)', 'sk-test-wizard-1234', keys.enter);
    await terminal.answer('Where should OPENAI_API_KEY come from?', keys.enter);
    await terminal.answer('Check the key now', keys.enter);
    expect(await running).toEqual({ configured: true });

    const text = readFileSync(userSettings, 'utf8');
    expect(text).toContain('// my theme, keep me');
    expect(text).toContain('/* trailing */');
    expect(text).toContain('// an entry of mine');
    expect(statSync(userSettings).mode & 0o777).toBe(0o600);
    const settings = readJson(userSettings);
    expect(settings['env']).toEqual({ OPENAI_API_KEY: 'sk-test-wizard-1234' });
    expect(settings['security']).toEqual({ auth: { selectedType: 'openai' } });
    expect(settings['model']).toEqual({ name: 'test-model', baseUrl: fake.url });
    expect((settings['modelProviders'] as Record<string, unknown>)['openai']).toEqual([
      { id: 'mine', baseUrl: 'https://example.test/v1', envKey: 'MINE_KEY' },
      { id: 'test-model', name: 'test-model', baseUrl: fake.url, envKey: 'OPENAI_API_KEY' },
    ]);
    // The check: one request with a tiny max_tokens and the new key.
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.headers['authorization']).toBe('Bearer sk-test-wizard-1234');
    expect((fake.requests[0]!.body as Record<string, unknown>)['max_tokens']).toBe(16);
    expect(terminal.screen()).toContain('The key works');
    expect(terminal.screen()).not.toContain('sk-test-wizard-1234');
    // This session uses the key at once.
    expect(context.env['OPENAI_API_KEY']).toBe('sk-test-wizard-1234');
  });

  test('Anthropic with the defaults, key not saved: the export line, no env written, no check', async () => {
    const terminal = createTerminal();
    const context = contextFor();
    const running = runAuthWizard({ context, streams: terminal });
    await answerProviderQuestions(terminal, 'anthropic', 'claude-sonnet-4-20250514');
    await terminal.answer('ANTHROPIC_API_KEY', keys.enter);
    await terminal.answer('API key (ANTHROPIC_API_KEY)', 'sk-ant-secret-9876', keys.enter);
    await terminal.answer('Where should ANTHROPIC_API_KEY come from?', keys.down, keys.enter);
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });

    const settings = readJson(userSettings);
    expect(settings['env']).toBeUndefined();
    expect(settings['security']).toEqual({ auth: { selectedType: 'anthropic' } });
    expect(settings['model']).toEqual({
      name: 'claude-sonnet-4-20250514',
      baseUrl: 'https://api.anthropic.com',
    });
    expect((settings['modelProviders'] as Record<string, unknown>)['anthropic']).toEqual([
      {
        id: 'claude-sonnet-4-20250514',
        name: 'claude-sonnet-4-20250514',
        baseUrl: 'https://api.anthropic.com',
        envKey: 'ANTHROPIC_API_KEY',
      },
    ]);
    expect(statSync(userSettings).mode & 0o777).not.toBe(0o600);
    expect(terminal.screen()).toContain("export ANTHROPIC_API_KEY='<your key sk-...9876>'");
    expect(terminal.screen()).not.toContain('sk-ant-secret-9876');
    expect(context.env['ANTHROPIC_API_KEY']).toBe('sk-ant-secret-9876');
  });

  /** OpenAI-compatible at the default URL and gpt-4o, `key` typed, saved or not, no check. */
  async function answerOpenAiKey(terminal: ReturnType<typeof createTerminal>, key: string, store: boolean) {
    await answerProviderQuestions(terminal, 'openai', 'gpt-4o');
    await terminal.answer('Environment variable that holds the key', keys.enter);
    await terminal.answer('API key (OPENAI_API_KEY', key, keys.enter);
    await terminal.answer(
      'Where should OPENAI_API_KEY come from?',
      ...(store ? [] : [keys.down]),
      keys.enter,
    );
    await terminal.answer('Check the key now', keys.down, keys.enter);
  }

  const overridden = [
    {
      name: 'the shell sets the variable: its value wins in later sessions',
      shell: 'sk-shell-value-4444',
      store: true,
      warning: 'OPENAI_API_KEY is also set in your shell (sk-...4444); that value wins in later sessions.',
    },
    {
      name: 'a .env file sets it: its value wins over the saved one',
      dotEnv: 'sk-dotenv-value-6666',
      store: true,
      warning:
        'OPENAI_API_KEY is also set in <home>/.qwen/.env (sk-...6666); that value wins in later sessions.',
    },
    {
      name: 'a .env file sets it and the key is not saved: used unless the key is exported',
      dotEnv: 'sk-dotenv-value-6666',
      store: false,
      warning:
        'OPENAI_API_KEY is also set in <home>/.qwen/.env (sk-...6666); later sessions use that value unless OPENAI_API_KEY is exported.',
    },
  ];
  for (const setup of overridden) {
    test(`a new key, and ${setup.name}`, async () => {
      if (setup.dotEnv !== undefined) {
        mkdirSync(path.join(home, '.qwen'), { recursive: true });
        writeFileSync(path.join(home, '.qwen', '.env'), `OPENAI_API_KEY=${setup.dotEnv}\n`);
      }
      const terminal = createTerminal();
      const context = contextFor(setup.shell === undefined ? {} : { OPENAI_API_KEY: setup.shell });
      const running = runAuthWizard({ context, streams: terminal });
      await answerOpenAiKey(terminal, 'sk-new-key-5555', setup.store);
      expect(await running).toEqual({ configured: true });
      // The note is drawn in a box: its lines joined again.
      const note = terminal.screen().replace(/[│\s]+/g, ' ');
      expect(note).toContain(`Warning: ${setup.warning.replace('<home>', home)}`);
      expect(terminal.screen()).not.toContain(setup.shell ?? setup.dotEnv ?? '');
      expect(context.env['OPENAI_API_KEY']).toBe('sk-new-key-5555');
    });
  }

  test('a key not saved removes the one stored before, as the choice says: later sessions never use it unasked', async () => {
    mkdirSync(path.dirname(userSettings), { recursive: true });
    writeFileSync(
      userSettings,
      '{\n  // mine\n  "env": { "OPENAI_API_KEY": "sk-old-stored-1111", "OTHER": "x" }\n}\n',
    );
    const terminal = createTerminal();
    const context = contextFor();
    const running = runAuthWizard({ context, streams: terminal });
    await answerOpenAiKey(terminal, 'sk-new-typed-2222', false);
    expect(await running).toEqual({ configured: true });
    // Drawn in boxes and wrapped: the lines joined again.
    const note = terminal.screen().replace(/[│\s]+/g, ' ');
    expect(note).toContain(
      'Do not save it (I will export OPENAI_API_KEY in my shell myself; the stored sk-...1111 is removed)',
    );
    expect(note).toContain(
      `Key not saved; this session uses it. The one stored before (sk-...1111) was removed from ${userSettings}.`,
    );
    expect(note).toContain("export OPENAI_API_KEY='<your key sk-...2222>'");
    expect(note).not.toContain('Warning');
    expect(terminal.screen()).not.toContain('sk-old-stored-1111');
    const text = readFileSync(userSettings, 'utf8');
    expect(text).toContain('// mine');
    expect(readJson(userSettings)['env']).toEqual({ OTHER: 'x' });
    expect(context.env['OPENAI_API_KEY']).toBe('sk-new-typed-2222');
  });

  test("a $VAR reference in the stored env is the user's, not a key: kept, and said to win without the export", async () => {
    mkdirSync(path.dirname(userSettings), { recursive: true });
    const settings = '{ "env": { "OPENAI_API_KEY": "$TEAM_OPENAI_KEY" } }\n';
    writeFileSync(userSettings, settings);
    const terminal = createTerminal();
    const running = runAuthWizard({
      context: contextFor({ TEAM_OPENAI_KEY: 'sk-team-value-3333' }),
      streams: terminal,
    });
    await answerOpenAiKey(terminal, 'sk-new-typed-2222', false);
    expect(await running).toEqual({ configured: true });
    expect(terminal.screen()).not.toContain('is removed');
    expect(readJson(userSettings)['env']).toEqual({ OPENAI_API_KEY: '$TEAM_OPENAI_KEY' });
    expect(terminal.screen().replace(/[│\s]+/g, ' ')).toContain(
      `Warning: OPENAI_API_KEY is also set in settings env (${userSettings}) (sk-...3333); later sessions use that value unless OPENAI_API_KEY is exported.`,
    );
  });

  test('a key saved by an earlier setup is offered to keep: an empty answer changes the model only', async () => {
    mkdirSync(path.dirname(userSettings), { recursive: true });
    writeFileSync(userSettings, '{\n  // mine\n  "env": { "OPENAI_API_KEY": "sk-saved-before-6666" }\n}\n');
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal });
    await answerProviderQuestions(terminal, 'openai', 'gpt-4.1');
    await terminal.answer('Environment variable that holds the key', keys.enter);
    await terminal.answer(
      'API key (OPENAI_API_KEY; leave empty to keep the one already set, sk-...6666)',
      keys.enter,
    );
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });
    expect(terminal.screen().replace(/[│\s]+/g, ' ')).toContain(
      `Key: OPENAI_API_KEY as already set (settings env (${userSettings})).`,
    );
    expect(readJson(userSettings)['env']).toEqual({ OPENAI_API_KEY: 'sk-saved-before-6666' });
    expect(readJson(userSettings)['model']).toMatchObject({ name: 'gpt-4.1' });
    expect(readFileSync(userSettings, 'utf8')).toContain('// mine');
  });

  test('saving over a reference to a variable says so, as written; keeping it is offered first', async () => {
    mkdirSync(path.dirname(userSettings), { recursive: true });
    const reference = `\${MY_SECRET}`;
    writeFileSync(userSettings, JSON.stringify({ env: { OPENAI_API_KEY: reference } }));
    const terminal = createTerminal();
    const running = runAuthWizard({
      context: contextFor({ MY_SECRET: 'sk-from-secret-7777' }),
      streams: terminal,
    });
    await answerProviderQuestions(terminal, 'openai', 'gpt-4o');
    await terminal.answer('Environment variable that holds the key', keys.enter);
    await terminal.answer(
      'leave empty to keep the one already set, sk-...7777)',
      'sk-typed-new-8888',
      keys.enter,
    );
    await terminal.answer('Where should OPENAI_API_KEY come from?', keys.enter);
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });
    const screen = terminal.screen().replace(/[│\s]+/g, ' ');
    expect(screen).toContain(`env.OPENAI_API_KEY, file mode 0600, replacing ${reference}`);
    expect(screen).not.toContain('is removed');
  });

  test('a file where ~/.qwen should be: one line naming it and the fix, then not configured', async () => {
    writeFileSync(path.join(home, '.qwen'), 'x');
    const terminal = createTerminal();
    const context = contextFor();
    const running = runAuthWizard({ context, streams: terminal });
    await answerOpenAiKey(terminal, 'sk-new-typed-2222', true);
    expect(await running).toEqual({ configured: false });
    expect(terminal.screen()).toContain(
      `Cannot save the settings: ${path.join(home, '.qwen')} is a file, not a directory. Move or rename it, then try again.\n`,
    );
    expect(terminal.screen()).toContain('Not configured. Run /auth to try again.');
    expect(terminal.screen()).not.toContain('EEXIST');
    expect(context.env['OPENAI_API_KEY']).toBeUndefined();
  });

  test('mid-session (/auth), a failed setup says the setup in use is kept, not "Not configured"', async () => {
    writeFileSync(path.join(home, '.qwen'), 'x');
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal, current: 'gpt-fake · OpenAI' });
    await answerOpenAiKey(terminal, 'sk-new-typed-2222', true);
    expect(await running).toEqual({ configured: false });
    expect(terminal.screen()).toContain(
      'Nothing was changed. Still using gpt-fake · OpenAI. Run /auth to try again.',
    );
    expect(terminal.screen()).not.toContain('Not configured');
  });

  test('the summary shows a base URL with credentials masked', async () => {
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal });
    const url = 'https://admin:hunter2pass@llm.example.test/v1?api_key=k-SECRET-0001';
    await answerProviderQuestions(terminal, 'openai', 'm', url);
    await terminal.answer('Environment variable that holds the key', keys.enter);
    await terminal.answer('API key (OPENAI_API_KEY)', 'sk-test-wizard-5678', keys.enter);
    await terminal.answer('Where should OPENAI_API_KEY come from?', keys.down, keys.enter);
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });
    // The prompt echoes what the user typed; what the wizard says afterwards is masked.
    const summary = terminal.screen().slice(terminal.screen().indexOf('Saved'));
    expect(summary).toContain('https://admin:***@llm.example.test/v1?api_key=***');
    expect(summary).not.toContain('hunter2pass');
  });

  test('a key typed where the variable name goes is refused there, so it is never saved as a name', async () => {
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal });
    await answerProviderQuestions(terminal, 'gemini', 'gemini-2.5-pro');
    const key = 'AIzaSyD8kQ2xWm3LpR7vT9nB4cF6hJ1gK5sE0aZ';
    await terminal.answer('Environment variable that holds the key', keys.clearLine, key, keys.enter);
    await terminal.answer('That looks like the key itself', keys.clearLine, 'MY_GEMINI_KEY', keys.enter);
    await terminal.answer('API key (MY_GEMINI_KEY)', key, keys.enter);
    await terminal.answer('Where should MY_GEMINI_KEY come from?', keys.enter);
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });
    const settings = readJson(userSettings);
    expect(settings['env']).toEqual({ MY_GEMINI_KEY: key });
    expect(JSON.stringify(settings['modelProviders'])).not.toContain(key);
  });

  test('an entry with the same id and base URL is updated in place, not duplicated; its extra fields stay', async () => {
    mkdirSync(path.dirname(userSettings), { recursive: true });
    writeFileSync(
      userSettings,
      JSON.stringify({
        modelProviders: {
          gemini: [
            {
              id: 'gemini-2.5-pro',
              name: 'My Gemini',
              baseUrl: 'https://generativelanguage.googleapis.com/',
              envKey: 'OLD_KEY',
              generationConfig: { timeout: 5000 },
            },
          ],
        },
      }),
    );
    const terminal = createTerminal();
    const running = runAuthWizard({
      context: contextFor({ GEMINI_API_KEY: 'AIza-existing-0000' }),
      streams: terminal,
    });
    await answerProviderQuestions(terminal, 'gemini', 'gemini-2.5-pro');
    await terminal.answer('GEMINI_API_KEY', keys.enter);
    // The variable is already set: an empty answer keeps it (and nothing about storing is asked).
    await terminal.answer('leave empty to keep the one already set', keys.enter);
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });

    const settings = readJson(userSettings);
    expect((settings['modelProviders'] as Record<string, unknown>)['gemini']).toEqual([
      {
        id: 'gemini-2.5-pro',
        name: 'My Gemini',
        baseUrl: 'https://generativelanguage.googleapis.com',
        envKey: 'GEMINI_API_KEY',
        generationConfig: { timeout: 5000 },
      },
    ]);
    expect(settings['env']).toBeUndefined();
    // Only baseUrl and envKey were set: the rest of the one-line file is as JSON.stringify wrote it.
    expect(readFileSync(userSettings, 'utf8')).toContain('"name":"My Gemini","baseUrl":');
    expect(readFileSync(userSettings, 'utf8')).toContain('"generationConfig":{"timeout":5000}}]}');
    expect(terminal.screen()).not.toContain('Where should');
  });

  test('a workspace that defines modelProviders gets the entry; the key stays in the user file', async () => {
    const workspaceSettings = path.join(cwd, '.qwen', 'settings.json');
    mkdirSync(path.dirname(workspaceSettings), { recursive: true });
    writeFileSync(workspaceSettings, '{ "modelProviders": { "openai": [] } }\n');
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal });
    await answerProviderQuestions(terminal, 'openai', 'gpt-4o');
    await terminal.answer('OPENAI_API_KEY', keys.clearLine, 'TEAM_OPENAI_KEY', keys.enter);
    await terminal.answer('API key (TEAM_OPENAI_KEY)', 'sk-team-5555', keys.enter);
    await terminal.answer('Where should TEAM_OPENAI_KEY come from?', keys.enter);
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });

    expect(readJson(userSettings)).toEqual({ env: { TEAM_OPENAI_KEY: 'sk-team-5555' } });
    expect(statSync(userSettings).mode & 0o777).toBe(0o600);
    const workspace = readJson(workspaceSettings);
    expect(workspace['model']).toEqual({ name: 'gpt-4o', baseUrl: 'https://api.openai.com/v1' });
    expect(JSON.stringify(workspace)).not.toContain('sk-team-5555');
  });
});

describe('the check comes before any write', () => {
  /** The third-party questions up to the check, with the fake's URL, model test-model and `key`. */
  async function answerThirdParty(terminal: ReturnType<typeof createTerminal>, url: string, key: string) {
    await answerProviderQuestions(terminal, 'openai', 'test-model', url);
    await terminal.answer('Environment variable', keys.enter);
    await terminal.answer('API key', key, keys.enter);
    await terminal.answer('Where should', keys.enter);
    await terminal.answer('Check the key now', keys.enter);
  }

  const rejected = { status: 401, body: { error: { message: 'Incorrect API key provided' } } };

  test('a rejected key writes nothing and can be entered again; only the good one is saved', async () => {
    fake = startFakeOpenAi([rejected, { stream: { text: ['OK'] } }]);
    const terminal = createTerminal();
    const context = contextFor();
    const running = runAuthWizard({ context, streams: terminal });
    await answerThirdParty(terminal, fake.url, 'sk-wrong-0000');
    await terminal.waitFor('The key was rejected');
    await terminal.waitFor('Incorrect API key provided');
    await terminal.waitFor('Nothing is saved yet');
    expect(existsSync(path.join(home, '.qwen'))).toBe(false);
    expect(context.env['OPENAI_API_KEY']).toBeUndefined();
    expect(terminal.screen()).not.toContain('Save anyway');
    const whereQuestions = () => terminal.screen().split('Where should').length;
    const whereBefore = whereQuestions();
    await terminal.answer('Enter the key again', keys.enter);
    // The place chosen for the first key is kept: no second "Where should" question.
    await terminal.answer('API key (OPENAI_API_KEY)', 'sk-right-1111', keys.enter);
    expect(await running).toEqual({ configured: true });

    expect(fake.requests.map((request) => request.headers['authorization'])).toEqual([
      'Bearer sk-wrong-0000',
      'Bearer sk-right-1111',
    ]);
    const settings = readJson(userSettings);
    expect(settings['env']).toEqual({ OPENAI_API_KEY: 'sk-right-1111' });
    expect(settings['model']).toEqual({ name: 'test-model', baseUrl: fake.url });
    expect(whereQuestions()).toBe(whereBefore);
    expect(terminal.screen().indexOf('The key works')).toBeLessThan(terminal.screen().indexOf('Saved'));
  });

  test('a rejected key, then Cancel: nothing written, and the wizard says so', async () => {
    fake = startFakeOpenAi(rejected);
    mkdirSync(path.dirname(userSettings), { recursive: true });
    writeFileSync(userSettings, commentedSettings);
    const terminal = createTerminal();
    const context = contextFor();
    const running = runAuthWizard({ context, streams: terminal });
    await answerThirdParty(terminal, fake.url, 'sk-wrong-0000');
    await terminal.answer('Nothing is saved yet', keys.down, keys.down, keys.enter);
    expect(await running).toEqual({ configured: false });
    expect(readFileSync(userSettings, 'utf8')).toBe(commentedSettings);
    expect(terminal.screen()).toContain('Cancelled; nothing was changed.');
    expect(terminal.screen()).not.toContain('Saved');
    expect(context.env['OPENAI_API_KEY']).toBeUndefined();
  });

  for (const [name, key] of [
    ['Ctrl+C', keys.ctrlC],
    ['Escape', keys.escape],
  ] as const) {
    test(`${name} while the check waits for the server: nothing written, and the wizard says so`, async () => {
      fake = startFakeOpenAi({ hangBeforeHeaders: true });
      mkdirSync(path.dirname(userSettings), { recursive: true });
      writeFileSync(userSettings, commentedSettings);
      const modeBefore = statSync(userSettings).mode;
      const terminal = createTerminal();
      const context = contextFor();
      const running = runAuthWizard({ context, streams: terminal });
      await answerThirdParty(terminal, fake.url, 'sk-test-1234567');
      await terminal.waitFor('Checking test-model');
      while (fake.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      terminal.input.write(key);
      expect(await running).toEqual({ configured: false });
      expect(readFileSync(userSettings, 'utf8')).toBe(commentedSettings);
      expect(statSync(userSettings).mode).toBe(modeBefore);
      expect(terminal.screen()).toContain('Cancelled; nothing was changed.');
      expect(terminal.screen()).not.toContain('Saved');
      expect(context.env['OPENAI_API_KEY']).toBeUndefined();
    });
  }

  /**
   * "Go back" after a rejected key, Enter at each question (the earlier answers stay), and Enter at the key:
   * refused, as no key is offered; then `key` is typed.
   */
  async function goBackAndTypeKey(terminal: ReturnType<typeof createTerminal>, url: string, key: string) {
    await terminal.answer('Nothing is saved yet', keys.down, keys.enter);
    await terminal.answer('Protocol the provider speaks', keys.enter);
    await terminal.answer(url, keys.enter);
    await terminal.answer('Model id', keys.enter);
    await terminal.answer('Environment variable', keys.enter);
    await terminal.answer('API key (OPENAI_API_KEY)', keys.enter);
    await terminal.waitFor('Enter the API key.');
    terminal.input.write(key);
    terminal.input.write(keys.enter);
  }

  test('going back after a rejected key never offers that key again: an empty answer is refused', async () => {
    fake = startFakeOpenAi([rejected, { stream: { text: ['OK'] } }]);
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal });
    await answerThirdParty(terminal, fake.url, 'sk-bad-5555');
    await goBackAndTypeKey(terminal, fake.url, 'sk-good-6666');
    await terminal.answer('Where should', keys.enter);
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });
    expect(terminal.screen()).not.toContain('leave empty');
    expect(readJson(userSettings)['env']).toEqual({ OPENAI_API_KEY: 'sk-good-6666' });
  });

  test('a rejected key from the environment is not offered either; the new one is saved', async () => {
    fake = startFakeOpenAi([rejected, { stream: { text: ['OK'] } }]);
    const terminal = createTerminal();
    const context = contextFor({ OPENAI_API_KEY: 'sk-env-bad-7777' });
    const running = runAuthWizard({ context, streams: terminal });
    await answerProviderQuestions(terminal, 'openai', 'test-model', fake.url);
    await terminal.answer('Environment variable', keys.enter);
    await terminal.answer('leave empty to keep the one already set, sk-...7777', keys.enter);
    await terminal.answer('Check the key now', keys.enter);
    await goBackAndTypeKey(terminal, fake.url, 'sk-good-8888');
    // The first answers kept the key out of the files; this one is saved.
    await terminal.answer('Where should', keys.up, keys.enter);
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });
    expect(readJson(userSettings)['env']).toEqual({ OPENAI_API_KEY: 'sk-good-8888' });
  });

  test('another failure can be saved anyway, or the answers changed by going back', async () => {
    const unknownModel = { status: 404, body: { error: { message: 'The model test-model does not exist' } } };
    fake = startFakeOpenAi([unknownModel, { stream: { text: ['OK'] } }]);
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal });
    await answerThirdParty(terminal, fake.url, 'sk-good-2222');
    await terminal.waitFor('The check failed');
    await terminal.waitFor('Check the model id');
    // The key is not what failed: Enter goes back.
    await terminal.answer('Save anyway', keys.enter);
    // Going back offers the earlier answers; an empty key keeps the one typed.
    await terminal.answer('Protocol the provider speaks', keys.enter);
    await terminal.answer(fake.url, keys.enter);
    await terminal.answer('Model id', keys.clearLine, 'other-model', keys.enter);
    await terminal.answer('Environment variable', keys.enter);
    await terminal.answer('leave empty to keep the one you entered, sk-...2222', keys.enter);
    await terminal.answer('Where should', keys.enter);
    await terminal.answer('Check the key now', keys.enter);
    expect(await running).toEqual({ configured: true });
    expect((fake.requests[1]!.body as Record<string, unknown>)['model']).toBe('other-model');
    const settings = readJson(userSettings);
    expect(settings['model']).toEqual({ name: 'other-model', baseUrl: fake.url });
    expect(settings['env']).toEqual({ OPENAI_API_KEY: 'sk-good-2222' });
    expect((settings['modelProviders'] as Record<string, unknown[]>)['openai']).toHaveLength(1);
  });

  test('a server that does not answer the check in time is a failed check (save anyway offered), not a cancel', async () => {
    fake = startFakeOpenAi({ hangBeforeHeaders: true });
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal, keyCheckTimeoutMs: 300 });
    await answerThirdParty(terminal, fake.url, 'sk-good-4444');
    await terminal.waitFor('No answer within 0.3 s.');
    await terminal.answer('Save anyway', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });
    expect(readJson(userSettings)['env']).toEqual({ OPENAI_API_KEY: 'sk-good-4444' });
    expect(terminal.screen()).not.toContain('Cancelled');
  });

  test('Save anyway after a failed check writes the answers as given', async () => {
    fake = startFakeOpenAi({ status: 500 });
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal });
    await answerThirdParty(terminal, fake.url, 'sk-good-3333');
    await terminal.answer('Save anyway', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });
    expect(readJson(userSettings)['env']).toEqual({ OPENAI_API_KEY: 'sk-good-3333' });
    expect(terminal.screen()).not.toContain('The key works');
  });
});

describe('Coding Plan', () => {
  test('region, masked key with the sk-sp- check, model list; the same settings as qwen auth coding-plan', async () => {
    mkdirSync(path.dirname(userSettings), { recursive: true });
    writeFileSync(userSettings, commentedSettings);
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal });
    await terminal.answer('How do you want to sign in?', keys.down, keys.enter);
    await terminal.answer('Which API key?', keys.enter);
    await terminal.answer('Region', keys.down, keys.enter);
    await terminal.answer('Coding Plan API key', 'sk-wrong-1', keys.enter);
    await terminal.waitFor('Coding Plan API keys start with "sk-sp-"');
    terminal.input.write(keys.clearLine);
    terminal.input.write('sk-sp-good-4321');
    terminal.input.write(keys.enter);
    await terminal.answer('Model to start with', keys.down, keys.enter);
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });

    const text = readFileSync(userSettings, 'utf8');
    expect(text).toContain('// my theme, keep me');
    expect(statSync(userSettings).mode & 0o777).toBe(0o600);
    const settings = readJson(userSettings);
    const models = codingPlanModels('global');
    expect(settings['env']).toEqual({ BAILIAN_CODING_PLAN_API_KEY: 'sk-sp-good-4321' });
    expect(settings['security']).toEqual({ auth: { selectedType: 'openai' } });
    expect(settings['model']).toEqual({ name: models[1]!.id, baseUrl: '' });
    const openai = (settings['modelProviders'] as Record<string, unknown[]>)['openai']!;
    expect(openai.slice(0, models.length)).toEqual(models);
    expect(openai.at(-1)).toEqual({ id: 'mine', baseUrl: 'https://example.test/v1', envKey: 'MINE_KEY' });
    expect(
      (settings['providerMetadata'] as Record<string, { baseUrl: string }>)['coding-plan']!.baseUrl,
    ).toBe(codingPlanBaseUrls.global);
    expect(terminal.screen()).not.toContain('sk-sp-good-4321');
  });
});

test('a Coding Plan key saved over a $VAR reference says which reference it replaced', async () => {
  mkdirSync(path.dirname(userSettings), { recursive: true });
  writeFileSync(userSettings, JSON.stringify({ env: { BAILIAN_CODING_PLAN_API_KEY: `\${CP_SECRET}` } }));
  const terminal = createTerminal();
  const running = runAuthWizard({ context: contextFor(), streams: terminal });
  await terminal.answer('How do you want to sign in?', keys.down, keys.enter);
  await terminal.answer('Which API key?', keys.enter);
  await terminal.answer('Region', keys.down, keys.enter);
  await terminal.answer('Coding Plan API key', 'sk-sp-good-4321', keys.enter);
  await terminal.answer('Model to start with', keys.enter);
  await terminal.answer('Check the key now', keys.down, keys.enter);
  expect(await running).toEqual({ configured: true });
  expect(terminal.screen()).toContain(`file mode 0600), replacing \${CP_SECRET}.`);
});

describe('Coding Plan set up again', () => {
  test('the region set up before is offered first', async () => {
    mkdirSync(path.dirname(userSettings), { recursive: true });
    const global = { 'coding-plan': { version: 'x', baseUrl: codingPlanBaseUrls.global } };
    writeFileSync(userSettings, JSON.stringify({ providerMetadata: global }));
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal });
    await terminal.answer('How do you want to sign in?', keys.down, keys.enter);
    await terminal.answer('Which API key?', keys.enter);
    await terminal.answer('Region', keys.enter);
    await terminal.answer('Coding Plan API key', 'sk-sp-again-4321', keys.enter);
    await terminal.answer('Model to start with', keys.enter);
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });
    const metadata = readJson(userSettings)['providerMetadata'] as Record<string, { baseUrl: string }>;
    expect(metadata['coding-plan']?.baseUrl).toBe(codingPlanBaseUrls.global);
  });
});

describe('security.auth.enforcedType', () => {
  test('only the enforced type can be chosen: the others are shown disabled, saying why', async () => {
    mkdirSync(path.dirname(userSettings), { recursive: true });
    writeFileSync(userSettings, '{ "security": { "auth": { "enforcedType": "anthropic" } } }\n');
    const terminal = createTerminal();
    const context = contextFor();
    const running = runAuthWizard({ context, streams: terminal });
    // Enter takes the first choice allowed: API Key, Third-party, Anthropic.
    await terminal.answer('How do you want to sign in?', keys.enter);
    await terminal.answer('Which API key?', keys.enter);
    await terminal.answer('Protocol the provider speaks', keys.enter);
    await terminal.answer(thirdPartyDefaults.anthropic.baseUrl, keys.enter);
    await terminal.answer('Model id', 'claude-sonnet-4-5', keys.enter);
    await terminal.answer('Environment variable that holds the key', keys.enter);
    await terminal.answer('API key (ANTHROPIC_API_KEY', 'sk-ant-allowed-1234', keys.enter);
    await terminal.answer('Where should ANTHROPIC_API_KEY come from?', keys.enter);
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });
    const screen = terminal.screen();
    expect(screen).toContain('Qwen OAuth (not allowed: security.auth.enforcedType is anthropic)');
    expect(screen).toContain('Coding Plan (not allowed: security.auth.enforcedType is anthropic)');
    expect(screen).toContain('OpenAI-compatible (not allowed: security.auth.enforcedType is anthropic)');
    expect(readJson(userSettings)['security']).toEqual({
      auth: { enforcedType: 'anthropic', selectedType: 'anthropic' },
    });
  });

  test('an enforced type the wizard cannot set up (openai-responses) is said at once; nothing asked', async () => {
    mkdirSync(path.dirname(userSettings), { recursive: true });
    writeFileSync(userSettings, '{ "security": { "auth": { "enforcedType": "openai-responses" } } }\n');
    const terminal = createTerminal();
    expect(await runAuthWizard({ context: contextFor(), streams: terminal })).toEqual({ configured: false });
    expect(terminal.screen()).toContain(
      'security.auth.enforcedType is openai-responses, which this wizard cannot set up: set it up in settings.json.',
    );
    expect(terminal.screen()).not.toContain('How do you want to sign in?');
  });

  test('Qwen OAuth enforced: API keys are not offered', async () => {
    mkdirSync(path.dirname(userSettings), { recursive: true });
    const enforced = '{ "security": { "auth": { "enforcedType": "qwen-oauth" } } }\n';
    writeFileSync(userSettings, enforced);
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal });
    await terminal.answer('How do you want to sign in?', keys.down, keys.escape);
    expect(await running).toEqual({ configured: false });
    expect(terminal.screen()).toContain('API Key (not allowed: security.auth.enforcedType is qwen-oauth)');
    expect(readFileSync(userSettings, 'utf8')).toBe(enforced);
  });
});

describe('Coding Plan in a workspace that defines modelProviders', () => {
  test('the models and the choice go to the workspace file, the key to the user file', async () => {
    const workspaceSettings = path.join(cwd, '.qwen', 'settings.json');
    mkdirSync(path.dirname(workspaceSettings), { recursive: true });
    writeFileSync(workspaceSettings, commentedSettings);
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal });
    await terminal.answer('How do you want to sign in?', keys.down, keys.enter);
    await terminal.answer('Which API key?', keys.enter);
    await terminal.answer('Region', keys.enter);
    await terminal.answer('Coding Plan API key', 'sk-sp-team-7777', keys.enter);
    await terminal.answer('Model to start with', keys.down, keys.enter);
    await terminal.answer('Check the key now', keys.down, keys.enter);
    expect(await running).toEqual({ configured: true });

    expect(readJson(userSettings)).toEqual({ env: { BAILIAN_CODING_PLAN_API_KEY: 'sk-sp-team-7777' } });
    expect(statSync(userSettings).mode & 0o777).toBe(0o600);
    const text = readFileSync(workspaceSettings, 'utf8');
    expect(text).toContain('// my theme, keep me');
    expect(text).not.toContain('sk-sp-team-7777');
    const workspace = readJson(workspaceSettings);
    const models = codingPlanModels('china');
    expect(workspace['model']).toEqual({ name: models[1]!.id, baseUrl: '' });
    expect(workspace['security']).toEqual({ auth: { selectedType: 'openai' } });
    const openai = (workspace['modelProviders'] as Record<string, unknown[]>)['openai']!;
    expect(openai.slice(0, models.length)).toEqual(models);
    expect(openai.at(-1)).toEqual({ id: 'mine', baseUrl: 'https://example.test/v1', envKey: 'MINE_KEY' });
    expect(terminal.screen()).toContain(workspaceSettings);
    expect(terminal.screen()).not.toContain('hides');
  });
});

describe('Coding Plan, checked', () => {
  test('going back after a rejected key never offers that key again', async () => {
    fake = startFakeOpenAi([
      { status: 401, body: { error: { message: 'Incorrect API key provided' } } },
      { stream: { text: ['OK'] } },
    ]);
    const fakeUrl = new URL(fake.url);
    // The Coding Plan endpoint is fixed: its requests go to the fake server instead, over real HTTP.
    const fetchImplementation = ((input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      url.protocol = fakeUrl.protocol;
      url.host = fakeUrl.host;
      url.pathname = url.pathname.replace(/^.*\/v1\//, '/v1/');
      return fetch(new Request(url, request));
    }) as typeof fetch;
    const terminal = createTerminal();
    const context = { ...contextFor(), fetchImplementation };
    const running = runAuthWizard({ context, streams: terminal });
    await terminal.answer('How do you want to sign in?', keys.down, keys.enter);
    await terminal.answer('Which API key?', keys.enter);
    await terminal.answer('Region', keys.enter);
    await terminal.answer('Coding Plan API key', 'sk-sp-bad-5555', keys.enter);
    await terminal.answer('Model to start with', keys.enter);
    await terminal.answer('Check the key now', keys.enter);
    await terminal.answer('Nothing is saved yet', keys.down, keys.enter);
    await terminal.answer('Region', keys.enter);
    await terminal.answer('Coding Plan API key', keys.enter);
    await terminal.waitFor('Coding Plan API keys start with "sk-sp-"');
    terminal.input.write('sk-sp-good-6666');
    terminal.input.write(keys.enter);
    await terminal.answer('Model to start with', keys.enter);
    await terminal.answer('Check the key now', keys.enter);
    expect(await running).toEqual({ configured: true });
    expect(terminal.screen()).not.toContain('leave empty');
    expect(readJson(userSettings)['env']).toEqual({ BAILIAN_CODING_PLAN_API_KEY: 'sk-sp-good-6666' });
    expect(fake.requests.map((request) => request.headers['authorization'])).toEqual([
      'Bearer sk-sp-bad-5555',
      'Bearer sk-sp-good-6666',
    ]);
  });
});

describe('Qwen OAuth', () => {
  test('the device login of qwen auth qwen-oauth: credentials and selectedType written', async () => {
    fake = startFakeOpenAi({ stream: { text: ['hi'] } });
    const oauth = startFakeOAuth({ interval: 0.02, resourceUrl: fake.url });
    try {
      const terminal = createTerminal();
      const context = contextFor({ QWEN_OAUTH_BASE_URL: oauth.url });
      const running = runAuthWizard({ context, streams: terminal });
      await terminal.answer('How do you want to sign in?', keys.enter);
      expect(await running).toEqual({ configured: true });
      expect(context.out.join('')).toContain(fakeUserCode);
      const credentials = readJson(path.join(home, '.qwen', 'oauth_creds.json'));
      expect(credentials['access_token']).toBe('access-1');
      expect(readJson(userSettings)['security']).toEqual({ auth: { selectedType: 'qwen-oauth' } });
    } finally {
      await oauth.stop();
    }
  });

  test('Ctrl+C while waiting for approval cancels the login and writes nothing', async () => {
    const oauth = startFakeOAuth({ interval: 0.02, pollOutcomes: ['pending'] });
    try {
      const terminal = createTerminal();
      const context = contextFor({ QWEN_OAUTH_BASE_URL: oauth.url });
      const running = runAuthWizard({ context, streams: terminal });
      await terminal.answer('How do you want to sign in?', keys.enter);
      const deadline = Date.now() + 5_000;
      while (!context.out.join('').includes('Waiting for approval') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      terminal.input.write(keys.ctrlC);
      expect(await running).toEqual({ configured: false });
      expect(existsSync(path.join(home, '.qwen', 'oauth_creds.json'))).toBe(false);
      expect(existsSync(userSettings)).toBe(false);
      expect(terminal.screen()).toContain('nothing was changed');
    } finally {
      await oauth.stop();
    }
  });
});

describe('cancel writes nothing', () => {
  const steps: Array<{
    name: string;
    drive: (terminal: ReturnType<typeof createTerminal>) => Promise<void>;
  }> = [
    {
      name: 'Escape at the first question',
      drive: (terminal) => terminal.answer('How do you want to sign in?', keys.escape),
    },
    {
      name: 'Ctrl+C at the Coding Plan key',
      drive: async (terminal) => {
        await terminal.answer('How do you want to sign in?', keys.down, keys.enter);
        await terminal.answer('Which API key?', keys.enter);
        await terminal.answer('Region', keys.enter);
        await terminal.answer('Coding Plan API key', 'sk-sp-typed', keys.ctrlC);
      },
    },
    {
      name: 'Escape at the Coding Plan model list',
      drive: async (terminal) => {
        await terminal.answer('How do you want to sign in?', keys.down, keys.enter);
        await terminal.answer('Which API key?', keys.enter);
        await terminal.answer('Region', keys.enter);
        await terminal.answer('Coding Plan API key', 'sk-sp-typed', keys.enter);
        await terminal.answer('Model to start with', keys.escape);
      },
    },
    {
      name: 'Escape at the last question of the third-party branch',
      drive: async (terminal) => {
        await terminal.answer('How do you want to sign in?', keys.down, keys.enter);
        await terminal.answer('Which API key?', keys.down, keys.enter);
        await terminal.answer('Protocol the provider speaks', keys.enter);
        await terminal.answer('Base URL', keys.enter);
        await terminal.answer('Model id', 'gpt-4o', keys.enter);
        await terminal.answer('Environment variable', keys.enter);
        await terminal.answer('API key', 'sk-typed-1234', keys.enter);
        await terminal.answer('Where should', keys.enter);
        await terminal.answer('Check the key now', keys.escape);
      },
    },
    {
      name: 'Ctrl+C at the base URL',
      drive: async (terminal) => {
        await terminal.answer('How do you want to sign in?', keys.down, keys.enter);
        await terminal.answer('Which API key?', keys.down, keys.enter);
        await terminal.answer('Protocol the provider speaks', keys.down, keys.down, keys.down, keys.enter);
        await terminal.answer(thirdPartyDefaults['vertex-ai'].baseUrl, keys.ctrlC);
      },
    },
  ];

  for (const step of steps) {
    test(`${step.name}: the settings file keeps its bytes, no file appears`, async () => {
      mkdirSync(path.dirname(userSettings), { recursive: true });
      writeFileSync(userSettings, commentedSettings);
      const before = readFileSync(userSettings);
      const modeBefore = statSync(userSettings).mode;
      const terminal = createTerminal();
      const context = contextFor();
      const running = runAuthWizard({ context, streams: terminal });
      await step.drive(terminal);
      expect(await running).toEqual({ configured: false });
      expect(readFileSync(userSettings).equals(before)).toBe(true);
      expect(statSync(userSettings).mode).toBe(modeBefore);
      expect(existsSync(path.join(cwd, '.qwen'))).toBe(false);
      expect(existsSync(path.join(home, '.qwen', 'oauth_creds.json'))).toBe(false);
      expect(terminal.screen()).toContain('Cancelled; nothing was changed.');
      expect(context.env['OPENAI_API_KEY']).toBeUndefined();
    });
  }

  test('cancelled with no settings file at all: none is created', async () => {
    const terminal = createTerminal();
    const running = runAuthWizard({ context: contextFor(), streams: terminal });
    await terminal.answer('How do you want to sign in?', keys.ctrlC);
    expect(await running).toEqual({ configured: false });
    expect(existsSync(path.join(home, '.qwen'))).toBe(false);
  });
});
