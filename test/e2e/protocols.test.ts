// The CLI against fake Anthropic, Gemini API and Vertex AI servers over real HTTP, as a user would run it:
// `echo hi | qwen --auth-type <protocol> -m <id>` with a seed-style modelProviders block whose baseUrl
// points at the fake, the key in the environment, a temporary HOME, and streams cut in random slices.

import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { anthropicStream, type FakeAnthropic, startFakeAnthropic } from '../fakes/anthropic-server.ts';
import { type FakeGemini, geminiStream, startFakeGemini } from '../fakes/gemini-server.ts';
import {
  type FakeGoogleToken,
  privateKeyPem,
  rsaKeyPair,
  startFakeGoogleToken,
} from '../fakes/google-token-server.ts';

const repositoryRoot = resolve(import.meta.dir, '..', '..');
const anthropicFixtures = join(repositoryRoot, 'test', 'fixtures', 'anthropic');
const geminiFixtures = join(repositoryRoot, 'test', 'fixtures', 'gemini');

function json(directory: string, name: string): unknown {
  return JSON.parse(readFileSync(join(directory, name), 'utf8'));
}

const anthropicKey = 'sk-ant-api03-e2e-key-0001';
const geminiKey = 'AIzaSyE2eGeminiKey000001';
const vertexKey = 'AIzaSyE2eVertexKey000001';

let root: string;
let anthropic: FakeAnthropic;
let gemini: FakeGemini;

interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The samplingParams of the `*-sampled` entries, with OpenAI's names as users write them. */
const sampling = {
  temperature: 0.2,
  top_p: 0.9,
  top_k: 40,
  max_tokens: 1234,
  presence_penalty: 0.5,
  frequency_penalty: -0.25,
  stop: ['END'],
};

/** A fresh HOME with the seed's modelProviders blocks pointed at the fakes. */
function sandbox(): { home: string; cwd: string } {
  const directory = mkdtempSync(join(root, 'run-'));
  const home = join(directory, 'home');
  const cwd = join(directory, 'project');
  mkdirSync(join(home, '.qwen'), { recursive: true });
  mkdirSync(cwd, { recursive: true });
  const settings = {
    modelProviders: {
      anthropic: [
        {
          id: 'claude-sonnet-4-20250514',
          name: 'Claude Sonnet 4',
          envKey: 'ANTHROPIC_API_KEY',
          baseUrl: anthropic.url,
        },
      ],
      gemini: [
        { id: 'gemini-2.5-pro', name: 'Gemini 2.5 Pro', envKey: 'GEMINI_API_KEY', baseUrl: gemini.url },
        {
          id: 'gemini-no-retries',
          envKey: 'GEMINI_API_KEY',
          baseUrl: gemini.url,
          generationConfig: { maxRetries: 0 },
        },
        {
          id: 'gemini-sampled',
          envKey: 'GEMINI_API_KEY',
          baseUrl: gemini.url,
          generationConfig: { samplingParams: sampling },
        },
        { id: 'tunedModels/my-tuned-7', envKey: 'GEMINI_API_KEY', baseUrl: gemini.url },
      ],
      'vertex-ai': [
        { id: 'gemini-2.5-flash', name: 'Gemini 2.5 Flash on Vertex', baseUrl: gemini.url },
        { id: 'vertex-sampled', baseUrl: gemini.url, generationConfig: { samplingParams: sampling } },
        { id: 'projects/my-project/locations/us-central1/endpoints/4242', baseUrl: gemini.url },
      ],
    },
  };
  writeFileSync(join(home, '.qwen', 'settings.json'), JSON.stringify(settings, null, 2));
  return { home, cwd };
}

async function runCli(args: string[], env: Record<string, string>, stdin = 'hi\n'): Promise<CliResult> {
  const { home, cwd } = sandbox();
  const child = Bun.spawn(
    [process.execPath, '--no-env-file', join(repositoryRoot, 'src', 'main.ts'), ...args],
    {
      cwd,
      // Only what the test gives: nothing leaks in from the developer's shell (keys, proxies, QWEN_HOME).
      env: { HOME: home, PATH: process.env['PATH'] ?? '', NO_COLOR: '1', ...env },
      stdin: new Blob([stdin]),
      stdout: 'pipe',
      stderr: 'pipe',
    },
  );
  const timer = setTimeout(() => child.kill(), 20_000);
  const [exitCode, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  return { exitCode, stdout, stderr };
}

const claude = ['--auth-type', 'anthropic', '-m', 'claude-sonnet-4-20250514'];
const geminiPro = ['--auth-type', 'gemini', '-m', 'gemini-2.5-pro'];
const vertexFlash = ['--auth-type', 'vertex-ai', '-m', 'gemini-2.5-flash'];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'qwen-e2e-protocols-'));
  anthropic = startFakeAnthropic([], { apiKey: anthropicKey });
  gemini = startFakeGemini([], { apiKey: geminiKey });
});

afterEach(() => {
  anthropic.requests.length = 0;
  gemini.requests.length = 0;
});

afterAll(async () => {
  await anthropic.stop();
  await gemini.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('anthropic', () => {
  test('streams an answer; the key goes as a bearer token to a non-Anthropic host', async () => {
    anthropic.setResponses({
      sse: anthropicStream({ thinking: ['Let me', ' think.'], text: ['Hello', ' from', ' Claude ✨'] }),
      slices: { seed: 1, maxSize: 11 },
    });
    const result = await runCli(claude, { ANTHROPIC_API_KEY: anthropicKey });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    // Thinking never reaches stdout in text mode.
    expect(result.stdout).toBe('Hello from Claude ✨\n');
    const [request] = anthropic.requests;
    expect(request?.path).toBe('/v1/messages');
    expect(request?.headers['authorization']).toBe(`Bearer ${anthropicKey}`);
    expect(request?.headers['anthropic-version']).toBe('2023-06-01');
    // A gateway that speaks Anthropic's protocol is told Claude Code's name, as Qwen Code does (compat §7).
    expect(request?.headers['user-agent']).toMatch(/^claude-cli\/[\d.]+ \(external, cli\)$/);
    expect(request?.headers['x-app']).toBe('cli');
    expect(request?.body).toMatchObject({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 32000,
      stream: true,
      messages: [{ role: 'user', content: expect.stringContaining('hi') }],
    });
  });

  test('a full context window or a paused turn: exit 0 with the text, and a note that it may be incomplete', async () => {
    for (const [stopReason, note] of [
      ['model_context_window_exceeded', "filled the model's context window"],
      ['pause_turn', 'the server paused a long turn (stop reason "pause_turn")'],
    ] as const) {
      anthropic.setResponses({ sse: anthropicStream({ text: ['Cut', ' off'], stopReason }) });
      const result = await runCli(claude, { ANTHROPIC_API_KEY: anthropicKey });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'Cut off\n' });
      expect(result.stderr).toContain(note);
    }
  });

  test('an answer ends at message_stop even when the server keeps the connection open', async () => {
    const stream = anthropicStream({ text: ['Whole.'] });
    anthropic.setResponses({
      sse: `${stream}event: ping\ndata: {"type":"ping"}\n\n`,
      hangAfterBytes: stream.length,
    });
    const result = await runCli(claude, {
      ANTHROPIC_API_KEY: anthropicKey,
      QWEN_STREAM_IDLE_TIMEOUT_MS: '10000',
    });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'Whole.\n', stderr: '' });
  });

  test('a stop_reason without message_stop on a connection kept open: a whole answer, exit 0, usage kept', async () => {
    const whole = anthropicStream({ text: ['Whole.'], inputTokens: 1500 });
    const stream = whole.slice(0, whole.indexOf('event: message_stop'));
    anthropic.setResponses({ sse: stream, hangAfterBytes: stream.length });
    const result = await runCli([...claude, '-o', 'json'], {
      ANTHROPIC_API_KEY: anthropicKey,
      QWEN_STREAM_IDLE_TIMEOUT_MS: '15000',
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout).at(-1)).toMatchObject({
      is_error: false,
      result: 'Whole.',
      usage: { input_tokens: 1500, output_tokens: 12 },
    });
  });

  test('a connection reset or an idle timeout mid-answer: exit 1, and the result keeps the usage counted so far', async () => {
    const stream = anthropicStream({ text: ['partial ', 'never sent'], inputTokens: 1500 });
    const cut = stream.indexOf('never sent') - 40;
    for (const step of [{ closeAfterBytes: cut }, { hangAfterBytes: cut }]) {
      anthropic.setResponses({ sse: stream, ...step });
      const result = await runCli([...claude, '-o', 'json'], {
        ANTHROPIC_API_KEY: anthropicKey,
        QWEN_STREAM_IDLE_TIMEOUT_MS: '1000',
      });
      expect(result.exitCode).toBe(1);
      const last = JSON.parse(result.stdout).at(-1);
      expect(last).toMatchObject({ is_error: true, result: 'partial ', usage: { input_tokens: 1500 } });
      expect(last.stats.models['claude-sonnet-4-20250514'].tokens).toMatchObject({ prompt: 1500 });
    }
  });

  test('tool-call fragments and usage in json output', async () => {
    anthropic.setResponses({
      sseFile: join(anthropicFixtures, 'tools.sse'),
      slices: { seed: 2, maxSize: 17 },
    });
    const result = await runCli([...claude, '-o', 'json'], { ANTHROPIC_API_KEY: anthropicKey });
    expect(result.exitCode).toBe(0);
    const messages = JSON.parse(result.stdout) as Record<string, unknown>[];
    // The text, then the tool call: a message each, the last one with the usage.
    const [text, tools] = messages.filter((message) => message['type'] === 'assistant') as {
      message: {
        content: Record<string, unknown>[];
        stop_reason: string | null;
        usage: Record<string, number>;
      };
    }[];
    expect(text?.message.content.map((block) => block.type)).toEqual(['text']);
    expect(tools?.message.content).toEqual([
      {
        type: 'tool_use',
        id: 'toolu_01AbCdEfGh1JkLmNoPqRsTuV',
        name: 'read_file',
        input: { path: 'src/main.ts', limit: 40 },
      },
      { type: 'tool_use', id: 'toolu_01WxYz0123AbCdEfGhIjKlMn', name: 'git_status', input: {} },
    ]);
    expect(tools?.message.stop_reason).toBe('tool_use');
    expect(tools?.message.usage).toMatchObject({ input_tokens: 412, output_tokens: 96 });
  });

  test('server tools (web_search) ran on the server: no "asked to run a tool" note, no tool_use block', async () => {
    anthropic.setResponses({
      sseFile: join(anthropicFixtures, 'server-tools.sse'),
      slices: { seed: 15, maxSize: 19 },
    });
    const text = await runCli(claude, { ANTHROPIC_API_KEY: anthropicKey });
    expect(text.stderr).toBe('');
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toBe('I will look that up. Bun 1.4 came out three weeks ago.\n');

    const json = await runCli([...claude, '-o', 'json'], { ANTHROPIC_API_KEY: anthropicKey });
    expect(json.exitCode).toBe(0);
    const messages = JSON.parse(json.stdout) as Record<string, unknown>[];
    const assistant = messages.find((message) => message['type'] === 'assistant') as {
      message: { content: unknown[] };
    };
    expect(assistant.message.content).toEqual([
      { type: 'text', text: 'I will look that up. Bun 1.4 came out three weeks ago.' },
    ]);
  });

  test('an overloaded_error after the 200: exit 1, the text so far kept', async () => {
    anthropic.setResponses({
      sseFile: join(anthropicFixtures, 'error-midstream.sse'),
      slices: { seed: 3, maxSize: 13 },
    });
    const result = await runCli(claude, { ANTHROPIC_API_KEY: anthropicKey });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('The first part of the answer made it through');
    expect(result.stderr).toContain(
      `The answer stopped: ${new URL(anthropic.url).host} reported 529 overloaded_error: Overloaded`,
    );
    // Not replayed: a stream that started is never retried.
    expect(anthropic.requests).toHaveLength(1);
  });

  test('-o stream-json: an error after message_start reports the usage message_start gave', async () => {
    anthropic.setResponses({ sseFile: join(anthropicFixtures, 'error-midstream.sse') });
    const result = await runCli([...claude, '-o', 'stream-json'], { ANTHROPIC_API_KEY: anthropicKey });
    expect(result.exitCode).toBe(1);
    const last = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
    expect(last).toMatchObject({
      type: 'result',
      is_error: true,
      usage: { input_tokens: 18, output_tokens: 1 },
    });
  });

  test('an overloaded_error before any text is retried like a 529, then the answer streams', async () => {
    const overloaded =
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",' +
      '"role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,' +
      '"usage":{"input_tokens":5,"output_tokens":1}}}\n\n' +
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    anthropic.setResponses(
      { sse: overloaded },
      { sse: anthropicStream({ text: ['after', ' a retry'] }), slices: { seed: 5, maxSize: 9 } },
    );
    const result = await runCli(claude, { ANTHROPIC_API_KEY: anthropicKey });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('after a retry\n');
    expect(result.stderr).toContain('(attempt 1): 529 Overloaded');
    expect(anthropic.requests).toHaveLength(2);
  });

  test('a wrong key: 401 authentication_error, exit 41', async () => {
    const result = await runCli(claude, { ANTHROPIC_API_KEY: 'sk-ant-wrong' });
    expect(result.exitCode).toBe(41);
    expect(result.stderr).toContain('invalid x-api-key');
    expect(result.stderr).not.toContain('sk-ant-wrong');
    expect(anthropic.requests).toHaveLength(1);
  });

  test('403 permission_error: exit 41', async () => {
    anthropic.setResponses({ status: 403, body: json(anthropicFixtures, 'error-403.json') });
    const result = await runCli(claude, { ANTHROPIC_API_KEY: anthropicKey });
    expect(result.exitCode).toBe(41);
    expect(result.stderr).toContain('does not have permission');
  });

  test('529 and 429 are retried, then the answer streams', async () => {
    anthropic.setResponses(
      { status: 529, body: json(anthropicFixtures, 'error-529.json'), headers: { 'retry-after-ms': '10' } },
      { status: 429, body: json(anthropicFixtures, 'error-429.json'), headers: { 'retry-after': '0' } },
      { sse: anthropicStream({ text: ['after', ' retries'] }), slices: { seed: 4, maxSize: 7 } },
    );
    const result = await runCli(claude, { ANTHROPIC_API_KEY: anthropicKey });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('after retries\n');
    expect(anthropic.requests).toHaveLength(3);
  });

  test('400 invalid_request_error is not retried: exit 1 with the message', async () => {
    anthropic.setResponses({ status: 400, body: json(anthropicFixtures, 'error-400.json') });
    const result = await runCli(claude, { ANTHROPIC_API_KEY: anthropicKey });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('max_tokens: 64000 > 32000');
    expect(anthropic.requests).toHaveLength(1);
  });
});

describe('gemini', () => {
  test('a connection reset mid-answer: exit 1, and the result keeps the usageMetadata counted so far', async () => {
    const stream = geminiStream({ text: ['partial ', 'never sent'], promptTokens: 1500 });
    gemini.setResponses({ sse: stream, closeAfterBytes: stream.indexOf('never sent') - 40 });
    const result = await runCli([...geminiPro, '-o', 'json'], { GEMINI_API_KEY: geminiKey });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('The answer stopped: the connection to 127.0.0.1');
    expect(JSON.parse(result.stdout).at(-1)).toMatchObject({
      is_error: true,
      result: 'partial ',
      usage: { input_tokens: 1500, output_tokens: 3 },
    });
  });

  test('a JSON array (alt=sse dropped on the way) streams each element as it completes; cut short, it keeps them', async () => {
    const element = (text: string, finish = '') =>
      `{"candidates":[{"content":{"parts":[{"text":${JSON.stringify(text)}}]}${finish}}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":2,"totalTokenCount":9}}`;
    const array = `[${element('Hel')},\r\n${element('lo [\\"x\\"] {')},\r\n${element('!', ',"finishReason":"STOP"')}]`;
    const json = { 'content-type': 'application/json; charset=UTF-8' };
    const env = { GEMINI_API_KEY: geminiKey, QWEN_STREAM_IDLE_TIMEOUT_MS: '1000' };
    gemini.setResponses({ sse: array, headers: json, slices: { seed: 9, maxSize: 13 } });
    expect(await runCli(geminiPro, env)).toMatchObject({ exitCode: 0, stdout: 'Hello [\\"x\\"] {!\n' });

    // The server goes silent inside the third element: the first two were printed as they came.
    const third = array.lastIndexOf('{"candidates"') + 20;
    gemini.setResponses({ sse: array, headers: json, hangAfterBytes: third });
    const silent = await runCli(geminiPro, env);
    expect(silent.exitCode).toBe(1);
    expect(silent.stdout).toBe('Hello [\\"x\\"] {\n');
    expect(silent.stderr).toContain('No data from 127.0.0.1');

    // The connection closes before the `]`: what came stays, and the run fails as a stream cut short does.
    gemini.setResponses({ sse: array.slice(0, third), headers: json });
    const cut = await runCli(geminiPro, env);
    expect(cut.exitCode).toBe(1);
    expect(cut.stdout).toBe('Hello [\\"x\\"] {\n');
    expect(cut.stderr).toContain('ended before the answer was complete (no finishReason)');
  });

  test('an answer ends at the chunk with the finishReason even when the server keeps the connection open', async () => {
    const stream =
      'data: {"candidates":[{"content":{"parts":[{"text":"complete answer"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":2,"totalTokenCount":9}}\r\n\r\n';
    gemini.setResponses({ sse: stream, hangAfterBytes: stream.length });
    for (const model of [geminiPro, vertexFlash]) {
      const env = {
        GEMINI_API_KEY: geminiKey,
        GOOGLE_API_KEY: geminiKey,
        QWEN_STREAM_IDLE_TIMEOUT_MS: '15000',
      };
      const result = await runCli([...model, '-o', 'json'], env);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout).at(-1)).toMatchObject({
        is_error: false,
        result: 'complete answer',
        usage: { input_tokens: 7, output_tokens: 2, total_tokens: 9 },
      });
    }
  });

  test('streams an answer; the key only in x-goog-api-key', async () => {
    gemini.setResponses({ sseFile: join(geminiFixtures, 'text.sse'), slices: { seed: 5, maxSize: 19 } });
    const result = await runCli(geminiPro, { GEMINI_API_KEY: geminiKey });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('Hallo! Die Antwort lautet: 42 — größer geht’s nicht.\n');
    const [request] = gemini.requests;
    expect(request?.path).toBe('/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse');
    expect(request?.headers['x-goog-api-key']).toBe(geminiKey);
    expect(request?.body).toMatchObject({
      contents: [{ role: 'user', parts: [{ text: expect.stringContaining('hi') }] }],
    });
  });

  test('thoughts stay off stdout; in json output thinking, text and function calls, and the usage', async () => {
    gemini.setResponses({
      sse: geminiStream({
        thoughts: ['Thinking it over.'],
        text: ['Reading it now.'],
        functionCalls: [{ name: 'read_file', args: { path: 'README.md' } }],
      }),
      slices: { seed: 6, maxSize: 23 },
    });
    expect((await runCli(geminiPro, { GEMINI_API_KEY: geminiKey })).stdout).toBe('Reading it now.\n');
    const result = await runCli([...geminiPro, '-o', 'json'], { GEMINI_API_KEY: geminiKey });
    expect(result.exitCode).toBe(0);
    const messages = JSON.parse(result.stdout) as Record<string, unknown>[];
    const assistants = messages.filter((message) => message['type'] === 'assistant') as {
      message: { content: unknown[]; stop_reason: string | null; usage: Record<string, number> };
    }[];
    expect(assistants.map((assistant) => assistant.message.content)).toEqual([
      [{ type: 'thinking', thinking: 'Thinking it over.' }],
      [{ type: 'text', text: 'Reading it now.' }],
      [{ type: 'tool_use', id: 'call_1', name: 'read_file', input: { path: 'README.md' } }],
    ]);
    expect(assistants.map((assistant) => assistant.message.stop_reason)).toEqual([null, null, 'tool_use']);
    // As Qwen Code reports Gemini's usage: output without the thinking, which stats count apart.
    expect(assistants.at(-1)?.message.usage).toMatchObject({
      input_tokens: 9,
      output_tokens: 13,
      total_tokens: 27,
    });
    const summary = messages.find((message) => message['type'] === 'result') as {
      stats: { models: Record<string, { tokens: Record<string, number> }> };
    };
    expect(summary.stats.models['gemini-2.5-pro']?.tokens).toMatchObject({ candidates: 13, thoughts: 5 });
  });

  test('an error event or a MALFORMED_FUNCTION_CALL midway: exit 1, the text so far kept', async () => {
    const cases: [fixture: string, text: string, reason: string][] = [
      ['error-midstream.sse', 'Here is the beginning of a long answer', 'overloaded'],
      ['malformed-function-call.sse', 'Let me compute that with the tool.', 'malformed function call'],
    ];
    for (const [fixture, text, reason] of cases) {
      gemini.setResponses({ sseFile: join(geminiFixtures, fixture), slices: { seed: 7, maxSize: 13 } });
      const result = await runCli(geminiPro, { GEMINI_API_KEY: geminiKey });
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toContain(text);
      expect(result.stderr).toContain('The answer stopped');
      expect(result.stderr).toContain(reason);
    }
  });

  test('a 503 error event before any text is retried, up to maxRetries', async () => {
    const unavailable =
      'data: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}\r\n\r\n';
    gemini.setResponses({ sse: unavailable }, { sse: geminiStream({ text: ['second', ' try'] }) });
    const retried = await runCli(geminiPro, { GEMINI_API_KEY: geminiKey });
    expect(retried.exitCode).toBe(0);
    expect(retried.stdout).toBe('second try\n');
    expect(gemini.requests).toHaveLength(2);

    gemini.requests.length = 0;
    gemini.setResponses({ sse: unavailable });
    const exhausted = await runCli(['--auth-type', 'gemini', '-m', 'gemini-no-retries'], {
      GEMINI_API_KEY: geminiKey,
    });
    expect(exhausted.exitCode).toBe(1);
    // No answer had started: the server's error and its status, not "the answer stopped".
    expect(exhausted.stderr).toContain(
      `${new URL(gemini.url).host} reported 503 UNAVAILABLE before any answer: The model is overloaded.`,
    );
    expect(gemini.requests).toHaveLength(1);
  });

  test('a bare error object after the text (no `data:`): exit 1 with its status and message, the text kept', async () => {
    const hello = geminiStream({ text: ['Hello'] }).split('\r\n\r\n')[0];
    gemini.setResponses({
      sse: `${hello}\r\n\r\n{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}`,
      slices: { seed: 14, maxSize: 9 },
    });
    const result = await runCli(geminiPro, { GEMINI_API_KEY: geminiKey });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('Hello\n');
    expect(result.stderr).toContain(
      `The answer stopped: ${new URL(gemini.url).host} reported 500 INTERNAL: Internal error encountered.`,
    );
    expect(result.stderr).not.toContain('no finishReason');
    // Text was shown: a retry would show it twice.
    expect(gemini.requests).toHaveLength(1);
  });

  test('a 429 error event waits for its RetryInfo.retryDelay; one too long to wait for is not retried', async () => {
    const exhausted = (retryDelay: string): string =>
      geminiStream({
        error: {
          code: 429,
          message: 'Resource has been exhausted (e.g. check quota).',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }],
        },
      });
    gemini.setResponses({ sse: exhausted('0.2s') }, { sse: geminiStream({ text: ['waited'] }) });
    const retried = await runCli(geminiPro, { GEMINI_API_KEY: geminiKey });
    expect(retried.exitCode).toBe(0);
    expect(retried.stdout).toBe('waited\n');
    // The backoff alone would say 0.4 to 0.5 s.
    expect(retried.stderr).toContain('Retrying in 0.2 s (attempt 1): 429 Resource has been exhausted');
    expect(gemini.requests).toHaveLength(2);

    gemini.requests.length = 0;
    gemini.setResponses({ sse: exhausted('3600s') });
    const refused = await runCli(geminiPro, { GEMINI_API_KEY: geminiKey });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('reported 429 RESOURCE_EXHAUSTED before any answer');
    expect(refused.stderr).toContain(
      'The server asks to wait 60 min before another try, longer than qwen waits (60 s); try again then.',
    );
    expect(gemini.requests).toHaveLength(1);
  });

  test('a blocked prompt is an error that names the reason', async () => {
    gemini.setResponses({ sseFile: join(geminiFixtures, 'prompt-blocked.sse') });
    const result = await runCli(geminiPro, { GEMINI_API_KEY: geminiKey });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      'reported an error before any answer: The prompt was blocked by Gemini (PROHIBITED_CONTENT).',
    );
  });

  test('-o json: a blocked prompt and an error midway report the usageMetadata sent', async () => {
    const cases: [string, Record<string, number>][] = [
      ['prompt-blocked.sse', { input_tokens: 12, output_tokens: 0, total_tokens: 12 }],
      ['error-midstream.sse', { input_tokens: 9, output_tokens: 8, total_tokens: 17 }],
    ];
    for (const [fixture, usage] of cases) {
      gemini.setResponses({ sseFile: join(geminiFixtures, fixture) });
      const result = await runCli([...geminiPro, '-o', 'json'], { GEMINI_API_KEY: geminiKey });
      expect(result.exitCode).toBe(1);
      const messages = JSON.parse(result.stdout) as Record<string, unknown>[];
      expect(messages.find((message) => message['type'] === 'result')).toMatchObject({
        is_error: true,
        usage,
      });
    }
  });

  test('MALFORMED_FUNCTION_CALL with no text: exit 1 quoting finishMessage, not an empty success', async () => {
    gemini.setResponses({
      sse: geminiStream({
        finishReason: 'MALFORMED_FUNCTION_CALL',
        finishMessage: 'Malformed function call: print(x',
      }),
      slices: { seed: 12, maxSize: 17 },
    });
    const text = await runCli(geminiPro, { GEMINI_API_KEY: geminiKey });
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toBe('');
    expect(text.stderr).toContain(
      'The model produced a malformed function call (finishReason MALFORMED_FUNCTION_CALL): Malformed function call: print(x',
    );
    const json = await runCli([...geminiPro, '-o', 'json'], { GEMINI_API_KEY: geminiKey });
    expect(json.exitCode).toBe(1);
    const messages = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(messages.find((message) => message['type'] === 'result')).toMatchObject({
      subtype: 'error_during_execution',
      is_error: true,
      error: { message: expect.stringContaining('Malformed function call: print(x') },
    });
    // The model's mistake is not a server hiccup: no retry.
    expect(gemini.requests).toHaveLength(2);
  });

  test('a bad key (400 API_KEY_INVALID): exit 41 with a hint about GEMINI_API_KEY', async () => {
    const result = await runCli(geminiPro, { GEMINI_API_KEY: 'AIzaWrong' });
    expect(result.exitCode).toBe(41);
    expect(result.stderr).toContain('GEMINI_API_KEY');
    expect(result.stderr).not.toContain('AIzaWrong');
    expect(gemini.requests).toHaveLength(1);
  });

  test('429 RESOURCE_EXHAUSTED waits for RetryInfo.retryDelay, then streams', async () => {
    const body = json(geminiFixtures, 'error-429.json') as { error: { details: Record<string, unknown>[] } };
    for (const detail of body.error.details) if ('retryDelay' in detail) detail['retryDelay'] = '0.05s';
    gemini.setResponses({ status: 429, body }, { sse: geminiStream({ text: ['quota', ' back'] }) });
    const result = await runCli(geminiPro, { GEMINI_API_KEY: geminiKey });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('quota back\n');
    expect(gemini.requests).toHaveLength(2);
  });

  test('samplingParams reach generationConfig under Gemini’s names, the penalties too (Gemini and Vertex)', async () => {
    const generationConfig = {
      temperature: 0.2,
      topP: 0.9,
      topK: 40,
      maxOutputTokens: 1234,
      presencePenalty: 0.5,
      frequencyPenalty: -0.25,
      stopSequences: ['END'],
    };
    const runs: [string[], Record<string, string>][] = [
      [['--auth-type', 'gemini', '-m', 'gemini-sampled'], { GEMINI_API_KEY: geminiKey }],
      [['--auth-type', 'vertex-ai', '-m', 'vertex-sampled'], { GOOGLE_API_KEY: geminiKey }],
    ];
    for (const [args, env] of runs) {
      gemini.requests.length = 0;
      gemini.setResponses({ sse: geminiStream({ text: ['tuned'] }) });
      const result = await runCli(args, env);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe('tuned\n');
      expect(gemini.requests[0]?.body).toMatchObject({ generationConfig });
    }
  });

  test('a tuned model goes to its own resource path, not escaped into models/', async () => {
    gemini.setResponses({ sse: geminiStream({ text: ['tuned ', 'answer'] }) });
    const result = await runCli(['--auth-type', 'gemini', '-m', 'tunedModels/my-tuned-7'], {
      GEMINI_API_KEY: geminiKey,
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('tuned answer\n');
    expect(gemini.requests[0]?.path).toBe('/v1beta/tunedModels/my-tuned-7:streamGenerateContent?alt=sse');
  });

  test('404 NOT_FOUND: exit 1 with the server’s message', async () => {
    gemini.setResponses({ status: 404, body: json(geminiFixtures, 'error-404.json') });
    const result = await runCli(geminiPro, { GEMINI_API_KEY: geminiKey });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('is not found for API version v1beta');
  });
});

describe('vertex-ai (express mode)', () => {
  test('streams an answer from the publishers path with GOOGLE_API_KEY', async () => {
    gemini.setResponses({
      sseFile: join(geminiFixtures, 'vertex-text.sse'),
      slices: { seed: 8, maxSize: 21 },
    });
    // The fake checks one key; Vertex's key is a different variable with the same value here.
    const result = await runCli(vertexFlash, { GOOGLE_API_KEY: geminiKey });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('Vertex says hello from europe-west4.\n');
    const [request] = gemini.requests;
    expect(request?.path).toBe(
      '/v1beta1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
    expect(request?.headers['x-goog-api-key']).toBe(geminiKey);
  });

  test('a bad key: exit 41 with a hint about GOOGLE_API_KEY', async () => {
    const result = await runCli(vertexFlash, { GOOGLE_API_KEY: vertexKey });
    expect(result.exitCode).toBe(41);
    expect(result.stderr).toContain('GOOGLE_API_KEY');
  });
});

// Bearer credentials: ANTHROPIC_AUTH_TOKEN, and Vertex AI project mode with Application Default Credentials.
test('--openai-api-key with a complete Anthropic environment is the key for Anthropic (compat §5)', async () => {
  anthropic.setResponses({ sse: anthropicStream({ text: ['flag', ' key'] }) });
  const result = await runCli(['--openai-api-key', anthropicKey], {
    ANTHROPIC_API_KEY: 'sk-ant-not-this-one',
    ANTHROPIC_BASE_URL: anthropic.url,
    ANTHROPIC_MODEL: 'claude-from-env',
  });
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe('flag key\n');
  expect(anthropic.requests[0]?.headers['authorization']).toBe(`Bearer ${anthropicKey}`);
  expect(anthropic.requests[0]?.body).toMatchObject({ model: 'claude-from-env' });
});

describe('bearer credentials', () => {
  test('ANTHROPIC_AUTH_TOKEN is sent as a bearer token', async () => {
    anthropic.setResponses({ sse: anthropicStream({ text: ['token', ' works'] }) });
    const result = await runCli(['--auth-type', 'anthropic', '-m', 'claude-via-gateway'], {
      ANTHROPIC_AUTH_TOKEN: anthropicKey,
      ANTHROPIC_BASE_URL: anthropic.url,
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('token works\n');
    expect(anthropic.requests[0]?.headers['authorization']).toBe(`Bearer ${anthropicKey}`);
    expect(anthropic.requests[0]?.headers['x-api-key']).toBeUndefined();
  });

  test('ANTHROPIC_AUTH_TOKEN serves an entry whose envKey is ANTHROPIC_API_KEY (the docs example); without either, both are named', async () => {
    anthropic.setResponses({ sse: anthropicStream({ text: ['entry', ' token'] }) });
    const result = await runCli(claude, { ANTHROPIC_AUTH_TOKEN: anthropicKey });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('entry token\n');
    expect(anthropic.requests[0]?.headers['authorization']).toBe(`Bearer ${anthropicKey}`);
    const none = await runCli(claude, {});
    expect(none.exitCode).toBe(41);
    expect(none.stderr).toContain('set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN, sent as a Bearer token).');
  });

  describe('vertex-ai project mode (Application Default Credentials)', () => {
    let tokenServer: FakeGoogleToken;
    let credentialsFile: string;

    beforeAll(async () => {
      const keyPair = await rsaKeyPair();
      const pem = await privateKeyPem(keyPair.privateKey);
      tokenServer = startFakeGoogleToken({ publicKey: keyPair.publicKey });
      credentialsFile = join(root, 'service-account.json');
      writeFileSync(
        credentialsFile,
        JSON.stringify({
          type: 'service_account',
          project_id: 'my-project',
          private_key_id: 'e2e0001',
          private_key: pem,
          client_email: 'e2e@my-project.iam.gserviceaccount.com',
          token_uri: tokenServer.tokenUrl,
        }),
      );
    });

    afterAll(async () => {
      await tokenServer.stop();
    });

    test('credentials without GOOGLE_CLOUD_PROJECT: the message names project mode, not only the API key', async () => {
      const result = await runCli(vertexFlash, { GOOGLE_APPLICATION_CREDENTIALS: credentialsFile });
      expect(result.exitCode).toBe(41);
      expect(result.stderr).toContain(
        'set GOOGLE_API_KEY (express mode), or set GOOGLE_CLOUD_PROJECT (and GOOGLE_CLOUD_LOCATION) to use Application Default Credentials.',
      );
      expect(gemini.requests).toHaveLength(0);
    });

    test('a service-account token reaches the regional project path as a bearer token', async () => {
      gemini.setResponses({
        sseFile: join(geminiFixtures, 'vertex-text.sse'),
        slices: { seed: 9, maxSize: 15 },
      });
      const result = await runCli(vertexFlash, {
        GOOGLE_CLOUD_PROJECT: 'my-project',
        GOOGLE_CLOUD_LOCATION: 'us-central1',
        GOOGLE_APPLICATION_CREDENTIALS: credentialsFile,
      });
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe('Vertex says hello from europe-west4.\n');
      const [request] = gemini.requests;
      expect(request?.path).toBe(
        '/v1beta1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
      );
      expect(request?.headers['authorization']).toBe(`Bearer ${tokenServer.issuedTokens.at(-1)}`);
      expect(request?.headers['x-goog-api-key']).toBeUndefined();
    });

    test('a deployed endpoint named by its resource name is asked at that path', async () => {
      gemini.setResponses({ sseFile: join(geminiFixtures, 'vertex-text.sse') });
      const endpoint = 'projects/my-project/locations/us-central1/endpoints/4242';
      const result = await runCli(['--auth-type', 'vertex-ai', '-m', endpoint], {
        GOOGLE_CLOUD_PROJECT: 'my-project',
        GOOGLE_CLOUD_LOCATION: 'us-central1',
        GOOGLE_APPLICATION_CREDENTIALS: credentialsFile,
      });
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(gemini.requests[0]?.path).toBe(
        '/v1beta1/projects/my-project/locations/us-central1/endpoints/4242:streamGenerateContent?alt=sse',
      );
    });

    test('a refused service account: exit 41 with the endpoint’s reason', async () => {
      tokenServer.failNext({
        status: 400,
        body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
      });
      const result = await runCli(vertexFlash, {
        GOOGLE_CLOUD_PROJECT: 'my-project',
        GOOGLE_APPLICATION_CREDENTIALS: credentialsFile,
      });
      expect(result.exitCode).toBe(41);
      expect(result.stderr).toContain('Invalid JWT Signature.');
      expect(gemini.requests).toHaveLength(0);
    });

    test('a 401 or 403 from Vertex AI speaks of the ADC file and the project, not of an API key', async () => {
      for (const [status, advice] of [
        [401, `Google refused the access token made from ${credentialsFile}`],
        [403, 'may lack rights on project my-project (the Vertex AI User role'],
      ] as const) {
        gemini.setResponses(
          { status, body: { error: { code: status, message: 'Refused.', status: 'PERMISSION_DENIED' } } },
          { status, body: { error: { code: status, message: 'Refused.', status: 'PERMISSION_DENIED' } } },
        );
        const result = await runCli(vertexFlash, {
          GOOGLE_CLOUD_PROJECT: 'my-project',
          GOOGLE_APPLICATION_CREDENTIALS: credentialsFile,
        });
        expect(result.exitCode).toBe(41);
        expect(result.stderr).toContain(advice);
        expect(result.stderr).not.toContain('Check the API key');
      }
    });

    test('no credentials at all: exit 41 telling how to log in', async () => {
      const result = await runCli(vertexFlash, { GOOGLE_CLOUD_PROJECT: 'my-project' });
      expect(result.exitCode).toBe(41);
      expect(result.stderr).toContain('gcloud auth application-default login');
    });
  });
});
