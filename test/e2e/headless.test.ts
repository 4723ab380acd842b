// The spine end to end: the real CLI (from source and compiled) against a fake OpenAI-compatible server.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sessionIdPlaceholder } from '../../src/core/types.ts';
import { type FakeOpenAi, openAiStream, startFakeOpenAi } from '../fakes/openai-server.ts';
import {
  binaryPath,
  canRunAsAnotherUser,
  commandFor,
  ensureBinary,
  flavours,
  giveToAnotherUser,
  headlessFlavours,
  makeSandbox,
  runAsAnotherUser,
  runCli,
  type Sandbox,
} from './harness.ts';

let fake: FakeOpenAi;
let sandbox: Sandbox;

beforeAll(async () => {
  fake = startFakeOpenAi([{ stream: { text: ['Hello', ' from', ' fake.'] } }]);
  await ensureBinary();
});
afterAll(() => fake.stop());
afterEach(() => sandbox?.cleanup());

function freshSandbox(): Sandbox {
  sandbox = makeSandbox();
  fake.setResponses({ stream: { text: ['Hello', ' from', ' fake.'] } });
  return sandbox;
}

const keyFlags = () => [
  '--openai-api-key',
  'sk-flag-0001',
  '--openai-base-url',
  fake.url,
  '-m',
  'test-model',
];
const lastBody = () => fake.requests.at(-1)?.body as Record<string, unknown>;
const lastAuthorization = () => fake.requests.at(-1)?.headers.authorization;
const userText = () => (lastBody().messages as { content: string }[]).at(-1)?.content;

for (const flavour of headlessFlavours) {
  describe(`headless (${flavour})`, () => {
    test('answers a prompt on stdout, streamed text only, exit 0', async () => {
      const box = freshSandbox();
      const result = await runCli([...keyFlags(), 'say hello'], { sandbox: box, flavour });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'Hello from fake.\n' });
      expect(result.stderr).toBe('');
      const body = lastBody();
      expect(body).toMatchObject({
        model: 'test-model',
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(lastAuthorization()).toBe('Bearer sk-flag-0001');
      expect(fake.requests.at(-1)?.path).toBe('/v1/chat/completions');
    });

    test('joins stdin and the prompt as <stdin>\\n\\n<prompt>; -p works too', async () => {
      const box = freshSandbox();
      expect(
        (await runCli([...keyFlags(), 'summarise'], { sandbox: box, flavour, stdin: 'diff text\n' }))
          .exitCode,
      ).toBe(0);
      expect(userText()).toBe('diff text\n\n\nsummarise');
      expect((await runCli([...keyFlags(), '-p', 'only flag'], { sandbox: box, flavour })).exitCode).toBe(0);
      expect(userText()).toBe('only flag');
      expect((await runCli(keyFlags(), { sandbox: box, flavour, stdin: 'just stdin' })).exitCode).toBe(0);
      expect(userText()).toBe('just stdin');
    });

    test('stdin from a file is read whole, and cut at 8 MiB with a warning; /dev/null is no stdin', async () => {
      const box = freshSandbox();
      const notes = box.write('project/notes.md', 'line one\nline two\n');
      const fromFile = await runCli([...keyFlags(), 'summarise'], {
        sandbox: box,
        flavour,
        stdinFile: notes,
      });
      expect(fromFile.exitCode).toBe(0);
      expect(userText()).toBe('line one\nline two\n\n\nsummarise');

      const limit = 8 * 1024 * 1024;
      // 'é' is 2 bytes: the limit falls inside the last one that would fit, which goes whole.
      const bigFile = box.write('project/big.txt', `a${'é'.repeat(limit / 2)}tail`);
      const big = await runCli([...keyFlags(), 'x'], { sandbox: box, flavour, stdinFile: bigFile });
      expect(big.exitCode).toBe(0);
      expect(big.stderr).toContain('Warning: stdin input truncated to 8388608 bytes.');
      expect(userText()).toBe(`a${'é'.repeat(limit / 2 - 1)}\n\nx`);

      // stdin is /dev/null (runCli's default): nothing to wait for, so no note about waiting.
      const none = await runCli(keyFlags(), { sandbox: box, flavour });
      expect(none.exitCode).toBe(42);
      expect(none.stderr).toContain('No prompt given.');
      expect(none.stderr).not.toContain('0.5 s');
    });

    test('a stdin that stays open and silent does not hang; with no prompt it is exit 42', async () => {
      const box = freshSandbox();
      const answered = await runCli([...keyFlags(), 'hi'], { sandbox: box, flavour, silentOpenStdin: true });
      expect(answered.exitCode).toBe(0);
      expect(answered.stderr).toContain('nothing arrived on stdin within 0.5 s; answering the prompt alone');
      const none = await runCli(keyFlags(), { sandbox: box, flavour, silentOpenStdin: true });
      expect(none.exitCode).toBe(42);
      expect(none.stderr).toContain('No prompt given (nothing arrived on stdin within 0.5 s)');
    });

    test('a stdin that cannot be read (open for writing only, a directory) is no stdin, said in a note', async () => {
      const box = freshSandbox();
      const writeOnly = openSync(box.write('project/log.txt', ''), 'a');
      const directory = openSync(box.cwd, 'r');
      try {
        const ebadf =
          'Note: stdin could not be read (EBADF: bad file descriptor); answering the prompt alone.\n';
        const answered = await runCli([...keyFlags(), 'P'], { sandbox: box, flavour, stdinFd: writeOnly });
        expect(answered).toMatchObject({ exitCode: 0, stdout: 'Hello from fake.\n', stderr: ebadf });
        expect(userText()).toBe('P');
        const streamed = await runCli([...keyFlags(), '-o', 'stream-json', 'Q'], {
          sandbox: box,
          flavour,
          stdinFd: writeOnly,
        });
        expect(streamed).toMatchObject({ exitCode: 0, stderr: ebadf });
        expect(userText()).toBe('Q');
        const lines = streamed.stdout.trim().split('\n');
        expect(JSON.parse(lines.at(-1) ?? '')).toMatchObject({ type: 'result', is_error: false });

        const before = fake.requests.length;
        const none = await runCli([...keyFlags(), '-o', 'json'], {
          sandbox: box,
          flavour,
          stdinFd: writeOnly,
        });
        expect(none.exitCode).toBe(42);
        expect(JSON.parse(none.stdout).at(-1)).toMatchObject({
          is_error: true,
          error: {
            message: 'No prompt given (stdin could not be read: EBADF: bad file descriptor).',
            exit_code: 42,
          },
        });
        expect(fake.requests.length).toBe(before);

        const fromDirectory = await runCli([...keyFlags(), 'R'], {
          sandbox: box,
          flavour,
          stdinFd: directory,
        });
        expect(fromDirectory).toMatchObject({ exitCode: 0, stdout: 'Hello from fake.\n' });
        expect(fromDirectory.stderr).toStartWith('Note: stdin could not be read (EISDIR: ');
        expect(fromDirectory.stderr).toEndWith('; answering the prompt alone.\n');
        expect(userText()).toBe('R');
      } finally {
        closeSync(writeOnly);
        closeSync(directory);
      }
    });

    test('-o json prints one array in Qwen Code shapes; stream-json one object per line', async () => {
      const box = freshSandbox();
      fake.setResponses({
        stream: { text: ['Hi'], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
      });
      const json = await runCli([...keyFlags(), '-o', 'json', 'x'], { sandbox: box, flavour });
      expect(json.exitCode).toBe(0);
      const items = JSON.parse(json.stdout) as Record<string, unknown>[];
      expect(items.map((item) => item.type)).toEqual(['system', 'assistant', 'result']);
      expect(items[0]).toMatchObject({ subtype: 'init', model: 'test-model' });
      expect(items[1]).toMatchObject({
        message: { role: 'assistant', content: [{ type: 'text', text: 'Hi' }] },
      });
      expect(items[2]).toMatchObject({
        subtype: 'success',
        is_error: false,
        result: 'Hi',
        usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
      });
      expect(typeof items[2]?.duration_ms).toBe('number');

      const streamed = await runCli([...keyFlags(), '-o', 'stream-json', 'x'], { sandbox: box, flavour });
      const lines = streamed.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string });
      expect(lines.map((line) => line.type)).toEqual(['system', 'assistant', 'result']);

      fake.setResponses({ stream: { text: ['H', 'i'] } });
      const partial = await runCli([...keyFlags(), '-o', 'stream-json', '--include-partial-messages', 'x'], {
        sandbox: box,
        flavour,
      });
      expect(partial.exitCode).toBe(0);
      const events = partial.stdout
        .trim()
        .split('\n')
        .map(
          (line) => JSON.parse(line) as { type: string; event?: { type: string; delta?: { text: string } } },
        );
      expect(events.map((line) => line.event?.type ?? line.type).join(' ')).toBe(
        'system message_start content_block_start content_block_delta content_block_delta content_block_stop assistant message_stop result',
      );
      expect(events.map((line) => line.event?.delta?.text ?? '').join('')).toBe('Hi');
      const withoutStreamJson = await runCli([...keyFlags(), '--include-partial-messages', 'x'], {
        sandbox: box,
        flavour,
      });
      expect(withoutStreamJson.exitCode).toBe(42);
      expect(withoutStreamJson.stderr).toContain(
        '--include-partial-messages needs --output-format stream-json.',
      );
    });

    test('reasoning never reaches stdout in text mode; the JSON formats give it as thinking, as Qwen Code', async () => {
      const box = freshSandbox();
      fake.setResponses({ stream: { reasoning: ['thinking', ' hard'], text: ['answer'] } });
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box, flavour });
      expect(result.stdout).toBe('answer\n');

      const json = await runCli([...keyFlags(), '-o', 'json', 'x'], { sandbox: box, flavour });
      const items = JSON.parse(json.stdout) as { type: string; message?: { content: unknown[] } }[];
      expect(items.filter((item) => item.type === 'assistant').map((item) => item.message?.content)).toEqual([
        [{ type: 'thinking', thinking: 'thinking hard' }],
        [{ type: 'text', text: 'answer' }],
      ]);
      const partial = await runCli([...keyFlags(), '-o', 'stream-json', '--include-partial-messages', 'x'], {
        sandbox: box,
        flavour,
      });
      const deltas = partial.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { event?: { delta?: Record<string, string> } })
        .flatMap((line) => (line.event?.delta ? [line.event.delta] : []));
      expect(deltas).toEqual([
        { type: 'thinking_delta', thinking: 'thinking' },
        { type: 'thinking_delta', thinking: ' hard' },
        { type: 'text_delta', text: 'answer' },
      ]);
    });

    test('bad flag values and missing input exit 42 naming what is accepted', async () => {
      const box = freshSandbox();
      const format = await runCli([...keyFlags(), '-o', 'yaml', 'x'], { sandbox: box, flavour });
      expect(format.exitCode).toBe(42);
      expect(format.stderr).toContain('text, json, stream-json');
      const authType = await runCli(['--auth-type', 'nope', 'x'], { sandbox: box, flavour });
      expect(authType.exitCode).toBe(42);
      expect(authType.stderr).toContain('openai, anthropic, gemini, vertex-ai, qwen-oauth');
      const unknown = await runCli(['--frobnicate', 'x'], { sandbox: box, flavour });
      expect(unknown.exitCode).toBe(42);
      const noPrompt = await runCli(keyFlags(), { sandbox: box, flavour });
      expect(noPrompt.exitCode).toBe(42);
    });

    test('no authentication configured: exit 41 with one line naming the fix', async () => {
      const box = freshSandbox();
      const result = await runCli(['hello'], { sandbox: box, flavour });
      expect(result.exitCode).toBe(41);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain('OPENAI_API_KEY');
      expect(result.stderr).toContain('--auth-type');
    });

    test('401 exits 41 with the server message; the key is never printed', async () => {
      const box = freshSandbox();
      fake.setResponses({
        status: 401,
        body: {
          error: {
            message: 'Incorrect API key provided',
            type: 'invalid_request_error',
            code: 'invalid_api_key',
          },
        },
      });
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box, flavour });
      expect(result.exitCode).toBe(41);
      expect(result.stderr).toContain('Incorrect API key provided');
      expect(result.stderr).not.toContain('sk-flag-0001');
      expect(fake.requests).toHaveLength(1);
    });

    test('other API errors exit 1 with status, message and host', async () => {
      const box = freshSandbox();
      fake.setResponses({
        status: 400,
        body: { error: { message: 'max_tokens is too large', type: 'invalid_request_error' } },
      });
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box, flavour });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('400');
      expect(result.stderr).toContain('max_tokens is too large');
      expect(result.stderr).toContain(new URL(fake.url).host);
      expect(fake.requests).toHaveLength(1);
    });

    test('-o json reports a failure as a result with is_error', async () => {
      const box = freshSandbox();
      fake.setResponses({ status: 400, body: { error: { message: 'bad request' } } });
      const result = await runCli([...keyFlags(), '-o', 'json', 'x'], { sandbox: box, flavour });
      expect(result.exitCode).toBe(1);
      const items = JSON.parse(result.stdout) as Record<string, unknown>[];
      expect(items.at(-1)).toMatchObject({
        type: 'result',
        subtype: 'error_during_execution',
        is_error: true,
        num_turns: 1,
        stats: { models: { 'test-model': { api: { totalRequests: 1, totalErrors: 1 } } } },
      });
    });

    test('an answer ended by the output limit: exit 0, and a note on stderr, in the JSON formats too', async () => {
      const box = freshSandbox();
      fake.setResponses(
        { stream: { text: ['The beginning of a long'], finishReason: 'length' } },
        { stream: { text: ['The beginning of a long'], finishReason: 'length' } },
      );
      const text = await runCli([...keyFlags(), 'x'], { sandbox: box, flavour });
      expect(text).toMatchObject({ exitCode: 0, stdout: 'The beginning of a long\n' });
      expect(text.stderr).toContain(
        'Note: the answer stopped at the model\'s output limit (finish reason "length")',
      );
      // Qwen Code's stop_reason says nothing of it: only the note does.
      const json = await runCli([...keyFlags(), '-o', 'json', 'x'], { sandbox: box, flavour });
      expect(json.exitCode).toBe(0);
      expect(json.stderr).toBe(text.stderr);
      expect(JSON.parse(json.stdout).at(-1)).toMatchObject({
        is_error: false,
        result: 'The beginning of a long',
      });
    });

    test('an event cut short between good ones fails the run instead of dropping its words', async () => {
      const box = freshSandbox();
      const chunk = (text: string) =>
        `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":null}]}\n\n`;
      fake.setResponses({
        sse: `${chunk('Alpha ')}${chunk('Beta ').replace(']}\n', ']\n')}${chunk('Gamma')}data: [DONE]\n\n`,
      });
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box, flavour });
      expect(result).toMatchObject({ exitCode: 1, stdout: 'Alpha \n' });
      expect(result.stderr).toContain('The answer stopped with an error from 127.0.0.1');
      expect(result.stderr).toContain('an event is not valid JSON: {"id":"c1"');
      const json = await runCli([...keyFlags(), '-o', 'json', 'x'], { sandbox: box, flavour });
      expect(json.exitCode).toBe(1);
      expect((JSON.parse(json.stdout) as Record<string, unknown>[]).at(-1)).toMatchObject({
        is_error: true,
        result: 'Alpha ',
      });
    });

    test('a stream that fails midway keeps the text already printed and exits 1', async () => {
      const box = freshSandbox();
      const firstEvent =
        'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"partial answer"},"finish_reason":null}]}\n\n';
      fake.setResponses({
        sse: `${firstEvent}data: {"error":{"message":"The server had an error while processing your request.","type":"server_error"}}\n\n`,
      });
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box, flavour });
      expect(result.exitCode).toBe(1);
      expect(result.stdout.startsWith('partial answer')).toBe(true);
      expect(result.stderr).toContain('The server had an error');
      expect(fake.requests).toHaveLength(1);

      // Cut inside the second text chunk: after text, a lost connection is not retried (before, it is).
      fake.setResponses({ stream: { text: ['partial ', '0123456789'.repeat(20)] }, closeAfterBytes: 600 });
      const dropped = await runCli([...keyFlags(), 'x'], { sandbox: box, flavour });
      expect(dropped.exitCode).toBe(1);
      expect(dropped.stdout).toStartWith('partial ');
      expect(dropped.stderr).toContain(
        `qwen: The answer stopped: the connection to ${new URL(fake.url).host} broke (`,
      );
      expect(dropped.stderr).toContain('What arrived is kept; ask again for the rest.');
      expect(fake.requests).toHaveLength(1);
    });

    test('every kind of text reaches stdout as a full parse reads it, through a repeated envelope', async () => {
      const box = freshSandbox();
      // One envelope repeated (what the decoder learns and then reads from bytes), with each spelling a
      // server may use in it, one chunk with another envelope, and the two the decoder must leave to a full
      // parse: a lone surrogate escape and a byte that is not UTF-8 (both become U+FFFD).
      const envelope = (body: string) =>
        `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${body}"},"finish_reason":null}]}\n\n`;
      const encoder = new TextEncoder();
      const parts: Uint8Array[] = [
        encoder.encode(envelope('Plain ')),
        encoder.encode(envelope('quote \\" backslash \\\\ slash \\/ ')),
        encoder.encode(envelope('line\\nnext\\ttab ')),
        encoder.encode(envelope('\\u00e9\\ud83d\\ude00 ')),
        encoder.encode(envelope('中文 raw ')),
        encoder.encode(envelope('raw\ttab ')),
        encoder.encode(envelope('\\ud800 ')),
        // `Z` appears nowhere else in this chunk: it becomes a byte that is not UTF-8.
        encoder.encode(envelope('baZ ')).map((byte) => (byte === 0x5a ? 0xff : byte)),
        encoder.encode(envelope('')),
        encoder.encode('data: {"choices":[{"delta":{"content":"other envelope "}}]}\n\n'),
        encoder.encode(envelope('end\\n')),
        encoder.encode(
          'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
        ),
      ];
      const streamFile = path.join(box.cwd, 'stream.sse');
      writeFileSync(streamFile, Buffer.concat(parts));
      fake.setResponses({ sseFile: streamFile, slices: { seed: 3, maxSize: 40 } });
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box, flavour });
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe(
        'Plain quote " backslash \\ slash / line\nnext\ttab é😀 中文 raw raw\ttab \uFFFD ba\uFFFD other envelope end\n',
      );
    });

    test('a whole answer on a connection the server keeps open ends at [DONE], exit 0 at once', async () => {
      const box = freshSandbox();
      const stream = openAiStream({ text: ['Hello'] });
      fake.setResponses({ sse: `${stream}: the server never closes\n\n`, hangAfterBytes: stream.length });
      const result = await runCli([...keyFlags(), '-o', 'json', 'x'], {
        sandbox: box,
        flavour,
        env: { QWEN_STREAM_IDLE_TIMEOUT_MS: '10000' },
      });
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout).at(-1)).toMatchObject({ is_error: false, result: 'Hello' });
    });

    test('a finish_reason without [DONE] on a connection kept open: a whole answer, exit 0, usage kept', async () => {
      const box = freshSandbox();
      const stream = openAiStream({
        text: ['Hello'],
        usage: { prompt_tokens: 30, completion_tokens: 4 },
        omitDone: true,
      });
      fake.setResponses({ sse: stream, hangAfterBytes: stream.length });
      const result = await runCli([...keyFlags(), '-o', 'json', 'x'], {
        sandbox: box,
        flavour,
        env: { QWEN_STREAM_IDLE_TIMEOUT_MS: '15000' },
      });
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout).at(-1)).toMatchObject({
        is_error: false,
        result: 'Hello',
        usage: { input_tokens: 30, output_tokens: 4 },
      });
    });

    test('Ctrl+C while streaming cancels with exit 130 and keeps the partial answer', async () => {
      const box = freshSandbox();
      const stream = openAiStream({ text: ['first words ', 'never sent'] });
      fake.setResponses({ sse: stream, hangAfterBytes: stream.indexOf('never sent') - 10 });
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box, flavour, interruptAfterMs: 100 });
      expect(result.exitCode).toBe(130);
      expect(result.stdout).toContain('first words');
    });
  });
}

describe('stdout or stderr gone: the exit code still says how the run ended', () => {
  /** Runs `script` under bash with the compiled CLI and its arguments as "$@"; resolves with bash's exit code. */
  function runInBash(script: string, args: string[]): Promise<number> {
    const box = sandbox;
    const child = Bun.spawn(['bash', '-c', script, 'bash', ...commandFor('binary'), ...args], {
      cwd: box.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: box.home, NO_COLOR: '1' },
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
    });
    return child.exited;
  }
  // The CLI started with descriptor `fd` a pipe whose reader is already gone: writing there fails (EPIPE).
  const withGoneReader = (fd: number) => `exec ${fd}> >(exec true); sleep 0.3; exec "$@"`;

  test('a stream that breaks after `| head -c 3` took its bytes exits 1, not 0', async () => {
    freshSandbox();
    // The first event, then (after head has gone) the connection drops inside the next one.
    const first = 'data: {"choices":[{"index":0,"delta":{"content":"partial "}}]}\n\n';
    fake.setResponses({
      sse: `${first}data: {"choices":[{"index":0,"delta":{"content":"never"}}]}\n\n`,
      slices: { size: first.length, delayMs: 300 },
      closeAfterBytes: first.length + 10,
    });
    const script = 'set -o pipefail; "$@" | head -c 3 >/dev/null';
    expect(await runInBash(script, [...keyFlags(), 'x'])).toBe(1);
  });

  test('a 401 exits 41 with stderr closed or full, or stdout closed (-o json); a bad flag value 42', async () => {
    freshSandbox();
    fake.setResponses({ status: 401, body: { error: { message: 'Incorrect API key' } } });
    expect(await runInBash(withGoneReader(2), [...keyFlags(), 'x'])).toBe(41);
    expect(await runInBash('exec 2>/dev/full; exec "$@"', [...keyFlags(), 'x'])).toBe(41);
    expect(await runInBash(withGoneReader(1), [...keyFlags(), '-o', 'json', 'x'])).toBe(41);
    expect(await runInBash(withGoneReader(2), [...keyFlags(), '-o', 'yaml', 'x'])).toBe(42);
  });

  test('a successful answer into a closed stdout still exits 0', async () => {
    freshSandbox();
    fake.setResponses({ stream: { text: ['Hello'] } });
    expect(await runInBash(withGoneReader(1), [...keyFlags(), 'x'])).toBe(0);
  });
});

test('under nohup (no terminal, SIGHUP ignored) a hang-up does not stop the run', async () => {
  if (Bun.which('nohup') === null) return;
  await ensureBinary();
  const box = freshSandbox();
  fake.setResponses({ stream: { text: ['finished anyway'] }, delayBeforeHeadersMs: 800 });
  const child = Bun.spawn(['nohup', binaryPath, ...keyFlags(), 'x'], {
    cwd: box.cwd,
    env: { HOME: box.home, PATH: process.env['PATH'] ?? '' },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  setTimeout(() => child.kill('SIGHUP'), 300);
  const [exitCode, stdout] = await Promise.all([child.exited, new Response(child.stdout).text()]);
  expect(exitCode).toBe(0);
  expect(stdout).toBe('finished anyway\n');
});

describe('retries', () => {
  test("a 5xx that is not on the usual list (Cloudflare's 524) is retried too", async () => {
    const box = freshSandbox();
    fake.setResponses({ status: 524, body: 'A timeout occurred' }, { stream: { text: ['ok'] } });
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
    expect(result.stderr).toContain('(attempt 1): 524');
    expect(fake.requests).toHaveLength(2);
  });

  test('a redirect is reported, never followed: the other host gets no request and no key', async () => {
    const box = freshSandbox();
    const elsewhere = startFakeOpenAi({ stream: { text: ['stolen'] } });
    try {
      const otherUrl = elsewhere.url.replace('127.0.0.1', 'localhost');
      for (const status of [301, 307]) {
        fake.setResponses({ status, headers: { location: `${otherUrl}/chat/completions` }, body: '' });
        const result = await runCli(
          ['--openai-api-key', 'sk-redirect-secret-1234', '--openai-base-url', fake.url, '-m', 'm', 'x'],
          { sandbox: box },
        );
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toContain(
          `answered ${status}, a redirect to ${otherUrl}/chat/completions; qwen does not follow redirects`,
        );
        expect(result.stderr).not.toContain('Retrying');
        expect(fake.requests).toHaveLength(1);
      }
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await elsewhere.stop();
    }
  });

  test('a 3xx that names no address, and an empty 405 or 413: what is wrong and where to look', async () => {
    const box = freshSandbox();
    const expected: Record<number, string> = {
      304: 'answered 304 without naming an address to go to. This is not how a model API answers: check the base URL',
      405: "answered 405 without saying why. Check the base URL: it should be where the API's paths begin",
      413: 'answered 413 without saying why. The request is too large for this server',
      418: 'answered 418 without saying why. Check the base URL and the model id.',
    };
    for (const [status, line] of Object.entries(expected)) {
      fake.setResponses({ status: Number(status), body: '' });
      const result = await runCli(
        ['--openai-api-key', 'sk-test', '--openai-base-url', fake.url, '-m', 'm', 'x'],
        { sandbox: box },
      );
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(line);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  test('429 then 200: retried after retry-after-ms, the answer printed once', async () => {
    const box = freshSandbox();
    fake.setResponses(
      {
        status: 429,
        headers: { 'retry-after-ms': '20' },
        body: { error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } },
      },
      { stream: { text: ['ok'] } },
    );
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
    expect(fake.requests).toHaveLength(2);
    expect(result.stderr).toContain('Retrying');
  });

  test('429 asking for a wait longer than 60 s: not retried, and the hint says how long the server asked', async () => {
    const box = freshSandbox();
    fake.setResponses(
      {
        status: 429,
        headers: { 'retry-after': '61' },
        body: { error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } },
      },
      { stream: { text: ['ok'] } },
    );
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result.exitCode).toBe(1);
    expect(fake.requests).toHaveLength(1);
    expect(result.stderr).toContain('answered 429: Rate limit reached');
    expect(result.stderr).toContain(
      'The server asks to wait 61 s before another try, longer than qwen waits (60 s); try again then.',
    );
    expect(result.stderr).not.toContain('Retrying');
  });

  test('a wait longer than the timeouts is no part of them: the next attempt is sent and has its own time', async () => {
    const box = freshSandbox();
    const rateLimited = {
      status: 429,
      headers: { 'retry-after-ms': '600' },
      body: { error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } },
    };
    const limitsList: { settings: object; env: Record<string, string> }[] = [
      { settings: { model: { name: 'test-model', generationConfig: { timeout: 300 } } }, env: {} },
      { settings: {}, env: { QWEN_STREAM_IDLE_TIMEOUT_MS: '300' } },
    ];
    for (const limits of limitsList) {
      fake.setResponses(rateLimited, { stream: { text: ['ok'] } });
      const requestsBefore = fake.requests.length;
      box.userSettings(limits.settings);
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box, env: limits.env });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
      expect(result.stderr).toMatch(/^Retrying in 0\.6 s \(attempt 1\): 429 Rate limit reached\n$/);
      expect(fake.requests.length - requestsBefore).toBe(2);
    }
  });

  test('5xx is retried 3 times by default, honouring retry-after in seconds', async () => {
    const box = freshSandbox();
    fake.setResponses({
      status: 503,
      headers: { 'retry-after': '0' },
      body: { error: { message: 'overloaded' } },
    });
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result.exitCode).toBe(1);
    expect(fake.requests).toHaveLength(4);
  });

  test('maxRetries from the model entry; 400, 401, 404 and insufficient_quota are never retried', async () => {
    const box = freshSandbox();
    box.userSettings({
      modelProviders: {
        openai: [
          { id: 'test-model', baseUrl: fake.url, envKey: 'MY_KEY', generationConfig: { maxRetries: 1 } },
        ],
      },
      security: { auth: { selectedType: 'openai' } },
      model: { name: 'test-model' },
    });
    fake.setResponses({
      status: 500,
      headers: { 'retry-after-ms': '1' },
      body: { error: { message: 'boom' } },
    });
    expect((await runCli(['x'], { sandbox: box, env: { MY_KEY: 'k' } })).exitCode).toBe(1);
    expect(fake.requests).toHaveLength(2);
    for (const status of [400, 401, 404]) {
      fake.setResponses({ status, body: { error: { message: `status ${status}` } } });
      await runCli(['x'], { sandbox: box, env: { MY_KEY: 'k' } });
      expect(fake.requests).toHaveLength(1);
    }
    fake.setResponses({
      status: 429,
      headers: { 'retry-after-ms': '1' },
      body: {
        error: {
          message: 'You exceeded your current quota',
          type: 'insufficient_quota',
          code: 'insufficient_quota',
        },
      },
    });
    const quota = await runCli(['x'], { sandbox: box, env: { MY_KEY: 'k' } });
    expect(quota.exitCode).toBe(1);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('retries of errors inside a 200 stream', () => {
  const errorEvent = (error: Record<string, unknown>) => ({ sse: `data: ${JSON.stringify({ error })}\n\n` });

  test('reasoning from an attempt that is retried is not in the JSON answer, nor its usage', async () => {
    const box = freshSandbox();
    const reasoningThenBusy =
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { reasoning_content: 'first try' } }] })}\n\n` +
      `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 50, completion_tokens: 9 } })}\n\n` +
      `data: ${JSON.stringify({ error: { message: 'busy', code: '503' } })}\n\n`;
    const answered = { stream: { reasoning: ['second try'], text: ['ok'], usage: null } };
    fake.setResponses({ sse: reasoningThenBusy }, answered);
    const json = await runCli([...keyFlags(), '-o', 'json', 'x'], { sandbox: box });
    expect(json.exitCode).toBe(0);
    const items = JSON.parse(json.stdout) as {
      type: string;
      message?: { content: unknown[] };
      usage?: object;
    }[];
    expect(items.filter((item) => item.type === 'assistant').map((item) => item.message?.content)).toEqual([
      [{ type: 'thinking', thinking: 'second try' }],
      [{ type: 'text', text: 'ok' }],
    ]);
    expect(items.at(-1)?.usage).toMatchObject({ input_tokens: 0, output_tokens: 0 });

    fake.setResponses({ sse: reasoningThenBusy }, answered);
    const partial = await runCli([...keyFlags(), '-o', 'stream-json', '--include-partial-messages', 'x'], {
      sandbox: box,
    });
    const kinds = partial.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; event?: { type: string } })
      .map((line) => line.event?.type ?? line.type);
    // The first attempt's block and message are closed before the second one's start.
    expect(kinds.slice(0, 8)).toEqual([
      'system',
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_stop',
      'message_start',
      'content_block_start',
    ]);
  });

  test('a rate limit before any text is retried; the answer is printed once', async () => {
    const box = freshSandbox();
    fake.setResponses(
      errorEvent({ message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' }),
      { stream: { text: ['ok'] } },
    );
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
    expect(result.stderr).toContain('(attempt 1): 429 Rate limit reached');
    expect(fake.requests).toHaveLength(2);
  });

  test('a status sent as a string ("code": "503") or DashScope\'s Throttling code is retried too', async () => {
    const box = freshSandbox();
    fake.setResponses(
      errorEvent({ message: 'busy', code: '503' }),
      errorEvent({ message: 'Requests rate limit exceeded', code: 'Throttling.RateQuota' }),
      { stream: { text: ['ok'] } },
    );
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
    expect(result.stderr).toContain('(attempt 1): 503 busy');
    expect(result.stderr).toContain('(attempt 2): 429 Requests rate limit exceeded');
    expect(fake.requests).toHaveLength(3);
  });

  test("DashScope's compatible-mode rate limit and a <503> message inside the stream are retried", async () => {
    const box = freshSandbox();
    fake.setResponses(
      errorEvent({
        message: 'Requests rate limit exceeded.',
        type: 'limit_requests',
        code: 'limit_requests',
      }),
      errorEvent({
        message: '<503> ServiceUnavailable: Too many requests in route.',
        code: 'ServiceUnavailable',
      }),
      { stream: { text: ['ok'] } },
    );
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
    expect(result.stderr).toContain('(attempt 1): 429 Requests rate limit exceeded.');
    expect(result.stderr).toContain('(attempt 2): 503 <503> ServiceUnavailable');
    expect(fake.requests).toHaveLength(3);
  });

  test('a connection lost after the headers but before any text is retried', async () => {
    const box = freshSandbox();
    fake.setResponses(
      { sse: `: OPENROUTER PROCESSING\n\n${': keep-alive\n\n'.repeat(20)}`, closeAfterBytes: 60 },
      { stream: { text: ['whole'] } },
    );
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'whole\n' });
    expect(result.stderr).toContain('Retrying');
    expect(fake.requests).toHaveLength(2);
  });

  test('statuses and in-stream errors share one retry budget (maxRetries, default 3)', async () => {
    const box = freshSandbox();
    const unavailable = {
      status: 503,
      headers: { 'retry-after-ms': '1' },
      body: { error: { message: 'busy' } },
    };
    fake.setResponses(errorEvent({ message: 'overloaded', code: 'server_error' }), unavailable);
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result.exitCode).toBe(1);
    expect(fake.requests).toHaveLength(4);
    expect(result.stderr).toContain('(attempt 3)');
    expect(result.stderr).not.toContain('(attempt 4)');
  });

  test("the server's x-should-retry: false stops a retry, true retries a status not on the never-retry list", async () => {
    const box = freshSandbox();
    const refused = (status: number, retry: string, code?: string) => ({
      status,
      headers: { 'x-should-retry': retry, 'retry-after-ms': '1' },
      body: { error: { message: `status ${status}`, ...(code === undefined ? {} : { code }) } },
    });
    fake.setResponses(refused(503, 'false'));
    expect((await runCli([...keyFlags(), 'x'], { sandbox: box })).exitCode).toBe(1);
    expect(fake.requests).toHaveLength(1);
    fake.setResponses(refused(409, 'true'), { stream: { text: ['ok'] } });
    expect(await runCli([...keyFlags(), 'x'], { sandbox: box })).toMatchObject({
      exitCode: 0,
      stdout: 'ok\n',
    });
    expect(fake.requests).toHaveLength(2);
  });

  test('x-should-retry: true never retries 400, 404 or a spent quota', async () => {
    const box = freshSandbox();
    const told = (status: number, code?: string) => ({
      status,
      headers: { 'x-should-retry': 'true', 'retry-after-ms': '1' },
      body: { error: { message: `status ${status}`, ...(code === undefined ? {} : { code }) } },
    });
    for (const step of [told(400), told(404), told(429, 'insufficient_quota')]) {
      fake.setResponses(step, { stream: { text: ['never'] } });
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
      expect(result).toMatchObject({ exitCode: 1, stdout: '' });
      expect(result.stderr).not.toContain('Retrying');
      expect(fake.requests).toHaveLength(1);
    }
  });

  // An error after text is never retried: 'a stream that fails midway keeps the text...' above.
  test('an exhausted quota is not retried', async () => {
    const box = freshSandbox();
    fake.setResponses(
      errorEvent({ message: 'You exceeded your current quota', code: 'insufficient_quota' }),
      { stream: { text: ['never'] } },
    );
    const quota = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(quota.exitCode).toBe(1);
    expect(quota.stderr).toContain('You exceeded your current quota');
    expect(fake.requests).toHaveLength(1);
    // DashScope's spent quota inside the stream: a 429, as over HTTP, and not retried either.
    fake.setResponses(
      errorEvent({ message: 'Free allocated quota exceeded.', code: 'Throttling.AllocationQuota' }),
      { stream: { text: ['never'] } },
    );
    const allocation = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(allocation).toMatchObject({ exitCode: 1, stdout: '' });
    expect(allocation.stderr).toContain('reported 429 Throttling.AllocationQuota before any answer');
    expect(allocation.stderr).toContain('The quota of this key is spent; check the plan or billing.');
    expect(allocation.stderr).not.toContain('Retrying');
    expect(fake.requests).toHaveLength(1);
  });

  test('an in-stream error message is cut at 500 characters, like an HTTP error body', async () => {
    const box = freshSandbox();
    fake.setResponses(errorEvent({ message: `${'long words '.repeat(100)}END`, code: 'bad_request' }));
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result.exitCode).toBe(1);
    const [line] = result.stderr.trim().split('\n');
    expect(line).toContain('long words long words');
    expect(line).toEndWith('...');
    expect(line).not.toContain('END');
    expect(line?.length).toBeLessThan(700);
  });
});

describe('configuration precedence (end to end)', () => {
  const provider = (overrides: Record<string, unknown> = {}) => ({
    id: 'entry-model',
    envKey: 'ENTRY_KEY',
    baseUrl: fake.url,
    ...overrides,
  });
  const selectOpenAi = { security: { auth: { selectedType: 'openai' } }, model: { name: 'entry-model' } };

  test('key: flag > process env > first .env > settings env', async () => {
    const box = freshSandbox();
    box.userSettings({
      modelProviders: { openai: [provider()] },
      ...selectOpenAi,
      env: { ENTRY_KEY: 'from-settings' },
    });
    await runCli(['x'], { sandbox: box });
    expect(lastAuthorization()).toBe('Bearer from-settings');
    box.write('project/.env', 'ENTRY_KEY=from-dotenv\n');
    await runCli(['x'], { sandbox: box });
    expect(lastAuthorization()).toBe('Bearer from-dotenv');
    await runCli(['x'], { sandbox: box, env: { ENTRY_KEY: 'from-env' } });
    expect(lastAuthorization()).toBe('Bearer from-env');
    await runCli(['--openai-api-key', 'from-flag', 'x'], { sandbox: box, env: { ENTRY_KEY: 'from-env' } });
    expect(lastAuthorization()).toBe('Bearer from-flag');

    // Set but empty is set (the seed): it hides the layers below, and the message says where it is empty.
    const emptyInShell = await runCli(['x'], { sandbox: box, env: { ENTRY_KEY: '' } });
    expect(emptyInShell.exitCode).toBe(41);
    expect(emptyInShell.stderr).toContain(
      'ENTRY_KEY is set but empty (ENTRY_KEY in the environment), so no .env file or settings env can set it.',
    );
    box.write('project/.env', 'ENTRY_KEY=\n');
    const emptyInFile = await runCli(['x'], { sandbox: box });
    expect(emptyInFile.exitCode).toBe(41);
    expect(emptyInFile.stderr).toContain(
      `ENTRY_KEY is set but empty (ENTRY_KEY in ${path.join(box.cwd, '.env')}), so settings env cannot set it.`,
    );
    expect(emptyInFile.stderr).toContain('To use a key, fill it in, or remove that line');
  });

  test('.env: .qwen/.env before .env, walking up; only the first file; home fallback; Bun loads none itself', async () => {
    const box = freshSandbox();
    box.userSettings({ modelProviders: { openai: [provider()] }, ...selectOpenAi });
    box.write('home/.env', 'ENTRY_KEY=from-home-dotenv\n');
    await runCli(['x'], { sandbox: box });
    expect(lastAuthorization()).toBe('Bearer from-home-dotenv');
    box.write('home/.qwen/.env', 'ENTRY_KEY=from-home-qwen-dotenv\n');
    await runCli(['x'], { sandbox: box });
    expect(lastAuthorization()).toBe('Bearer from-home-qwen-dotenv');
    // A parent directory's file is found from a subdirectory.
    box.write('project/.env', '# a comment\nexport ENTRY_KEY="from-project-dotenv"\n');
    const nested = path.join(box.cwd, 'deep', 'er');
    box.write('project/deep/er/.keep', '');
    await runCli(['x'], { sandbox: box, cwd: nested });
    expect(lastAuthorization()).toBe('Bearer from-project-dotenv');
    // .qwen/.env wins over .env in the same directory, and .env is then not read at all (not even by Bun).
    box.write('project/.qwen/.env', 'OTHER=1\n');
    for (const flavour of flavours) {
      const result = await runCli(['x'], { sandbox: box, flavour });
      expect(result.exitCode).toBe(41);
      expect(result.stderr).toContain('ENTRY_KEY');
    }
  });

  test('--bare: security.auth.selectedType is not read (Qwen Code), in runs and in auth status', async () => {
    const box = freshSandbox();
    box.userSettings({ security: { auth: { selectedType: 'anthropic' } } });
    const env = { OPENAI_API_KEY: 'sk-env', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'env-model' };
    const selected = await runCli(['x'], { sandbox: box, env });
    expect(selected.exitCode).toBe(41);
    expect(selected.stderr).toContain('No model selected for anthropic.');
    const bare = await runCli(['--bare', 'x'], { sandbox: box, env });
    expect(bare).toMatchObject({ exitCode: 0, stdout: 'Hello from fake.\n' });
    expect(lastBody().model).toBe('env-model');
    const status = await runCli(['auth', 'status', '--bare'], { sandbox: box, env });
    expect(status.stdout).toContain('Auth type:   openai (detected from the environment)');
  });

  test('a Qwen Code file selecting openai-responses runs over Chat Completions, with a note', async () => {
    const box = freshSandbox();
    box.userSettings({
      security: { auth: { selectedType: 'openai-responses' } },
      modelProviders: { 'openai-responses': [provider()] },
      env: { ENTRY_KEY: 'sk-entry' },
    });
    const result = await runCli(['x'], { sandbox: box });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'Hello from fake.\n' });
    expect(result.stderr).toContain('openai-responses asks for the OpenAI Responses API');
    expect(fake.requests.at(-1)?.path).toBe('/v1/chat/completions');
    expect(lastBody().model).toBe('entry-model');
    // The status says the type as asked and as run, and which file the entry's base URL is in.
    const status = await runCli(['auth', 'status'], { sandbox: box });
    expect(status.stdout).toContain(
      `Auth type:   openai-responses (security.auth.selectedType in ${path.join(box.qwenHome, 'settings.json')}, run as openai)`,
    );
    expect(status.stdout).toContain(
      `(baseUrl in ${path.join(box.qwenHome, 'settings.json')} modelProviders.openai-responses (entry-model))`,
    );
  });

  test("Qwen Code's old { protocol, models } wrapper is read as its entries; the file is left as it was", async () => {
    const box = freshSandbox();
    const file = box.userSettings({
      modelProviders: { openai: { protocol: 'openai', models: [provider()] } },
      ...selectOpenAi,
      env: { ENTRY_KEY: 'sk-entry' },
    });
    const before = readFileSync(file, 'utf8');
    const result = await runCli(['x'], { sandbox: box });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'Hello from fake.\n', stderr: '' });
    expect(lastAuthorization()).toBe('Bearer sk-entry');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  test('Qwen Code\'s flat layout ("model": "id", selectedAuthType) is read as it was meant; the file is left as it was', async () => {
    const box = freshSandbox();
    const file = box.userSettings({
      selectedAuthType: 'openai',
      model: 'entry-model',
      theme: 'Default',
      modelProviders: { openai: [provider()] },
      env: { ENTRY_KEY: 'sk-flat' },
    });
    const before = readFileSync(file, 'utf8');
    const result = await runCli(['x'], { sandbox: box });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'Hello from fake.\n', stderr: '' });
    expect(lastBody().model).toBe('entry-model');
    expect(lastAuthorization()).toBe('Bearer sk-flat');
    expect(readFileSync(file, 'utf8')).toBe(before);
    // auth status names the keys as the file has them.
    const status = await runCli(['auth', 'status'], { sandbox: box });
    expect(status.stdout).toContain(`Auth type:   openai (selectedAuthType in ${file})`);
    expect(status.stdout).toContain(`Model:       entry-model (model in ${file})`);
  });

  test('a bunfig.toml in the working directory changes nothing', async () => {
    const box = freshSandbox();
    const marker = path.join(box.cwd, 'preload-ran');
    box.write('project/evil.ts', `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x');`);
    box.write('project/bunfig.toml', 'preload = ["./evil.ts"]\n');
    for (const flavour of flavours) {
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box, flavour });
      expect(result.exitCode).toBe(0);
      expect(existsSync(marker)).toBe(false);
    }
  });

  test('base URL: entry baseUrl > --openai-base-url > OPENAI_BASE_URL', async () => {
    const box = freshSandbox();
    const unreachable = 'http://127.0.0.1:9/v1';
    await runCli(['--openai-api-key', 'k', '-m', 'm', 'x'], {
      sandbox: box,
      env: { OPENAI_BASE_URL: fake.url },
    });
    expect(fake.requests).toHaveLength(1);
    const flagWins = await runCli(['--openai-api-key', 'k', '-m', 'm', '--openai-base-url', fake.url, 'x'], {
      sandbox: box,
      env: { OPENAI_BASE_URL: unreachable },
    });
    expect(flagWins.exitCode).toBe(0);
    box.userSettings({ modelProviders: { openai: [provider()] }, ...selectOpenAi });
    const entryWins = await runCli(['--openai-base-url', unreachable, 'x'], {
      sandbox: box,
      env: { ENTRY_KEY: 'k' },
    });
    expect(entryWins.exitCode).toBe(0);
  });

  test('model: --model > model.name > OPENAI_MODEL; --model saves nothing', async () => {
    const box = freshSandbox();
    const settingsFile = box.userSettings({
      modelProviders: { openai: [provider(), provider({ id: 'other-model' })] },
      ...selectOpenAi,
    });
    const before = readFileSync(settingsFile, 'utf8');
    await runCli(['x'], { sandbox: box, env: { ENTRY_KEY: 'k', OPENAI_MODEL: 'env-model' } });
    expect(lastBody().model).toBe('entry-model');
    await runCli(['-m', 'other-model', 'x'], { sandbox: box, env: { ENTRY_KEY: 'k' } });
    expect(lastBody().model).toBe('other-model');
    expect(readFileSync(settingsFile, 'utf8')).toBe(before);
    const envOnly = freshSandbox();
    await runCli(['x'], {
      sandbox: envOnly,
      env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'env-model' },
    });
    expect(lastBody().model).toBe('env-model');
  });

  test('entry generationConfig: sampling params, customHeaders and extra_body reach the wire', async () => {
    const box = freshSandbox();
    box.userSettings({
      modelProviders: {
        openai: [
          provider({
            generationConfig: {
              samplingParams: { temperature: 0.2, top_p: 0.8, max_tokens: 1234 },
              customHeaders: { 'X-Custom-Test': 'abc' },
              extra_body: { enable_thinking: true, service_tier: 'priority' },
            },
          }),
        ],
      },
      ...selectOpenAi,
    });
    expect((await runCli(['x'], { sandbox: box, env: { ENTRY_KEY: 'k' } })).exitCode).toBe(0);
    expect(lastBody()).toMatchObject({
      temperature: 0.2,
      top_p: 0.8,
      max_tokens: 1234,
      enable_thinking: true,
      service_tier: 'priority',
    });
    expect(fake.requests.at(-1)?.headers['x-custom-test']).toBe('abc');
    // Named as Qwen Code names itself (compat §7), and customHeaders can name it otherwise.
    expect(fake.requests.at(-1)?.headers['user-agent']).toMatch(/^QwenCode\/\d+\.\d+\.\d+ \(\w+; \w+\)$/);
    box.userSettings({
      modelProviders: {
        openai: [provider({ generationConfig: { customHeaders: { 'user-agent': 'my-gateway-client/2' } } })],
      },
      ...selectOpenAi,
    });
    expect((await runCli(['x'], { sandbox: box, env: { ENTRY_KEY: 'k' } })).exitCode).toBe(0);
    expect(fake.requests.at(-1)?.headers['user-agent']).toBe('my-gateway-client/2');
  });

  test('QWEN_CODE_MAX_OUTPUT_TOKENS reaches the wire as max_tokens', async () => {
    const box = freshSandbox();
    const result = await runCli([...keyFlags(), 'x'], {
      sandbox: box,
      env: { QWEN_CODE_MAX_OUTPUT_TOKENS: '777' },
    });
    expect(result.exitCode).toBe(0);
    expect(lastBody()).toMatchObject({ max_tokens: 777 });
  });

  test('providerProtocol: a custom provider id is read as the protocol it maps to; an unmapped one is skipped, said once', async () => {
    const box = freshSandbox();
    box.userSettings({
      providerProtocol: { myrouter: 'openai' },
      modelProviders: {
        myrouter: [provider({ id: 'router-model', envKey: 'ROUTER_KEY' })],
        stray: [provider({ id: 'stray-model' })],
      },
      security: { auth: { selectedType: 'openai' } },
      model: { name: 'router-model' },
      env: { ROUTER_KEY: 'rk-router' },
    });
    const result = await runCli(['x'], { sandbox: box });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'Hello from fake.\n' });
    expect(fake.requests.at(-1)?.headers.authorization).toBe('Bearer rk-router');
    expect(lastBody()).toMatchObject({ model: 'router-model' });
    expect(result.stderr).toBe(
      'Warning: the models under modelProviders.stray are skipped: "stray" is not a protocol and providerProtocol does not map it to one (openai, anthropic, gemini, vertex-ai, openai-responses).\n',
    );
  });

  test(`${sessionIdPlaceholder} in customHeaders: sent as the run's session_id only when user settings allow it`, async () => {
    const box = freshSandbox();
    const withHeaders = (extra: object) => ({
      modelProviders: {
        openai: [
          provider({
            generationConfig: {
              customHeaders: { 'X-Plain': 'abc', 'X-Sess': `run-${sessionIdPlaceholder}` },
            },
          }),
        ],
      },
      ...selectOpenAi,
      ...extra,
    });
    const warning = `Warning: customHeaders X-Sess is not sent: ${sessionIdPlaceholder} in a header value needs outboundCorrelation.allowDynamicHeaderValues: true in the user or system settings.\n`;
    const run = () => runCli(['-o', 'json', 'x'], { sandbox: box, env: { ENTRY_KEY: 'k' } });

    box.userSettings(withHeaders({}));
    const refused = await run();
    expect(refused).toMatchObject({ exitCode: 0, stderr: warning });
    expect(fake.requests.at(-1)?.headers['x-plain']).toBe('abc');
    expect(fake.requests.at(-1)?.headers['x-sess']).toBeUndefined();

    // A project's settings cannot allow it.
    box.write('project/.qwen/settings.json', { outboundCorrelation: { allowDynamicHeaderValues: true } });
    expect(await run()).toMatchObject({ exitCode: 0, stderr: warning });
    expect(fake.requests.at(-1)?.headers['x-sess']).toBeUndefined();

    box.userSettings(withHeaders({ outboundCorrelation: { allowDynamicHeaderValues: true } }));
    const allowed = await run();
    expect(allowed).toMatchObject({ exitCode: 0, stderr: '' });
    const sessionId = (JSON.parse(allowed.stdout) as { session_id: string }[])[0]?.session_id;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.requests.at(-1)?.headers['x-sess']).toBe(`run-${sessionId}`);
  });

  test('a DashScope endpoint (here through DASHSCOPE_PROXY_BASE_URL) gets its headers, cache marker and session metadata', async () => {
    const box = freshSandbox();
    const env = {
      OPENAI_API_KEY: 'sk-ds',
      OPENAI_BASE_URL: fake.url,
      OPENAI_MODEL: 'qwen3-coder-plus',
      DASHSCOPE_PROXY_BASE_URL: `${fake.url}/`,
    };
    const result = await runCli(['-o', 'json', 'hello there'], { sandbox: box, env });
    expect(result.exitCode).toBe(0);
    const sessionId = (JSON.parse(result.stdout) as { session_id: string }[])[0]?.session_id;
    const headers = fake.requests.at(-1)?.headers ?? {};
    expect(headers['x-dashscope-cachecontrol']).toBe('enable');
    expect(headers['x-dashscope-authtype']).toBe('openai');
    expect(headers['x-dashscope-useragent']).toMatch(/^QwenCode\//);
    expect(lastBody()).toMatchObject({
      messages: [
        {
          role: 'user',
          content: [{ type: 'text', text: 'hello there', cache_control: { type: 'ephemeral' } }],
        },
      ],
      preserve_thinking: true,
      metadata: { sessionId, promptId: `${sessionId}########0` },
    });
    // Any other endpoint: none of it.
    await runCli(['x'], { sandbox: box, env: { ...env, DASHSCOPE_PROXY_BASE_URL: 'http://127.0.0.1:9/v1' } });
    expect(fake.requests.at(-1)?.headers['x-dashscope-cachecontrol']).toBeUndefined();
    expect(lastBody()).toMatchObject({ messages: [{ role: 'user', content: 'x' }] });
  });

  test('scopes: workspace over user (modelProviders replaced whole), system over all, $VAR expanded', async () => {
    const box = freshSandbox();
    box.userSettings({ modelProviders: { openai: [provider({ id: 'user-model' })] }, ...selectOpenAi });
    box.write('project/.qwen/settings.json', {
      modelProviders: {
        openai: [provider({ id: 'workspace-model', baseUrl: ['$', '{FAKE_URL}'].join('') })],
      },
      model: { name: 'workspace-model' },
    });
    await runCli(['x'], { sandbox: box, env: { ENTRY_KEY: 'k', FAKE_URL: fake.url } });
    expect(lastBody().model).toBe('workspace-model');
    // model.name from the user file no longer names an entry: the workspace replaced modelProviders.
    const system = box.write('system/settings.json', {
      model: { name: 'system-model' },
      modelProviders: { openai: [provider({ id: 'system-model' })] },
    });
    await runCli(['x'], {
      sandbox: box,
      env: { ENTRY_KEY: 'k', FAKE_URL: fake.url, QWEN_CODE_SYSTEM_SETTINGS_PATH: system },
    });
    expect(lastBody().model).toBe('system-model');
  });

  test('$VAR in settings is expanded without the variables advanced.excludedEnvVars drops from a project .env', async () => {
    const box = freshSandbox();
    box.userSettings({
      model: { name: ['m-$', '{DEBUG}-$', '{OTHER}-$KEPT'].join('') },
      advanced: { excludedEnvVars: ['DEBUG', 'OTHER'] },
    });
    box.write('project/.env', 'DEBUG=1\nOTHER=3\nKEPT=k\n');
    const result = await runCli(['--openai-api-key', 'k', '--openai-base-url', fake.url, 'x'], {
      sandbox: box,
    });
    expect(result.exitCode).toBe(0);
    expect(lastBody().model).toBe(['m-$', '{DEBUG}-$', '{OTHER}-k'].join(''));
  });

  test('in the home directory reached through a symlink (HOME is a link), no workspace file is read', async () => {
    const box = freshSandbox();
    const link = path.join(path.dirname(box.home), 'home-link');
    symlinkSync(box.home, link);
    box.write('home/.qwen/settings.json', { model: { name: 'workspace-file-read' } });
    box.write('home/qh/settings.json', { model: { name: 'from-qwen-home' } });
    const result = await runCli(['--openai-api-key', 'k', '--openai-base-url', fake.url, 'x'], {
      sandbox: box,
      cwd: box.home,
      env: { HOME: link, QWEN_HOME: path.join(box.home, 'qh') },
    });
    expect(result.exitCode).toBe(0);
    expect(lastBody().model).toBe('from-qwen-home');
  });

  test('auth type: --auth-type > selectedType > detection from the environment', async () => {
    const box = freshSandbox();
    const detected = await runCli(['x'], {
      sandbox: box,
      env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'detected' },
    });
    expect(detected.exitCode).toBe(0);
    box.userSettings({ security: { auth: { selectedType: 'gemini' } } });
    const selected = await runCli(['x'], {
      sandbox: box,
      env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'm' },
    });
    expect(selected.exitCode).not.toBe(0);
    expect(fake.requests).toHaveLength(1);
    const flag = await runCli(['--auth-type', 'openai', 'x'], {
      sandbox: box,
      env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'm' },
    });
    expect(flag.exitCode).toBe(0);
  });

  test('broken settings: exit 52 naming file and line:column, or the JSON path; the file is left alone', async () => {
    const box = freshSandbox();
    const broken = box.userSettings('{\n  // comment\n  "model": { "name": "x", },\n  "env": { oops }\n}\n');
    const parse = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(parse.exitCode).toBe(52);
    expect(parse.stderr).toContain(`${broken}:4:`);
    expect(readFileSync(broken, 'utf8')).toContain('oops');
    box.userSettings({ modelProviders: { openai: [{ id: 'a' }, { name: 'no id' }] } });
    const invalid = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(invalid.exitCode).toBe(52);
    expect(invalid.stderr).toContain('modelProviders.openai[1].id');
    // Qwen Code's old { protocol, models } form: the path names where the entry is in the file.
    box.userSettings({
      modelProviders: { openai: { protocol: 'openai', models: [{ id: 'ok' }, { id: 3 }] } },
    });
    const legacy = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(legacy.exitCode).toBe(52);
    expect(legacy.stderr).toContain('modelProviders.openai.models[1].id: expected a string');
    box.userSettings({ model: { name: 42 }, somethingUnknown: { kept: true } });
    const wrongType = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(wrongType.exitCode).toBe(52);
    expect(wrongType.stderr).toContain('model.name');
    box.userSettings('null');
    const nullFile = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(nullFile.exitCode).toBe(52);
    expect(nullFile.stderr).toContain('expected a JSON object at the top level; found null');
    box.userSettings({ somethingUnknown: { kept: true } });
    expect((await runCli([...keyFlags(), 'x'], { sandbox: box })).exitCode).toBe(0);
  });
});

test('--version and --help', async () => {
  const box = freshSandbox();
  const pkg = JSON.parse(readFileSync(path.join(import.meta.dir, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  for (const flavour of flavours) {
    const version = await runCli(['--version'], { sandbox: box, flavour });
    expect(version).toMatchObject({ exitCode: 0, stdout: `${pkg.version}\n` });
    const help = await runCli(['--help'], { sandbox: box, flavour });
    expect(help.exitCode).toBe(0);
    for (const flag of [
      '--model',
      '--auth-type',
      '--openai-api-key',
      '--openai-base-url',
      '--output-format',
      '--prompt',
    ]) {
      expect(help.stdout).toContain(flag);
    }
    expect(help.stdout).toContain('--yolo');
    expect(help.stdout).toContain('Qwen Code compatibility:');
    expect(help.stdout).toContain('qwen-lite runs no tools, so they change nothing');
    expect(help.stdout).not.toMatch(/ +$/m);
  }
});

test('-o json: a lone surrogate from the server becomes U+FFFD, as in text mode (jq refuses the escape)', async () => {
  const box = freshSandbox();
  fake.setResponses({ stream: { text: ['smile \ud83d!'] } });
  const result = await runCli([...keyFlags(), '-o', 'json', 'x'], { sandbox: box });
  expect(result.exitCode).toBe(0);
  expect(result.stdout).not.toContain('\\ud83d');
  const events = JSON.parse(result.stdout) as { type: string; result?: string }[];
  expect(events.find((event) => event.type === 'result')?.result).toBe('smile \ufffd!');

  // Every stream-json line parses on its own, the partial messages' text_delta lines too.
  const partial = await runCli([...keyFlags(), '-o', 'stream-json', '--include-partial-messages', 'x'], {
    sandbox: box,
  });
  expect(partial.stdout).not.toContain('\\ud83d');
  const deltas = partial.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { event?: { delta?: { text: string } } })
    .flatMap((line) => (line.event?.delta ? [line.event.delta.text] : []));
  expect(deltas).toEqual(['smile \ufffd!']);
});

test('an answer without text says so on stderr in text mode (reasoning only, or nothing at all), exit 0', async () => {
  const box = freshSandbox();
  fake.setResponses({ stream: { reasoning: ['Thinking it over.'] } });
  const reasoningOnly = await runCli([...keyFlags(), 'x'], { sandbox: box });
  expect(reasoningOnly).toMatchObject({ exitCode: 0, stdout: '' });
  expect(reasoningOnly.stderr).toBe(
    'The model answered with reasoning only, and no text: qwen-lite prints no reasoning in a one-shot run.\n',
  );
  fake.setResponses({ stream: {} });
  const empty = await runCli([...keyFlags(), 'x'], { sandbox: box });
  expect(empty).toMatchObject({ exitCode: 0, stdout: '', stderr: 'The model sent an empty answer.\n' });
  // The JSON formats carry the empty result themselves: no note.
  const json = await runCli([...keyFlags(), '-o', 'json', 'x'], { sandbox: box });
  expect(json.stderr).toBe('');
  // Reasoning that used up the output limit: both notes, the second saying what to raise.
  fake.setResponses({ stream: { reasoning: ['Thinking it over.'], finishReason: 'length' } });
  const limited = await runCli([...keyFlags(), 'x'], { sandbox: box });
  expect(limited).toMatchObject({ exitCode: 0, stdout: '' });
  expect(limited.stderr).toContain('The model answered with reasoning only');
  expect(limited.stderr).toContain(
    'Note: the answer stopped at the model\'s output limit (finish reason "length")',
  );
});

test('an answer that is only a tool call: text mode says on stderr which tool and that none ran, exit 0', async () => {
  const box = freshSandbox();
  fake.setResponses({
    stream: {
      toolCalls: [{ name: 'read_file', arguments: { path: 'a' } }, { name: 'run\u001b[2J_shell' }],
    },
  });
  const text = await runCli([...keyFlags(), 'x'], { sandbox: box });
  expect(text).toMatchObject({ exitCode: 0, stdout: '' });
  expect(text.stderr).toBe(
    'The model asked to run tools (read_file, run_shell); qwen-lite runs no tools, so none ran (-o json lists the calls with their arguments).\n',
  );
  const json = await runCli([...keyFlags(), '-o', 'json', 'x'], { sandbox: box });
  expect(json.exitCode).toBe(0);
  expect(json.stderr).toBe('');
  expect(json.stdout).toContain('"name":"read_file"');
});

test('-o json and stream-json: a failure before any request still ends with an error result on stdout', async () => {
  const box = freshSandbox();
  for (const format of ['json', 'stream-json']) {
    const result = await runCli(['-o', format, 'hello'], { sandbox: box });
    expect(result.exitCode).toBe(41);
    const last = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as unknown;
    const resultObject = Array.isArray(last) ? last.at(-1) : last;
    // No model was asked: no turn, and nothing in stats.models (Qwen Code says num_turns 0 too).
    expect(resultObject).toMatchObject({
      type: 'result',
      subtype: 'error_during_execution',
      is_error: true,
      num_turns: 0,
      stats: { models: {}, files: { totalLinesAdded: 0, totalLinesRemoved: 0 } },
    });
  }
});

test('-o json and stream-json: a refused flag ends with the same error result as a later failure', async () => {
  const box = freshSandbox();
  const cases: [string[], string][] = [
    [['--bogus'], 'Unknown option `--bogus`.'],
    [['--approval-mode', 'nope'], 'Unknown approval mode "nope"'],
    [['--max-session-turns', '0'], '--max-session-turns 0 leaves no turn for the prompt.'],
    [['--auth-type', 'bogus'], 'Invalid --auth-type "bogus".'],
  ];
  for (const [refused, message] of cases) {
    for (const format of ['json', 'stream-json']) {
      const result = await runCli(['-o', format, ...refused, 'hello'], { sandbox: box });
      expect(result.exitCode).toBe(42);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      const parsed = JSON.parse(result.stdout) as unknown;
      const resultObject = (Array.isArray(parsed) ? parsed.at(-1) : parsed) as Record<string, unknown>;
      expect(resultObject).toMatchObject({ type: 'result', is_error: true, num_turns: 0 });
      expect(resultObject['error']).toMatchObject({ exit_code: 42 });
      expect(JSON.stringify(resultObject['error'])).toContain(JSON.stringify(message).slice(1, -1));
    }
  }
  // `qwen auth` prints no run result; an unknown -o format has none to print in.
  for (const args of [
    ['-o', 'json', 'auth', '--bogus'],
    ['-o', 'yaml', '--bogus', 'hello'],
  ]) {
    const result = await runCli(args, { sandbox: box });
    expect(result.exitCode).toBe(42);
    expect(result.stdout).toBe('');
  }
});

test('a reader that stops early (| head) ends the run quietly', async () => {
  const box = freshSandbox();
  fake.setResponses({ stream: { text: Array.from({ length: 5000 }, (_, index) => `word ${index}\n`) } });
  const command = [...commandFor('binary'), ...keyFlags(), 'x']
    .map((part) => `'${part.replaceAll("'", "'\\''")}'`)
    .join(' ');
  const shell = Bun.spawn(
    ['sh', '-c', `${command} 2>"$ERRORS" | head -c 12; echo " status=\${PIPESTATUS:-$?}"`],
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: box.home, ERRORS: `${box.home}/stderr.txt` },
      stdout: 'pipe',
    },
  );
  const output = await new Response(shell.stdout).text();
  await shell.exited;
  expect(output).toStartWith('word 0\nword ');
  expect(readFileSync(`${box.home}/stderr.txt`, 'utf8')).toBe('');
});

test.skipIf(!existsSync('/dev/full'))(
  'a stdout that cannot take the answer (a full disk): one line, exit 1',
  async () => {
    const box = freshSandbox();
    // The same words under Deno, whose own message is "No space left on device (os error 28)".
    for (const flavour of headlessFlavours) {
      const child = Bun.spawn([...commandFor(flavour), ...keyFlags(), 'x'], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: box.home },
        stdout: Bun.file('/dev/full'),
        stderr: 'pipe',
      });
      const [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
      expect(exitCode).toBe(1);
      expect(stderr).toBe('qwen: Could not write to stdout (ENOSPC: no space left on device).\n');
    }
    // --help too: cac's text goes through the same writes, not console.info (which loses it quietly).
    const help = Bun.spawn([...commandFor('source'), '--help'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: box.home },
      stdout: Bun.file('/dev/full'),
      stderr: 'pipe',
    });
    expect(await help.exited).toBe(1);
  },
);

describe('replies that are not an answer fail instead of passing as an empty one', () => {
  const cases: [string, Parameters<FakeOpenAi['setResponses']>[0], string][] = [
    [
      'an empty 200 that is not an event stream',
      { headers: { 'content-type': 'text/plain' }, body: '' },
      'without an event stream',
    ],
    [
      'a JSON reply that is no completion',
      { body: { hello: 'world' } },
      'one JSON reply that holds no answer',
    ],
    [
      'an HTML login page',
      { headers: { 'content-type': 'text/html' }, body: '<html><title>Sign in</title></html>' },
      'answered with an HTML page (labelled text/html) instead of an event stream: "Sign in"',
    ],
    [
      'an HTML page labelled as an event stream (a proxy that blocks)',
      {
        headers: { 'content-type': 'text/event-stream' },
        body: '<html><body>Access denied by corporate policy</body></html>',
      },
      'answered with an HTML page (labelled text/event-stream) instead of an event stream: "Access denied by corporate policy"',
    ],
    [
      'a chat.completion cut short',
      {
        headers: { 'content-type': 'application/json' },
        body: '{"object":"chat.completion","choices":[{"ind',
      },
      'answered with a JSON reply that is cut short (not valid JSON), instead of a stream.',
    ],
  ];
  for (const [name, step, said] of cases) {
    test(name, async () => {
      const box = freshSandbox();
      fake.setResponses(step);
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(said);
    });
  }

  test('a whole chat.completion from a server that ignored stream: true is the answer, usage and all', async () => {
    const box = freshSandbox();
    const completion = {
      id: 'c1',
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Whole answer.', reasoning_content: 'thinking' },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    };
    fake.setResponses({ body: completion }, { body: completion });
    const text = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(text).toMatchObject({ exitCode: 0, stdout: 'Whole answer.\n', stderr: '' });
    const json = await runCli([...keyFlags(), '-o', 'json', 'x'], { sandbox: box });
    expect((JSON.parse(json.stdout) as Record<string, unknown>[]).at(-1)).toMatchObject({
      is_error: false,
      result: 'Whole answer.',
      usage: { input_tokens: 3, output_tokens: 2 },
    });
  });

  test('an event stream labelled application/json is read as the stream it is, as it comes', async () => {
    const box = freshSandbox();
    // Slow slices, longer in all than the idle timeout: each one counts as activity.
    fake.setResponses({
      headers: { 'content-type': 'application/json' },
      stream: { text: ['still ', 'streamed'] },
      slices: { size: 40, delayMs: 60 },
    });
    const result = await runCli([...keyFlags(), 'x'], {
      sandbox: box,
      env: { QWEN_STREAM_IDLE_TIMEOUT_MS: '400' },
    });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'still streamed\n', stderr: '' });
  });

  test('a whole answer or a page under an event stream label: read, or refused at once, never retried', async () => {
    const box = freshSandbox();
    const completion = {
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Whole' }, finish_reason: 'stop' }],
    };
    const labelled = (body: string) => ({ headers: { 'content-type': 'text/event-stream' }, body });
    fake.setResponses(labelled(JSON.stringify(completion)));
    expect(await runCli([...keyFlags(), 'x'], { sandbox: box })).toMatchObject({
      exitCode: 0,
      stdout: 'Whole\n',
      stderr: '',
    });
    // A long one too (over 64 KiB, in many reads): read whole, not retried as a stream that ended early.
    const long = 'long answer '.repeat(10_000);
    const longCompletion = {
      ...completion,
      choices: [{ index: 0, message: { role: 'assistant', content: long }, finish_reason: 'stop' }],
    };
    fake.setResponses(labelled(JSON.stringify(longCompletion)));
    expect(await runCli([...keyFlags(), 'x'], { sandbox: box })).toMatchObject({
      exitCode: 0,
      stdout: `${long}\n`,
      stderr: '',
    });
    expect(fake.requests).toHaveLength(1);
    fake.setResponses(labelled('<html><title>Sign in</title></html>'));
    const page = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(page.exitCode).toBe(1);
    expect(page.stderr).toContain(
      'with an HTML page (labelled text/event-stream) instead of an event stream: "Sign in"',
    );
    expect(page.stderr).not.toContain('Retrying');
    expect(fake.requests).toHaveLength(1);
  });

  test('a bare JSON error where the stream should be is read as the same error in a stream would be', async () => {
    const box = freshSandbox();
    const bare = (error: object) => ({
      headers: { 'content-type': 'text/event-stream' },
      body: JSON.stringify({ error }),
    });
    // A rate limit is retried, as inside a stream.
    fake.setResponses(bare({ message: 'slow down', code: 'rate_limit_exceeded' }), {
      stream: { text: ['after the wait'] },
    });
    const limited = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(limited).toMatchObject({ exitCode: 0, stdout: 'after the wait\n' });
    expect(limited.stderr).toContain('(attempt 1): 429 slow down');
    // A refused key is exit 41, also when the reply is labelled JSON.
    fake.setResponses({
      body: { error: { message: 'Incorrect API key provided', code: 'invalid_api_key' } },
    });
    const refused = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(refused.exitCode).toBe(41);
  });

  test('an empty event stream, or one closed after the role chunk, is retried like a lost connection', async () => {
    const box = freshSandbox();
    const roleOnly =
      'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n';
    for (const early of [{ headers: { 'content-type': 'text/event-stream' }, body: '' }, { sse: roleOnly }]) {
      fake.setResponses(early, { stream: { text: ['whole'] } });
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'whole\n' });
      expect(result.stderr).toContain(
        '(attempt 1): the event stream ended before any answer (no finish_reason, no [DONE])',
      );
      expect(fake.requests).toHaveLength(2);
    }
    // [DONE] after the role chunk alone, or alone: no answer and no finish_reason, so no answer at all.
    for (const done of [`${roleOnly}data: [DONE]\n\n`, 'data: [DONE]\n\n']) {
      fake.setResponses({ sse: done }, { stream: { text: ['whole'] } });
      const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'whole\n' });
      expect(result.stderr).toContain(
        '(attempt 1): the event stream ended before any answer ([DONE] before any answer or finish_reason)',
      );
      expect(fake.requests).toHaveLength(2);
    }
  });

  test('an empty event stream once the retries are spent: one line that says so, exit 1', async () => {
    const box = freshSandbox();
    box.userSettings({ model: { generationConfig: { maxRetries: 0 } } });
    fake.setResponses({ headers: { 'content-type': 'text/event-stream' }, body: '' });
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result).toMatchObject({ exitCode: 1, stdout: '' });
    expect(result.stderr).toBe(
      `qwen: The event stream from 127.0.0.1:${fake.port} ended before any answer (no finish_reason, no [DONE]). The server closed the stream too soon; try again later.\n`,
    );
    expect(fake.requests).toHaveLength(1);
  });

  test("a bare JSON error labelled as an event stream: the server's message at once, not retried", async () => {
    const box = freshSandbox();
    fake.setResponses({
      headers: { 'content-type': 'text/event-stream' },
      body: '{"error":{"message":"Invalid model name passed in model=m","code":400}}',
    });
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result).toMatchObject({ exitCode: 1, stdout: '' });
    expect(result.stderr).toContain('reported 400 before any answer: Invalid model name passed');
    expect(fake.requests).toHaveLength(1);
  });

  test('a key refused inside the stream (an error event with code 401) is exit 41, as over HTTP', async () => {
    const box = freshSandbox();
    fake.setResponses({
      sse: 'data: {"error":{"message":"Incorrect API key","type":"invalid_request_error","code":401}}\n\n',
    });
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result.exitCode).toBe(41);
    expect(result.stderr).toContain('reported 401 before any answer: Incorrect API key');
    // The advice an HTTP 401 gets.
    expect(result.stderr).toContain('Check the API key (`qwen auth status`');
  });

  test("vLLM's flat error object in a 200 JSON reply: the server's message", async () => {
    const box = freshSandbox();
    fake.setResponses({ body: { object: 'error', message: 'The model `m` does not exist.', code: 404 } });
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('reported 404 before any answer: The model `m` does not exist.');
  });

  test("a 200 JSON reply with an error object: the server's message, secrets masked", async () => {
    const box = freshSandbox();
    fake.setResponses({ body: { error: { message: `Model is overloaded, try later (key sk-flag-0001)` } } });
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('reported an error before any answer: Model is overloaded');
    expect(result.stderr).not.toContain('sk-flag-0001');
  });

  test("escape sequences in a server's error message never reach stderr (retry notices included)", async () => {
    const box = freshSandbox();
    const hostile = 'Overloaded\u001b]0;pwned\u0007\u001b[2J now';
    fake.setResponses(
      { status: 503, headers: { 'retry-after-ms': '1' }, body: { error: { message: hostile } } },
      { status: 400, body: { error: { message: hostile } } },
    );
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('(attempt 1): 503 Overloaded now');
    expect(result.stderr).toContain('answered 400: Overloaded now');
    expect(result.stderr).not.toContain('\u001b');
    expect(result.stderr).not.toContain('\u0007');
    // --debug's stack repeats the message in its first line: filtered too.
    fake.setResponses({ status: 400, body: { error: { message: hostile } } });
    const debug = await runCli([...keyFlags(), '--debug', 'x'], { sandbox: box });
    expect(debug.stderr).toContain('    at ');
    expect(debug.stderr).not.toContain('\u001b');
    expect(debug.stderr).not.toContain('\u0007');
  });

  test('an emoji whose surrogate halves come in two deltas prints whole in text mode, as in JSON', async () => {
    const box = freshSandbox();
    // JSON.stringify would escape a lone surrogate the same way; written out to show what the server sends.
    const chunk = (content: string) => `data: {"choices":[{"index":0,"delta":{"content":"${content}"}}]}\n\n`;
    const sse = `${chunk('A\\ud83d')}${chunk('\\ude00B')}data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`;
    fake.setResponses({ sse });
    expect(await runCli([...keyFlags(), 'x'], { sandbox: box })).toMatchObject({
      exitCode: 0,
      stdout: 'A\u{1F600}B\n',
    });
  });

  test('a refusal instead of an answer: exit 1 with its words, in text and JSON alike', async () => {
    const box = freshSandbox();
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const sse = `${chunk({ role: 'assistant', content: null, refusal: '' })}${chunk({ refusal: 'I cannot help with that.' })}${chunk({}, 'stop')}data: [DONE]\n\n`;
    fake.setResponses({ sse });
    const text = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(text).toMatchObject({ exitCode: 1, stdout: '' });
    expect(text.stderr).toContain('the model declined to answer (refusal): I cannot help with that.');
    fake.setResponses({ sse });
    const json = await runCli([...keyFlags(), '-o', 'json', 'x'], { sandbox: box });
    const result = (
      JSON.parse(json.stdout) as { type: string; is_error?: boolean; error?: { message: string } }[]
    ).at(-1);
    expect(json.exitCode).toBe(1);
    expect(result).toMatchObject({ type: 'result', is_error: true });
    expect(result?.error?.message).toContain('I cannot help with that.');
  });

  test("an answer cut by the provider's content filter keeps the text and exits 1, saying so", async () => {
    const box = freshSandbox();
    fake.setResponses({ stream: { text: ['Half an ans', 'wer'], finishReason: 'content_filter' } });
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toStartWith('Half an answer');
    expect(result.stderr).toContain('content filter cut the answer off');
  });

  test('-o json and stream-json: a content filter cut reports the usage chunk sent after it', async () => {
    const box = freshSandbox();
    fake.setResponses({
      stream: {
        text: ['Half'],
        finishReason: 'content_filter',
        usage: { prompt_tokens: 15, completion_tokens: 78 },
      },
    });
    for (const format of ['json', 'stream-json']) {
      const result = await runCli([...keyFlags(), '-o', format, 'x'], { sandbox: box });
      expect(result.exitCode).toBe(1);
      const last = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as unknown;
      const resultObject = Array.isArray(last) ? last.at(-1) : last;
      expect(resultObject).toMatchObject({
        type: 'result',
        is_error: true,
        result: 'Half',
        usage: { input_tokens: 15, output_tokens: 78, total_tokens: 93 },
      });
    }
  });

  test('a stream cut before its end (no finish_reason, no [DONE]) keeps the text and exits 1', async () => {
    const box = freshSandbox();
    fake.setResponses({
      sse: 'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"cut he"}}]}\n\n',
    });
    const result = await runCli([...keyFlags(), 'x'], { sandbox: box });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toStartWith('cut he');
    expect(result.stderr).toContain('ended before the answer was complete');
  });

  test('a base URL that is not a URL: exit 42 from a flag, 52 from settings', async () => {
    const box = freshSandbox();
    const fromFlag = await runCli(
      ['--openai-api-key', 'k', '-m', 'm', '--openai-base-url', 'not a url', 'x'],
      { sandbox: box },
    );
    expect(fromFlag.exitCode).toBe(42);
    expect(fromFlag.stderr).toContain('not a valid URL');
    box.userSettings({
      modelProviders: { openai: [{ id: 'm', baseUrl: 'htp:/broken url', envKey: 'K' }] },
      security: { auth: { selectedType: 'openai' } },
      model: { name: 'm' },
    });
    const fromSettings = await runCli(['x'], { sandbox: box, env: { K: 'k' } });
    expect(fromSettings.exitCode).toBe(52);
    // Said before the run starts, naming the value as set: JSON gets the result alone, no turn.
    const json = await runCli(['-o', 'json', 'x'], {
      sandbox: box,
      env: { K: 'k', OPENAI_BASE_URL: 'notaurl' },
    });
    expect(json.exitCode).toBe(52);
    const items = JSON.parse(json.stdout) as {
      type: string;
      num_turns?: number;
      error?: { message: string };
    }[];
    expect(items.map((item) => item.type)).toEqual(['result']);
    expect(items[0]).toMatchObject({
      num_turns: 0,
      error: { message: 'The base URL is not a valid URL: htp:/broken url' },
    });
  });
});

test('qwen auth qwen-oauth against an unreachable server names it and the setting', async () => {
  const box = freshSandbox();
  const result = await runCli(['auth', 'qwen-oauth'], {
    sandbox: box,
    env: { QWEN_OAUTH_BASE_URL: 'http://127.0.0.1:1', NO_BROWSER: '1' },
  });
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toContain(
    'Could not reach 127.0.0.1:1 (from QWEN_OAUTH_BASE_URL): connection refused',
  );
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
});

test('an unreachable base URL names the variable that set it, and where', async () => {
  const box = freshSandbox();
  // No retries: the message is the point here, not the backoff (tested above).
  box.userSettings({ model: { generationConfig: { maxRetries: 0 } } });
  const env = {
    OPENAI_API_KEY: 'sk-unreachable',
    OPENAI_BASE_URL: 'http://127.0.0.1:1/v1',
    OPENAI_MODEL: 'm',
  };
  const result = await runCli(['x'], { sandbox: box, env });
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toContain('(from OPENAI_BASE_URL in the environment)');
  expect(result.stderr).toContain('connection refused');
});

// A CI job run as another user with HOME=/root (mode 700): the settings files cannot even be looked up, and
// the run goes on with the environment, as Qwen Code's existsSync lets it. Needs root to switch users.
describe.skipIf(!canRunAsAnotherUser)('a home directory closed to the user running qwen', () => {
  test("someone else's is read as one without settings files: the run answers", async () => {
    const fake = startFakeOpenAi({ stream: { text: ['From the environment.'] } });
    const closed = mkdtempSync(path.join(os.tmpdir(), 'qwen-closed-home-'));
    chmodSync(closed, 0o700);
    const open = mkdtempSync(path.join(os.tmpdir(), 'qwen-open-cwd-'));
    chmodSync(open, 0o777);
    try {
      const env = {
        HOME: closed,
        OPENAI_API_KEY: 'sk-test-closed-1234',
        OPENAI_BASE_URL: fake.url,
        OPENAI_MODEL: 'm',
      };
      expect(await runAsAnotherUser(['hi'], { cwd: open, env })).toEqual({
        exitCode: 0,
        stdout: 'From the environment.\n',
        stderr: '',
      });
    } finally {
      await fake.stop();
      rmSync(closed, { recursive: true, force: true });
      rmSync(open, { recursive: true, force: true });
    }
  });

  // The user's own, closed (chmod 000 ~/.qwen, or a home at 000): their settings are there, hidden. Read
  // as absent, the run said "No authentication configured" (41) and `auth status` "none".
  const ownClosedCases = [
    { closing: 'their ~/.qwen', closed: (box: Sandbox) => box.qwenHome },
    { closing: 'their home', closed: (box: Sandbox) => box.home },
    { closing: "the project's .qwen", closed: (box: Sandbox) => path.join(box.cwd, '.qwen') },
  ];
  for (const { closing, closed } of ownClosedCases) {
    test(`${closing} at mode 000: exit 52 naming the settings file, for a run and for auth status`, async () => {
      const box = makeSandbox();
      try {
        const userFile = box.userSettings({ security: { auth: { selectedType: 'openai' } } });
        const workspaceFile = box.write('project/.qwen/settings.json', {});
        giveToAnotherUser(path.dirname(box.home));
        const directory = closed(box);
        chmodSync(directory, 0o000);
        const file = directory === path.join(box.cwd, '.qwen') ? workspaceFile : userFile;
        const env = { HOME: box.home, OPENAI_API_KEY: 'sk-test-own-1234', OPENAI_MODEL: 'm' };
        for (const args of [['hi'], ['auth', 'status']]) {
          const result = await runAsAnotherUser(args, { cwd: box.cwd, env });
          expect(result).toEqual({
            exitCode: 52,
            stdout: '',
            stderr: `qwen: ${file}: cannot read the file (permission denied). Let your user into ${directory} (chmod u+rwx ${directory}, or chown it to yourself), then try again.\n`,
          });
        }
      } finally {
        box.cleanup();
      }
    });
  }

  test('their oauth_creds.json at mode 000: exit 52 naming it and the fix, not a failed login (41)', async () => {
    const box = makeSandbox();
    try {
      box.userSettings({ security: { auth: { selectedType: 'qwen-oauth' } } });
      const credentials = box.write('home/.qwen/oauth_creds.json', {
        access_token: 'access-closed',
        refresh_token: 'refresh-closed',
        token_type: 'Bearer',
        expiry_date: Date.now() + 3_600_000,
      });
      giveToAnotherUser(path.dirname(box.home));
      chmodSync(credentials, 0o000);
      const result = await runAsAnotherUser(['hi'], { cwd: box.cwd, env: { HOME: box.home } });
      expect(result).toEqual({
        exitCode: 52,
        stdout: '',
        stderr: `qwen: ${credentials}: cannot read the cached Qwen OAuth credentials (permission denied). Let your user read it (chmod u+r ${credentials}, or chown it to yourself), then try again.\n`,
      });
    } finally {
      box.cleanup();
    }
  });
});
