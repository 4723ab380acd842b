import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { createPasteFilter, createTypeAhead } from '../../src/cli/key-router.ts';
import {
  addUsage,
  completeLine,
  formatUsage,
  parseSlashCommand,
  runRepl,
  statsLines,
  sumOfUsage,
} from '../../src/cli/repl.ts';
import { type FakeOpenAi, openAiStream, startFakeOpenAi } from '../fakes/openai-server.ts';
import { terminalContext } from './helpers.ts';

describe('bracketed paste', () => {
  test('a multi-line paste becomes one placeholder, expanded on Enter into one message', () => {
    const filter = createPasteFilter();
    const forwarded = filter.push('Explain: \x1b[200~line 1\r\nline 2\rline 3\r\x1b[201~ please');
    expect(forwarded).toBe('Explain: [Pasted text #1 +3 lines] please');
    expect(filter.expand(forwarded)).toBe('Explain: line 1\nline 2\nline 3 please');
  });

  test('markers split across reads anywhere (but right after a lone ESC, which is the Escape key)', () => {
    const whole = 'a\x1b[200~x\ny\x1b[201~b';
    for (let split = 1; split < whole.length; split += 1) {
      if (split === 2) continue;
      const filter = createPasteFilter();
      const forwarded = filter.push(whole.slice(0, split)) + filter.push(whole.slice(split));
      expect(filter.expand(forwarded)).toBe('ax\nyb');
    }
  });

  test('a one-line paste is typed as is; a lone Escape key passes at once; unknown placeholders stay', () => {
    const filter = createPasteFilter();
    expect(filter.push('\x1b[200~just text\x1b[201~')).toBe('just text');
    expect(filter.push('\x1b')).toBe('\x1b');
    expect(filter.expand('[Pasted text #9 +2 lines]')).toBe('[Pasted text #9 +2 lines]');
  });
});

describe('type-ahead while an answer streams', () => {
  test('each line typed on its own is a message; a burst of lines is one; the unfinished rest comes last', () => {
    const typeAhead = createTypeAhead(10);
    typeAhead.add('first\r', 0);
    typeAhead.add('pasted\rblock\r', 500);
    typeAhead.add('end\r', 503);
    typeAhead.add('draf', 900);
    typeAhead.add('t', 1400);
    expect(typeAhead.next()).toBe('first\r');
    expect(typeAhead.next()).toBe('pasted\rblock\rend\r');
    expect(typeAhead.next()).toBe('draft');
    expect(typeAhead.next()).toBeUndefined();
  });

  test('a bracketed paste is never cut, however slowly it arrives', () => {
    const typeAhead = createTypeAhead(10);
    typeAhead.add('\x1b[200~one\r', 0);
    typeAhead.add('two\r\x1b[201~\r', 500);
    typeAhead.add('next\r', 1000);
    expect(typeAhead.next()).toBe('\x1b[200~one\rtwo\r\x1b[201~\r');
    expect(typeAhead.next()).toBe('next\r');
  });
});

test('slash commands: name and argument; paths are prompts', () => {
  expect(parseSlashCommand('/model  gpt-4o ')).toEqual({ name: '/model', argument: 'gpt-4o' });
  expect(parseSlashCommand('/HELP')).toEqual({ name: '/help', argument: '' });
  expect(parseSlashCommand(' / ')).toEqual({ name: '/', argument: '' });
  expect(parseSlashCommand('/usr/bin/env is slow')).toBeUndefined();
  expect(parseSlashCommand('hello /model')).toBeUndefined();
});

test('Tab completes slash commands, and model ids after /model', () => {
  expect(completeLine('/m', [])).toEqual([['/model'], '/m']);
  expect(completeLine('/', [])[0]).toEqual([
    '/help',
    '/auth',
    '/model',
    '/stats',
    '/clear',
    '/quit',
    '/exit',
  ]);
  expect(completeLine('/model gp', ['gpt-4o', 'gpt-4o', 'glm-5'])).toEqual([['gpt-4o'], 'gp']);
  expect(completeLine('hello', [])).toEqual([[], 'hello']);
});

test('usage: per turn and summed over the session', () => {
  let totals = { turns: 0, unanswered: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  totals = addUsage(totals, { inputTokens: 1200, outputTokens: 30, totalTokens: 1230 });
  totals = addUsage(totals, undefined, false);
  expect(totals).toEqual({ turns: 2, unanswered: 1, inputTokens: 1200, outputTokens: 30, totalTokens: 1230 });
  expect(formatUsage(totals)).toBe('1,200 in, 30 out, 1,230 total');
  // Gemini's thoughts are in its total only (gemini-text.sse: 9 prompt, 23 candidates, 185 thoughts).
  expect(formatUsage({ inputTokens: 9, outputTokens: 23, totalTokens: 217 })).toBe(
    '9 in, 23 out, 185 thinking, 217 total',
  );
  expect(
    sumOfUsage(
      { inputTokens: 40, outputTokens: 1, totalTokens: 41 },
      { inputTokens: 40, outputTokens: 1, totalTokens: 41 },
    ),
  ).toEqual({
    inputTokens: 80,
    outputTokens: 2,
    totalTokens: 82,
  });
});

test('/stats says what the counts say: no turn yet, a turn without usage, a turn that failed', () => {
  const none = { turns: 0, unanswered: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  expect(statsLines(undefined, none)).toEqual(['No turn yet.']);
  expect(statsLines({ answered: true }, { ...none, turns: 2 })).toEqual([
    'Last turn: no token usage reported.',
    'This session: 0 in, 0 out, 0 total tokens over 2 turns.',
  ]);
  const usage = { inputTokens: 160, outputTokens: 4, totalTokens: 164 };
  expect(statsLines({ usage, answered: false }, { turns: 2, unanswered: 1, ...usage })).toEqual([
    'Last turn: 160 in, 4 out, 164 total tokens (no whole answer).',
    'This session: 160 in, 4 out, 164 total tokens over 2 turns (1 without a whole answer).',
  ]);
});

/** A step that streams "partial " and then goes silent, until the request is cancelled. */
function hangingAnswer() {
  const stream = { text: ['partial ', 'answer that never ends'] };
  const body = openAiStream(stream);
  return { stream, hangAfterBytes: body.lastIndexOf('data:', body.indexOf('answer that never ends')) };
}

describe('the loop, through injected streams', () => {
  let root: string;
  let fake: FakeOpenAi;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'repl-'));
    mkdirSync(path.join(root, 'project'), { recursive: true });
    fake = startFakeOpenAi({
      stream: { text: ['Hello ', 'there.'], usage: { prompt_tokens: 7, completion_tokens: 2 } },
    });
  });
  afterEach(async () => {
    await fake.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('answers, keeps the conversation, commands, cancel keeps the partial answer, Ctrl+D leaves with 0', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let screen = '';
    output.on('data', (chunk: Buffer) => {
      screen += stripVTControlCharacters(chunk.toString());
    });
    let seen = 0;
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const index = screen.indexOf(text, seen);
        if (index >= 0) {
          seen = index + text.length;
          return;
        }
        if (Date.now() > deadline) throw new Error(`"${text}" never appeared:\n${screen}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const home = path.join(root, 'home');
    const context = terminalContext({
      cwd: path.join(root, 'project'),
      home,
      env: {
        HOME: home,
        OPENAI_API_KEY: 'sk-repl-test',
        OPENAI_BASE_URL: fake.url,
        OPENAI_MODEL: 'test-model',
      },
    });
    const running = runRepl({ context, flags: {}, input, output, initialPrompt: 'first question' });
    await waitFor('Hello there.');
    await waitFor('test-model >');
    input.write('second \\\r');
    input.write('line\r');
    await waitFor('Hello there.');
    const second = fake.requests[1]!.body as { messages: Array<{ role: string; content: string }> };
    expect(second.messages.map((message) => [message.role, message.content])).toEqual([
      ['user', 'first question'],
      ['assistant', 'Hello there.'],
      ['user', 'second \nline'],
    ]);

    input.write('/stats\r');
    await waitFor('Last turn: 7 in, 2 out, 9 total tokens.');
    await waitFor('This session: 14 in, 4 out, 18 total tokens over 2 turns.');
    input.write('/nope\r');
    await waitFor('Unknown command /nope. Type /help for the commands.');
    // A model from the environment and no list to pick from: the current model is named first.
    input.write('/model\r');
    await waitFor('Model: test-model · ');
    await waitFor('No models are configured to choose from: run /auth to add one');

    fake.setResponses(hangingAnswer());
    input.write('slow one\r');
    await waitFor('partial');
    input.write('\x03');
    await waitFor('(cancelled)');
    fake.setResponses({ stream: { text: ['after'] } });
    input.write('/clear\r');
    await waitFor('Conversation cleared.');
    input.write('fresh\r');
    await waitFor('after');
    const fresh = fake.requests.at(-1)!.body as { messages: Array<{ role: string; content: string }> };
    expect(fresh.messages).toEqual([{ role: 'user', content: 'fresh' }]);

    input.write('\x04');
    expect(await running).toBe(0);
    expect(screen).toEndWith('test-model > \nTokens this session: 26 in, 5 out, 31 total.\n');
    const historyFile = path.join(home, '.qwen', 'history');
    expect(readFileSync(historyFile, 'utf8')).toBe(
      'first question\nsecond \\\nline\n/stats\n/nope\n/model\nslow one\n/clear\nfresh\n',
    );
    expect(statSync(historyFile).mode & 0o777).toBe(0o600);
  });

  /** A session on injected streams, with the key and model in the environment. */
  function startSession(flags: { model?: string }, env?: Record<string, string>) {
    const input = new PassThrough();
    const output = new PassThrough();
    let screen = '';
    let raw = '';
    output.on('data', (chunk: Buffer) => {
      raw += chunk.toString();
      screen += stripVTControlCharacters(chunk.toString());
    });
    const home = path.join(root, 'home');
    /** Waits until `text` has been drawn `times` times. */
    const waitFor = async (text: string, times = 1) => {
      const deadline = Date.now() + 10_000;
      while (screen.split(text).length - 1 < times) {
        if (Date.now() > deadline) throw new Error(`"${text}" never appeared:\n${screen}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const running = runRepl({
      context: terminalContext({
        cwd: path.join(root, 'project'),
        home,
        env: env ?? { HOME: home, OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'm' },
      }),
      flags,
      input,
      output,
    });
    /** Waits until the `times`th `question` is drawn, then presses `keys` (clack draws before it listens). */
    const answer = async (question: string, keys: string, times = 1) => {
      await waitFor(question, times);
      await Bun.sleep(20);
      input.write(keys);
    };
    /** Waits for the `count`th request and its answer on the screen. */
    const answered = async (count: number) => {
      await waitForRequests(count);
      while (screen.split('Hello there.').length - 1 < count) await Bun.sleep(10);
    };
    return { input, output, home, waitFor, answer, answered, running, screen: () => screen, raw: () => raw };
  }

  const sentMessages = () =>
    fake.requests.map(
      (request) => (request.body as { messages: Array<{ content: string }> }).messages.at(-1)?.content,
    );
  async function waitForRequests(count: number): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (fake.requests.length < count) {
      if (Date.now() > deadline) throw new Error(`${fake.requests.length} requests, not ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  test('lines that arrive together are one message; a burst that ends inside a line waits for Enter', async () => {
    const session = startSession({});
    await session.waitFor('m >');
    session.input.write('one\rtwo\rthree\r');
    await waitForRequests(1);
    await session.waitFor('Hello there.');
    session.input.write('four\rfi');
    await session.waitFor('… > fi');
    session.input.write('ve\r');
    await waitForRequests(2);
    expect(sentMessages()).toEqual(['one\ntwo\nthree', 'four\nfive']);
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test('Backspace after a pasted block removes its placeholder whole; over an emoji, the whole cluster', async () => {
    const session = startSession({});
    await session.waitFor('m >');
    session.input.write('\x1b[200~line 1\rline 2\r\x1b[201~');
    await session.waitFor('[Pasted text #1 +2 lines]');
    session.input.write('\x7f');
    session.input.write('typed\r');
    await session.answered(1);
    // Left from the end stops at the placeholder's start, not inside it.
    session.input.write('\x1b[200~a\rb\x1b[201~');
    session.input.write('\x1b[D');
    session.input.write('see \r');
    await session.answered(2);
    session.input.write('x👨‍👩‍👧');
    session.input.write('\x7f');
    session.input.write('\r');
    await session.answered(3);
    expect(sentMessages()).toEqual(['typed', 'see a\nb', 'x']);
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test('Ctrl+C, then typing (even erased again), then Ctrl+C warns again instead of leaving', async () => {
    const session = startSession({});
    await session.waitFor('m >');
    session.input.write('\x03');
    await session.waitFor('Press Ctrl+C again');
    session.input.write('oops');
    await session.waitFor('m > oops');
    session.input.write('\x7f\x7f\x7f\x7f');
    session.input.write('\x03');
    await session.waitFor('Press Ctrl+C again', 2);
    session.input.write('\x03');
    expect(await session.running).toBe(0);
  });

  test('a resize while an answer streams draws nothing; at a prompt, readline redraws the line', async () => {
    const session = startSession({});
    await session.waitFor('m >');
    fake.setResponses(hangingAnswer());
    session.input.write('slow one\r');
    await session.waitFor('partial');
    const drawnOnResize = () => {
      const shown = session.screen().length;
      session.output.emit('resize');
      return session.screen().slice(shown);
    };
    expect(drawnOnResize()).toBe('');
    session.input.write('\x03');
    await session.waitFor('(cancelled)');
    session.input.write('draft');
    await session.waitFor('m > draft');
    expect(drawnOnResize()).toBe('m > draft');
    session.input.write('\x15/quit\r');
    expect(await session.running).toBe(0);
  });

  test('lines typed while an answer streams are sent in turn, even after Ctrl+C; an unfinished one waits, editable', async () => {
    const session = startSession({});
    await session.waitFor('m >');
    fake.setResponses(hangingAnswer(), { stream: { text: ['Queued answer.'] } });
    session.input.write('slow one\r');
    await session.waitFor('partial');
    session.input.write('queued\r');
    // Typed a moment later: another message, not part of the line above.
    await new Promise((resolve) => setTimeout(resolve, 50));
    session.input.write('draft');
    session.input.write('\x03');
    await session.waitFor('Queued answer.');
    // The unfinished line is at the prompt with the cursor at its end: Ctrl+U clears it.
    session.input.write('\x15new\r');
    await waitForRequests(3);
    expect(sentMessages()).toEqual(['slow one', 'queued', 'new']);
    expect((fake.requests[1]!.body as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: 'slow one' },
      { role: 'assistant', content: 'partial ' },
      { role: 'user', content: 'queued' },
    ]);
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test('keys that arrive together are drawn as they edit the line: what is shown before Enter is what is sent', async () => {
    const session = startSession({});
    await session.waitFor('m >');
    // At a prompt, in one read: Left, X typed inside the line, Backspace, Y.
    session.input.write('abc\x1b[DX\x7fY\r');
    await session.waitFor('Hello there.');
    expect(sentMessages()).toEqual(['abYc']);
    expect(session.screen()).toContain('m > abYc');
    // Typed while an answer streams, and handed to the next prompt at once: Home, then `>> `.
    fake.setResponses(hangingAnswer(), { stream: { text: ['Answer.'] } });
    session.input.write('slow one\r');
    await session.waitFor('partial');
    session.input.write('hello world');
    session.input.write('\x1bOH');
    session.input.write('>> \r');
    session.input.write('\x03');
    await waitForRequests(2);
    expect(sentMessages()).toEqual(['slow one', '>> hello world']);
    expect(session.screen()).toContain('m > >> hello world');
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test('one message is one history entry: lines sent together and a bracketed paste, recalled whole by Up', async () => {
    const session = startSession({});
    await session.waitFor('m >');
    session.input.write('aa\rbb\r');
    await session.answered(1);
    session.input.write('\x1b[200~p1\rp2\x1b[201~\r');
    await session.answered(2);
    session.input.write('cont \\\r');
    session.input.write('inued\r');
    await session.answered(3);
    const historyFile = path.join(session.home, '.qwen', 'history');
    expect(readFileSync(historyFile, 'utf8')).toBe('aa\\\nbb\np1\\\np2\ncont \\\ninued\n');
    // Up recalls the newest message whole (readline shows its next lines after `| `); Enter sends it as it was.
    session.input.write('\x1b[A');
    await session.waitFor('m > cont \n| inued');
    session.input.write('\r');
    await session.answered(4);
    // Up inside a recalled message first climbs its lines, then goes on to the message before.
    session.input.write('\x1b[A\x1b[A\x1b[A');
    await session.waitFor('m > p1\n| p2');
    session.input.write('\r');
    await session.answered(5);
    expect(sentMessages()).toEqual(['aa\nbb', 'p1\np2', 'cont \ninued', 'cont \ninued', 'p1\np2']);
    expect(readFileSync(historyFile, 'utf8')).toBe('aa\\\nbb\np1\\\np2\ncont \\\ninued\np1\\\np2\n');
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test("escape sequences in the model's answer and reasoning never reach the terminal, even split across reads", async () => {
    const session = startSession({});
    await session.waitFor('m >');
    const hostile = {
      reasoning: ['Thinking\x1b]0;PWN', 'ED\x07 hard.'],
      text: ['Clear\x1b[2', 'J\x1b[Hed? ', 'Clip\x1b]52;c;cm0gLXJmIH4=\x1b\\board\r\u009b31m done.'],
    };
    fake.setResponses({ stream: hostile, slices: { size: 7, delayMs: 1 } });
    session.input.write('hi\r');
    await session.waitFor('Cleared? Clipboard done.');
    const answer = session.raw().slice(session.raw().indexOf('hi'));
    expect(answer).toContain('Thinking hard.');
    expect(answer).not.toContain('PWNED');
    expect(answer).not.toContain('\x1b[2J');
    expect(answer).not.toContain('52;');
    expect(answer).not.toContain('\u009b');
    // The conversation keeps what the model said.
    session.input.write('again\r');
    await waitForRequests(2);
    const sent = fake.requests[1]!.body as { messages: Array<{ content: string }> };
    expect(sent.messages[1]!.content).toBe(hostile.text.join(''));
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test('without colours (NO_COLOR, or no terminal) the reasoning is labelled, apart from the answer', async () => {
    const session = startSession({});
    await session.waitFor('m >');
    fake.setResponses({ stream: { reasoning: ['I should answer yes.'], text: ['No.'] } });
    session.input.write('q\r');
    await session.waitFor('No.');
    expect(session.screen()).toContain('Thinking: I should answer yes.\n\nNo.');
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test('an API error prints one line and the prompt comes back; no settings are written', async () => {
    const session = startSession({ model: 'from-flag' });
    await session.waitFor('from-flag >');
    fake.setResponses({ status: 400, body: { error: { message: 'boom inside' } } });
    session.input.write('hi\r');
    await session.waitFor('boom inside');
    expect(session.screen()).toContain('✖');
    expect(session.screen()).not.toContain('    at ');
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
    expect(existsSync(path.join(session.home, '.qwen', 'settings.json'))).toBe(false);
  });

  test('an answer that is only a tool call, or that the output limit ended, says so; /stats sums a retried turn', async () => {
    const session = startSession({});
    await session.waitFor('m >');
    fake.setResponses({ stream: { toolCalls: [{ name: 'read_file', arguments: '{"path":"a"}' }] } });
    session.input.write('use a tool\r');
    await session.waitFor('The model asked to run a tool (read_file); qwen-lite runs no tools, so none ran');
    fake.setResponses({ stream: { text: ['Cut'], finishReason: 'length' } });
    session.input.write('long\r');
    await session.waitFor('Note: the answer stopped at the model\'s output limit (finish reason "length")');
    // The first attempt reports its usage and ends before any answer; the retry answers.
    fake.setResponses(
      {
        sse: 'data: {"id":"c","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":0,"total_tokens":40}}\n\n',
      },
      {
        stream: {
          text: ['Answered at last.'],
          usage: { prompt_tokens: 7, completion_tokens: 1, total_tokens: 8 },
        },
      },
    );
    session.input.write('retried\r');
    await session.waitFor('Answered at last.');
    await session.waitFor('m >', 4);
    session.input.write('/stats\r');
    await session.waitFor('Last turn: 47 in, 1 out, 48 total tokens.');
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test('a turn that fails after its usage arrived still counts in /stats and the session total', async () => {
    const session = startSession({});
    await session.waitFor('m >');
    fake.setResponses({
      stream: {
        text: ['Cut short'],
        finishReason: 'content_filter',
        usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 },
      },
    });
    session.input.write('hi\r');
    await session.waitFor('content_filter');
    session.input.write('/stats\r');
    await session.waitFor('Last turn: 11 in, 3 out, 14 total tokens (no whole answer).');
    await session.waitFor(
      'This session: 11 in, 3 out, 14 total tokens over 1 turn (1 without a whole answer).',
    );
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test('a key the server rejects (401): the error line, then that /auth fixes it in this session', async () => {
    const session = startSession({});
    await session.waitFor('m >');
    fake.setResponses({ status: 401, body: { error: { message: 'Incorrect API key provided' } } });
    session.input.write('hi\r');
    await session.waitFor('Incorrect API key provided');
    await session.waitFor('Type /auth to enter another key or log in again.');
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test('Ctrl+D cancels a menu of /model or /auth and edits in a text field; nothing is saved, the session goes on', async () => {
    const home = path.join(root, 'home');
    const settingsPath = path.join(home, '.qwen', 'settings.json');
    mkdirSync(path.dirname(settingsPath), { recursive: true });
    const settings = JSON.stringify({
      modelProviders: {
        openai: [
          { id: 'm', baseUrl: fake.url },
          { id: 'other', baseUrl: fake.url },
        ],
      },
    });
    writeFileSync(settingsPath, settings);
    const session = startSession({});
    const ask = (question: string, keys: string) => session.answer(question, keys);
    await session.waitFor('m >');
    session.input.write('/model\r');
    await ask('Model for the next turns', '\x04');
    await session.waitFor('Model unchanged.');
    session.input.write('/auth\r');
    await ask('How do you want to sign in?', '\x04');
    await session.waitFor('Cancelled; nothing was changed.');
    session.input.write('/auth\r');
    await ask('How do you want to sign in?', '\x1b[B\r');
    await ask('Which API key?', '\x1b[B\r');
    await ask('Protocol the provider speaks', '\r');
    // In the text field Ctrl+D deletes the character under the cursor (the x), as in readline.
    await ask('Base URL', `\x15${fake.url}x\x1b[D\x04\r`);
    await ask('Model id', '\x1b');
    await session.waitFor('Cancelled; nothing was changed.', 2);
    expect(session.screen()).toContain(`Base URL\n│  ${fake.url}\n`);
    session.input.write('hi\r');
    await session.answered(1);
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
    expect(readFileSync(settingsPath, 'utf8')).toBe(settings);
  });

  test('a second /auth replacing the key the first one saved: no warning about the shell, the new key is used', async () => {
    const home = path.join(root, 'home');
    const session = startSession({}, { HOME: home });
    /** The wizard's `run`th time: OpenAI-compatible at the fake server, `key` saved, no check. */
    const setUp = async (run: number, key: string) => {
      await session.answer('How do you want to sign in?', '\x1b[B\r', run);
      await session.answer('Which API key?', '\x1b[B\r', run);
      await session.answer('Protocol the provider speaks', '\r', run);
      await session.answer('Base URL', `\x15${fake.url}\r`, run);
      await session.answer('Model id', 'm\r', run);
      await session.answer('Environment variable that holds the key', '\r', run);
      await session.answer('API key (OPENAI_API_KEY', `\x15${key}\r`, run);
      await session.answer('Where should OPENAI_API_KEY come from?', '\r', run);
      await session.answer('Check the key now', '\x1b[B\r', run);
      await session.waitFor('Ready.', run);
    };
    await setUp(1, 'sk-first-3333');
    session.input.write('/auth\r');
    await setUp(2, 'sk-second-4444');
    expect(session.screen()).not.toContain('Warning');
    session.input.write('hi\r');
    await session.answered(1);
    expect(fake.requests.at(-1)?.headers.authorization).toBe('Bearer sk-second-4444');
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
    const saved = JSON.parse(readFileSync(path.join(home, '.qwen', 'settings.json'), 'utf8'));
    expect(saved.env).toEqual({ OPENAI_API_KEY: 'sk-second-4444' });
  });

  test('/model with an id that is not configured switches for this session only and saves nothing', async () => {
    const session = startSession({});
    await session.waitFor('m >');
    session.input.write('/model typo-model\r');
    await session.waitFor('for this session only, not saved');
    session.input.write('hi\r');
    await session.waitFor('Hello there.');
    expect((fake.requests.at(-1)?.body as { model: string }).model).toBe('typo-model');
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
    expect(existsSync(path.join(session.home, '.qwen', 'settings.json'))).toBe(false);
  });

  test('/model saved where a project file overrides it: the session switches, and a note says later ones will not', async () => {
    const home = path.join(root, 'home');
    mkdirSync(path.join(home, '.qwen'), { recursive: true });
    const providers = {
      openai: [
        { id: 'model-a', envKey: 'K', baseUrl: fake.url },
        { id: 'model-b', envKey: 'K', baseUrl: fake.url },
      ],
    };
    writeFileSync(
      path.join(home, '.qwen', 'settings.json'),
      JSON.stringify({
        modelProviders: providers,
        security: { auth: { selectedType: 'openai' } },
        env: { K: 'k' },
      }),
    );
    const workspace = path.join(root, 'project', '.qwen', 'settings.json');
    mkdirSync(path.dirname(workspace), { recursive: true });
    writeFileSync(workspace, JSON.stringify({ model: { name: 'model-a' } }));
    const session = startSession({}, { HOME: home });
    await session.waitFor('model-a >');
    session.input.write('/model model-b\r');
    await session.waitFor(
      `Note: ${workspace} sets model.name "model-a", which wins over the choice saved in ${path.join(home, '.qwen', 'settings.json')}: later sessions started here use that.`,
    );
    session.input.write('hi\r');
    await session.waitFor('Hello there.');
    expect((fake.requests.at(-1)?.body as { model: string }).model).toBe('model-b');
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test('/model on an entry without baseUrl that shares its id with an earlier one: a note says settings cannot pick it', async () => {
    const home = path.join(root, 'home');
    mkdirSync(path.join(home, '.qwen'), { recursive: true });
    const providers = {
      openai: [
        { id: 'qwen3', name: 'via A', envKey: 'K', baseUrl: fake.url },
        { id: 'qwen3', name: 'via the environment', envKey: 'K' },
      ],
    };
    writeFileSync(
      path.join(home, '.qwen', 'settings.json'),
      JSON.stringify({
        modelProviders: providers,
        security: { auth: { selectedType: 'openai' } },
        model: { name: 'qwen3' },
        env: { K: 'k' },
      }),
    );
    const session = startSession({}, { HOME: home });
    await session.waitFor('qwen3 >');
    session.input.write('/model\r');
    await session.answer('Model for the next turns', '\x1b[B\r');
    await session.waitFor(
      'Note: "via the environment" shares the id qwen3 with an entry that has a baseUrl, which settings pick instead: give it a baseUrl or an id of its own.',
    );
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test('a base URL that is no URL does not keep the session from starting: it says so, and /auth can mend it', async () => {
    const home = path.join(root, 'home');
    const session = startSession(
      {},
      { HOME: home, OPENAI_API_KEY: 'k', OPENAI_MODEL: 'm', OPENAI_BASE_URL: 'notaurl' },
    );
    await session.waitFor('The base URL is not a valid URL: notaurl');
    await session.waitFor('Type /auth to set up another provider, or /model to pick another model.');
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test('/model with nothing set up yet points at /auth, with or without an id, instead of at each other', async () => {
    const home = path.join(root, 'home');
    const session = startSession({}, { HOME: home });
    await session.answer('How do you want to sign in?', '\x1b');
    await session.waitFor('qwen > ');
    session.input.write('/model\r');
    await session.waitFor('No models are configured to choose from: run /auth to set up a provider first.');
    session.input.write('/model foo\r');
    await session.waitFor(
      'No model "foo" in modelProviders, and no provider to ask for it: run /auth first.',
    );
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
  });

  test("/model with an unknown id keeps the provider's key and base URL (never the protocol default)", async () => {
    const home = path.join(root, 'home');
    mkdirSync(path.join(home, '.qwen'), { recursive: true });
    const settings = {
      modelProviders: { openai: [{ id: 'own-model', envKey: 'OWN_KEY', baseUrl: fake.url }] },
      security: { auth: { selectedType: 'openai' } },
      model: { name: 'own-model' },
      env: { OWN_KEY: 'sk-own-endpoint-key' },
    };
    writeFileSync(path.join(home, '.qwen', 'settings.json'), JSON.stringify(settings));
    const session = startSession({}, { HOME: home });
    await session.waitFor('own-model >');
    session.input.write('/model other-model\r');
    await session.waitFor('for this session only, not saved');
    session.input.write('hi\r');
    await session.waitFor('Hello there.');
    const last = fake.requests.at(-1);
    expect((last?.body as { model: string }).model).toBe('other-model');
    expect(last?.headers.authorization).toBe('Bearer sk-own-endpoint-key');
    session.input.write('/quit\r');
    expect(await session.running).toBe(0);
    expect(JSON.parse(readFileSync(path.join(home, '.qwen', 'settings.json'), 'utf8'))).toEqual(settings);
  });
});
