import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamEvent } from '../../src/core/events.ts';
import { openaiAdapter } from '../../src/protocols/openai.ts';
import {
  type FakeOpenAi,
  openAiStream,
  type RecordedRequest,
  startFakeOpenAi,
} from '../fakes/openai-server.ts';
import { decodeThroughParser } from './helpers.ts';

let fake: FakeOpenAi | undefined;

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function post(
  url: string,
  body: unknown = { model: 'm', messages: [] },
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer sk-fake' },
    body: JSON.stringify(body),
    ...init,
  });
}

/** Reads a body chunk by chunk, as the CLI does, and returns the chunks. */
async function readChunks(response: Response): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  const reader = response.body?.getReader();
  if (reader === undefined) return chunks;
  while (true) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

function decodeText(text: string): StreamEvent[] {
  return decodeThroughParser(openaiAdapter.createDecoder(), text);
}

describe('openAiStream', () => {
  test('builds a stream the adapter decodes back into the same pieces', () => {
    const stream = openAiStream({
      reasoning: ['think', 'ing'],
      text: ['Hel', 'lo 世界'],
      toolCalls: [
        { name: 'read_file', arguments: ['{"path":', '"a.ts"}'] },
        { id: 'call_x', name: 'list', arguments: { dir: '.' } },
      ],
      usage: { prompt_tokens: 30, completion_tokens: 7 },
    });
    expect(stream.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(decodeText(stream)).toEqual([
      { type: 'reasoning-delta', text: 'think' },
      { type: 'reasoning-delta', text: 'ing' },
      { type: 'text-delta', text: 'Hel' },
      { type: 'text-delta', text: 'lo 世界' },
      { type: 'tool-call', id: 'call_fake0000', name: 'read_file', arguments: { path: 'a.ts' } },
      { type: 'tool-call', id: 'call_x', name: 'list', arguments: { dir: '.' } },
      { type: 'usage', usage: { inputTokens: 30, outputTokens: 7, totalTokens: 37 } },
      { type: 'done', finishReason: 'tool_calls' },
    ]);
  });

  test('options: CRLF framing, reasoning field, no usage, no [DONE], finish reason', () => {
    const stream = openAiStream({
      text: ['a'],
      reasoning: ['r'],
      reasoningField: 'reasoning',
      usage: null,
      omitDone: true,
      lineEnding: '\r\n',
      finishReason: 'length',
    });
    expect(stream).toContain('"reasoning":"r"');
    expect(stream).not.toContain('[DONE]');
    expect(stream.split('\r\n\r\n').length).toBe(5);
    expect(decodeText(stream)).toEqual([
      { type: 'reasoning-delta', text: 'r' },
      { type: 'text-delta', text: 'a' },
      { type: 'done', finishReason: 'length' },
    ]);
  });
});

describe('startFakeOpenAi', () => {
  test('serves a stream over real HTTP and records the request', async () => {
    fake = startFakeOpenAi({ stream: { text: ['Hi'] } });
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const response = await post(fake.url, {
      model: 'qwen3-coder-plus',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(decodeText(await response.text()).slice(0, 1)).toEqual([{ type: 'text-delta', text: 'Hi' }]);
    expect(fake.requests).toHaveLength(1);
    const recorded = fake.requests[0] as RecordedRequest;
    expect(recorded.method).toBe('POST');
    expect(recorded.path).toBe('/v1/chat/completions');
    expect(recorded.headers['authorization']).toBe('Bearer sk-fake');
    expect(recorded.body).toEqual({ model: 'qwen3-coder-plus', messages: [{ role: 'user', content: 'x' }] });
  });

  test('with no script it answers a default stream', async () => {
    fake = startFakeOpenAi();
    const events = decodeText(await (await post(fake.url)).text());
    expect(events.filter((event) => event.type === 'text-delta').length).toBeGreaterThan(0);
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'stop' });
  });

  test('steps are consumed in order and the last one repeats: 429 then 200', async () => {
    fake = startFakeOpenAi([
      {
        status: 429,
        headers: { 'retry-after': '1', 'retry-after-ms': '5' },
        body: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } },
      },
      { sse: openAiStream({ text: ['ok'] }) },
    ]);
    const first = await post(fake.url);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('1');
    expect(first.headers.get('retry-after-ms')).toBe('5');
    expect(openaiAdapter.parseErrorBody(429, await first.text()).code).toBe('rate_limit_exceeded');
    for (let attempt = 0; attempt < 2; attempt++) {
      const later = await post(fake.url);
      expect(later.status).toBe(200);
      expect(await later.text()).toContain('"content":"ok"');
    }
    expect(fake.requests).toHaveLength(3);
  });

  test('setResponses replaces the script and restarts it', async () => {
    fake = startFakeOpenAi({ status: 500 });
    expect((await post(fake.url)).status).toBe(500);
    fake.setResponses({ status: 401, body: 'plain text refusal' }, { status: 200, body: { fine: true } });
    const refused = await post(fake.url);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toBe('plain text refusal');
    expect(await (await post(fake.url)).json()).toEqual({ fine: true });
  });

  test('fixed slices with a delay arrive as separate reads and intact', async () => {
    const sse = openAiStream({ text: ['one', 'two', 'three'] });
    fake = startFakeOpenAi({ sse, slices: { size: 40, delayMs: 5 } });
    const chunks = await readChunks(await post(fake.url));
    expect(chunks.length).toBeGreaterThan(3);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(sse);
  });

  test('random slices with a seed cut multi-byte characters and keep every byte', async () => {
    const sse = openAiStream({ text: ['思考', '中…', '😀'] });
    fake = startFakeOpenAi({ sse, slices: { seed: 42, minSize: 1, maxSize: 6 } });
    const chunks = await readChunks(await post(fake.url));
    expect(Buffer.concat(chunks).toString('utf8')).toBe(sse);
    expect(decodeText(sse).filter((event) => event.type === 'text-delta')).toHaveLength(3);
  });

  test('delay before headers', async () => {
    fake = startFakeOpenAi({ delayBeforeHeadersMs: 150 });
    const started = performance.now();
    const response = await post(fake.url);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    await response.text();
  });

  test('hang before headers: the client gives up, and stop() still returns', async () => {
    fake = startFakeOpenAi({ hangBeforeHeaders: true });
    await expect(post(fake.url, undefined, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
  });

  test('hang mid-stream: the first bytes arrive, then silence until the client cancels', async () => {
    const sse = openAiStream({ text: ['first', 'never'] });
    const cut = sse.indexOf('"first"') + 40;
    fake = startFakeOpenAi({ sse, hangAfterBytes: cut });
    const controller = new AbortController();
    const response = await post(fake.url, undefined, { signal: controller.signal });
    const reader = response.body?.getReader();
    let received = '';
    const decoder = new TextDecoder();
    while (received.length < cut) {
      const { done, value } = (await reader?.read()) ?? { done: true, value: undefined };
      if (done) break;
      received += decoder.decode(value, { stream: true });
    }
    expect(received).toBe(sse.slice(0, cut));
    const silent = await Promise.race([
      reader?.read().then(() => 'data'),
      Bun.sleep(200).then(() => 'silent'),
    ]);
    expect(silent).toBe('silent');
    controller.abort();
  });

  test('close mid-stream: the client sees the connection drop after the first bytes', async () => {
    const sse = openAiStream({ text: ['partial', 'lost'] });
    fake = startFakeOpenAi({ sse, closeAfterBytes: sse.indexOf('"partial"') + 40 });
    const response = await post(fake.url);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  test('unknown paths get an OpenAI-shaped 404 and are recorded', async () => {
    fake = startFakeOpenAi();
    const response = await fetch(`${fake.url}/completions`, { method: 'POST', body: 'not json' });
    expect(response.status).toBe(404);
    expect(openaiAdapter.parseErrorBody(404, await response.text()).code).toBe('unknown_url');
    expect(fake.requests[0]?.path).toBe('/v1/completions');
    expect(fake.requests[0]?.body).toBe('not json');
  });
});

describe('standalone process', () => {
  test('prints its URL, follows a script file with sseFile, reports requests, and stops on SIGTERM', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'fake-openai-'));
    try {
      writeFileSync(join(directory, 'answer.sse'), openAiStream({ text: ['from', ' file'] }));
      writeFileSync(
        join(directory, 'script.json'),
        JSON.stringify({
          responses: [{ status: 503, body: { error: { message: 'busy' } } }, { sseFile: 'answer.sse' }],
        }),
      );
      const child = Bun.spawn(
        [process.execPath, new URL('../fakes/openai-server.ts', import.meta.url).pathname],
        {
          env: { ...process.env, FAKE_OPENAI_SCRIPT: join(directory, 'script.json') },
          stdout: 'pipe',
          stderr: 'inherit',
        },
      );
      try {
        const reader = child.stdout.getReader();
        let output = '';
        while (!output.includes('\n')) {
          const { done, value } = await reader.read();
          if (done) break;
          output += new TextDecoder().decode(value);
        }
        reader.releaseLock();
        const { url } = JSON.parse(output) as { url: string };
        expect((await post(url)).status).toBe(503);
        const events = decodeText(await (await post(url)).text());
        expect(events.slice(0, 2)).toEqual([
          { type: 'text-delta', text: 'from' },
          { type: 'text-delta', text: ' file' },
        ]);
        const origin = new URL(url).origin;
        const recorded = (await (await fetch(`${origin}/__fake/requests`)).json()) as RecordedRequest[];
        expect(recorded.map((request) => request.path)).toEqual([
          '/v1/chat/completions',
          '/v1/chat/completions',
        ]);

        await fetch(`${origin}/__fake/responses`, { method: 'PUT', body: JSON.stringify([{ status: 418 }]) });
        expect((await post(url)).status).toBe(418);
      } finally {
        child.kill('SIGTERM');
        expect(await child.exited).toBe(0);
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
