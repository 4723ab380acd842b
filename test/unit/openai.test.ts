import { describe, expect, test } from 'bun:test';
import type { StreamEvent } from '../../src/core/events.ts';
import { sseMessage } from '../../src/core/sse.ts';
import type { ChatRequest, ResolvedModel } from '../../src/core/types.ts';
import { adapterFor } from '../../src/protocols/index.ts';
import { openaiAdapter } from '../../src/protocols/openai.ts';
import { chatRequest, decodeThroughParser, decodeWholeReply, fixtureReader, plainEvents } from './helpers.ts';

const fixture = fixtureReader('openai');

function target(overrides: Partial<ResolvedModel> = {}): ResolvedModel {
  return {
    authType: 'openai',
    protocol: 'openai',
    model: 'qwen3-coder-plus',
    baseUrl: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    apiKey: 'sk-test-1234567890',
    generationConfig: {},
    ...overrides,
  };
}

function chat(overrides: Partial<ResolvedModel> = {}): ChatRequest {
  return chatRequest(target(overrides));
}

function bodyOf(request: ChatRequest): Record<string, unknown> {
  return JSON.parse(openaiAdapter.buildRequest(request).body) as Record<string, unknown>;
}

/** In small slices of one size, as a network would deliver the stream. */
function decodeStream(text: string, sliceSize = 7): StreamEvent[] {
  return decodeThroughParser(openaiAdapter.createDecoder(), text, { size: sliceSize });
}

/** Decodes data lines; `complete` ends them with [DONE] as a whole stream does (a cut one fails). */
function decodeMessages(data: string[], event = 'message', complete = true): StreamEvent[] {
  const decoder = openaiAdapter.createDecoder();
  const events: StreamEvent[] = [];
  const lines = complete && event === 'message' ? [...data, '[DONE]'] : data;
  for (const item of lines) events.push(...decoder.decode(sseMessage(event, item)));
  events.push(...decoder.finish());
  return plainEvents(events);
}

describe('openaiAdapter.buildRequest', () => {
  test('URL, headers and the streaming body', () => {
    const request = openaiAdapter.buildRequest(chat());
    expect(request.url).toBe('https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions');
    expect(request.headers).toEqual({
      Authorization: 'Bearer sk-test-1234567890',
      'Content-Type': 'application/json',
      Accept: 'text/event-stream',
    });
    expect(JSON.parse(request.body)).toEqual({
      model: 'qwen3-coder-plus',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  test('a trailing slash is stripped and an empty base URL means OpenAI', () => {
    expect(openaiAdapter.buildRequest(chat({ baseUrl: 'http://127.0.0.1:8000/v1/' })).url).toBe(
      'http://127.0.0.1:8000/v1/chat/completions',
    );
    expect(openaiAdapter.buildRequest(chat({ baseUrl: '' })).url).toBe(
      'https://api.openai.com/v1/chat/completions',
    );
  });

  test("a base URL's query (Azure's api-version) follows the path; a fragment is dropped", () => {
    const url = (baseUrl: string) => openaiAdapter.buildRequest(chat({ baseUrl })).url;
    expect(url('https://x.openai.azure.com/openai/deployments/gpt4o/?api-version=2024-10-21')).toBe(
      'https://x.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21',
    );
    expect(url('http://127.0.0.1:8000/v1#notes')).toBe('http://127.0.0.1:8000/v1/chat/completions');
  });

  test("Azure's classic deployment URL takes the key in api-key; an Entra ID token and Azure's /openai/v1 go as Bearer", () => {
    const headers = (baseUrl: string, apiKey: string) =>
      openaiAdapter.buildRequest(chat({ baseUrl, apiKey })).headers;
    const deployment = 'https://x.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21';
    expect(headers(deployment, 'azure-key-1234')).toEqual({
      'api-key': 'azure-key-1234',
      'Content-Type': 'application/json',
      Accept: 'text/event-stream',
    });
    expect(headers('https://x.openai.azure.com/openai/deployments/gpt4o/', 'k')['api-key']).toBe('k');
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln';
    expect(headers(deployment, jwt)).toMatchObject({ Authorization: `Bearer ${jwt}` });
    expect(headers(deployment, jwt)['api-key']).toBeUndefined();
    const v1 = headers('https://x.openai.azure.com/openai/v1', 'azure-key-1234');
    expect(v1).toMatchObject({ Authorization: 'Bearer azure-key-1234' });
    expect(v1['api-key']).toBeUndefined();
  });

  test('an access token (Qwen OAuth) replaces the key', () => {
    const request = openaiAdapter.buildRequest(chat({ accessToken: 'oauth-token-abc' }));
    expect(request.headers['Authorization']).toBe('Bearer oauth-token-abc');
  });

  test('no Authorization header without a key', () => {
    const request = openaiAdapter.buildRequest(chat({ apiKey: undefined }));
    expect(Object.keys(request.headers).map((name) => name.toLowerCase())).not.toContain('authorization');
  });

  test('extra headers, then custom headers, replace earlier ones whatever their case', () => {
    const request = openaiAdapter.buildRequest(
      chat({
        extraHeaders: { 'X-DashScope-AuthType': 'qwen-oauth', 'X-Client': 'auth' },
        generationConfig: {
          customHeaders: { 'x-client': 'settings', authorization: 'Bearer from-settings', 'X-Trace': '1' },
        },
      }),
    );
    expect(request.headers).toEqual({
      'Content-Type': 'application/json',
      Accept: 'text/event-stream',
      'X-DashScope-AuthType': 'qwen-oauth',
      'x-client': 'settings',
      authorization: 'Bearer from-settings',
      'X-Trace': '1',
    });
  });

  test('a DashScope target: the last user part marked for the context cache, session metadata for Qwen models', () => {
    const messages = [
      { role: 'user' as const, content: 'first' },
      { role: 'assistant' as const, content: 'answer' },
      { role: 'user' as const, content: 'second' },
    ];
    const session = 'c0ffee00-0000-4000-8000-000000000000';
    const body = bodyOf({ target: target({ dashScope: true }), messages, sessionId: session });
    expect(body['messages']).toEqual([
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'answer' },
      { role: 'user', content: [{ type: 'text', text: 'second', cache_control: { type: 'ephemeral' } }] },
    ]);
    expect(body['preserve_thinking']).toBe(true);
    expect(body['metadata']).toEqual({ sessionId: session, promptId: `${session}########1` });
    // Not a Qwen model: no metadata. Not DashScope: the plain body.
    const other = bodyOf({
      target: target({ dashScope: true, model: 'glm-5' }),
      messages,
      sessionId: session,
    });
    expect(other['metadata']).toBeUndefined();
    const plain = bodyOf({ target: target(), messages, sessionId: session });
    expect(plain['messages']).toEqual(messages);
    expect(plain).not.toHaveProperty('preserve_thinking');
    expect(plain).not.toHaveProperty('metadata');
  });

  test('every sampling parameter as given, unknown keys included, and extra_body merged on top', () => {
    const body = bodyOf(
      chat({
        generationConfig: {
          samplingParams: {
            temperature: 0.2,
            top_p: 0.9,
            top_k: 20,
            max_tokens: 1024,
            presence_penalty: 0.5,
            frequency_penalty: 0,
            stop: ['END'],
            repetition_penalty: 1.05,
            seed: 7,
          },
          extra_body: { enable_thinking: true, thinking_budget: 2048, stream_options: null, top_k: 40 },
        },
      }),
    );
    expect(body).toEqual({
      model: 'qwen3-coder-plus',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
      stream: true,
      stream_options: null,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      max_tokens: 1024,
      presence_penalty: 0.5,
      frequency_penalty: 0,
      stop: ['END'],
      repetition_penalty: 1.05,
      seed: 7,
      enable_thinking: true,
      thinking_budget: 2048,
    });
  });
});

describe('openaiAdapter decoder on fixtures', () => {
  test('plain text with a usage chunk', () => {
    const expected: StreamEvent[] = [
      { type: 'text-delta', text: 'The' },
      { type: 'text-delta', text: ' diff' },
      { type: 'text-delta', text: ' renames' },
      { type: 'text-delta', text: ' `parse`' },
      { type: 'text-delta', text: ' to' },
      { type: 'text-delta', text: ' `parseConfig`.\n' },
      {
        type: 'usage',
        usage: {
          inputTokens: 1284,
          outputTokens: 12,
          totalTokens: 1296,
          cachedInputTokens: 1024,
          reasoningTokens: 0,
        },
      },
      { type: 'done', finishReason: 'stop' },
    ];
    for (const sliceSize of [1, 3, 64, 100_000])
      expect(decodeStream(fixture('text.sse'), sliceSize)).toEqual(expected);
  });

  test('DashScope reasoning_content before content', () => {
    expect(decodeStream(fixture('reasoning-dashscope.sse'), 1)).toEqual([
      { type: 'reasoning-delta', text: '用户问的是' },
      { type: 'reasoning-delta', text: '一年有多少天，' },
      { type: 'reasoning-delta', text: '要考虑闰年。' },
      { type: 'text-delta', text: '平年有 365 天，' },
      { type: 'text-delta', text: '闰年有 366 天。' },
      {
        type: 'usage',
        usage: {
          inputTokens: 18,
          outputTokens: 41,
          totalTokens: 59,
          cachedInputTokens: 0,
          reasoningTokens: 27,
        },
      },
      { type: 'done', finishReason: 'stop' },
    ]);
  });

  test('vLLM reasoning and reasoning_text; the first non-empty field wins', () => {
    expect(decodeStream(fixture('reasoning-vllm.sse'))).toEqual([
      { type: 'reasoning-delta', text: 'Two plus two' },
      { type: 'reasoning-delta', text: ' is four.' },
      { type: 'reasoning-delta', text: 'Answer briefly.' },
      { type: 'text-delta', text: '4' },
      { type: 'usage', usage: { inputTokens: 14, outputTokens: 8, totalTokens: 22 } },
      { type: 'done', finishReason: 'length' },
    ]);
  });

  test('parallel tool calls assembled by index, in index order, at the end', () => {
    expect(decodeStream(fixture('tools-parallel.sse'), 5)).toEqual([
      {
        type: 'tool-call',
        id: 'call_Yh3kPq9ZsB0tWm4Rx1LcJd7N',
        name: 'read_file',
        arguments: { path: 'src/main.ts' },
      },
      {
        type: 'tool-call',
        id: 'call_Aq7vNc2XeM5uKs8Ty0GbHf3P',
        name: 'search',
        arguments: { query: 'exit code 41', limit: 5 },
      },
      { type: 'tool-call', id: 'call_Zr1cWq6HdT0yLp3Ev9KaMn2S', name: 'list_directory', arguments: {} },
      {
        type: 'usage',
        usage: {
          inputTokens: 412,
          outputTokens: 63,
          totalTokens: 475,
          cachedInputTokens: 0,
          reasoningTokens: 0,
        },
      },
      { type: 'done', finishReason: 'tool_calls' },
    ]);
  });

  test('tool calls without index: a new id is a new call; the reported finish reason is kept', () => {
    expect(decodeStream(fixture('tools-without-index.sse'))).toEqual([
      { type: 'tool-call', id: 'call_k2mdy7pq', name: 'get_weather', arguments: { city: 'Lyon' } },
      { type: 'tool-call', id: 'call_w81tnq3x', name: 'get_weather', arguments: { city: 'Osaka' } },
      { type: 'done', finishReason: 'stop' },
    ]);
  });

  test('tool calls with neither index nor id: a second name starts a second call', () => {
    const call = (part: object) => JSON.stringify({ choices: [{ delta: { tool_calls: [part] } }] });
    const events = decodeMessages([
      call({ index: 0, function: { name: 'a', arguments: '{}' } }),
      call({ function: { name: 'b', arguments: '{"x":' } }),
      call({ function: { arguments: '1}' } }),
    ]);
    const calls = events.flatMap((event) =>
      event.type === 'tool-call' ? [[event.name, event.arguments]] : [],
    );
    expect(calls).toEqual([
      ['a', {}],
      ['b', { x: 1 }],
    ]);
    // The same name in every piece of one call's arguments is one call; again after complete arguments, two.
    const repeated = decodeMessages([
      call({ function: { name: 'run', arguments: '{"command":' } }),
      call({ function: { name: 'run', arguments: '"ls"}' } }),
      call({ function: { name: 'run', arguments: '{"command":"pwd"}' } }),
    ]);
    expect(repeated.flatMap((event) => (event.type === 'tool-call' ? [event.arguments] : []))).toEqual([
      { command: 'ls' },
      { command: 'pwd' },
    ]);
  });

  test('parallel calls that all say index 0; usage inside choices[0] (Moonshot); unparseable arguments are {} (as Qwen Code reads them)', () => {
    expect(decodeStream(fixture('tools-same-index.sse'))).toEqual([
      { type: 'tool-call', id: 'functions.read_file:0', name: 'read_file', arguments: { path: 'a.ts' } },
      { type: 'tool-call', id: 'functions.read_file:1', name: 'read_file', arguments: {} },
      {
        type: 'usage',
        usage: { inputTokens: 230, outputTokens: 31, totalTokens: 261, cachedInputTokens: 128 },
      },
      { type: 'done', finishReason: 'tool_calls' },
    ]);
  });

  test("Azure's empty first chunk and content-filter trailer", () => {
    expect(decodeStream(fixture('azure-content-filter.sse'))).toEqual([
      { type: 'text-delta', text: 'Bonjour' },
      { type: 'text-delta', text: ' à tous' },
      { type: 'text-delta', text: ' !' },
      {
        type: 'usage',
        usage: {
          inputTokens: 11,
          outputTokens: 5,
          totalTokens: 16,
          cachedInputTokens: 0,
          reasoningTokens: 0,
        },
      },
      { type: 'done', finishReason: 'stop' },
    ]);
  });

  test('OpenRouter keep-alive comments, reasoning field, usage after the finish chunk', () => {
    expect(decodeStream(fixture('openrouter-keepalive.sse'), 2)).toEqual([
      { type: 'reasoning-delta', text: 'Short' },
      { type: 'reasoning-delta', text: ' answer.' },
      { type: 'text-delta', text: 'Yes.' },
      {
        type: 'usage',
        usage: {
          inputTokens: 21,
          outputTokens: 9,
          totalTokens: 30,
          cachedInputTokens: 0,
          reasoningTokens: 6,
        },
      },
      { type: 'done', finishReason: 'stop' },
    ]);
  });

  test('an OpenAI error object after output: error, and no done', () => {
    expect(decodeStream(fixture('error-midstream.sse'))).toEqual([
      { type: 'text-delta', text: 'Here is the first' },
      {
        type: 'error',
        error: {
          message: 'The server had an error while processing your request. Sorry about that!',
          code: 'server_error',
          // The status the same error has over HTTP, so that before any text it is retried alike.
          status: 500,
        },
      },
    ]);
  });

  test('an OpenRouter error with a numeric code and finish_reason "error"', () => {
    expect(decodeStream(fixture('openrouter-error-midstream.sse'))).toEqual([
      { type: 'text-delta', text: 'Partial' },
      { type: 'error', error: { message: 'Provider returned error', status: 502, code: '502' } },
    ]);
  });

  test('a spent quota inside the stream is a 429 that is never retried, as over HTTP', () => {
    const errorEvent = (error: object) => `data: ${JSON.stringify({ error })}\n\n`;
    for (const error of [
      { message: 'Free allocated quota exceeded.', code: 'Throttling.AllocationQuota' },
      { message: 'You exceeded your current quota', type: 'insufficient_quota', code: null },
      { message: 'Quota exceeded for this key', code: 'rate_limit_exceeded' },
    ]) {
      const [event] = decodeStream(errorEvent(error));
      expect(event).toMatchObject({ type: 'error', error: { status: 429, doNotRetry: true } });
    }
    const [rateLimit] = decodeStream(errorEvent({ message: 'slow down', code: 'Throttling.RateQuota' }));
    expect(rateLimit).toEqual({
      type: 'error',
      error: { message: 'slow down', code: 'Throttling.RateQuota', status: 429 },
    });
  });

  test("DashScope's codes and its <status> message prefix give the status the error has over HTTP", () => {
    const errorEvent = (error: object) => `data: ${JSON.stringify({ error })}\n\n`;
    const statusOf = (error: object) => {
      const [event] = decodeStream(errorEvent(error));
      return event?.type === 'error' ? event.error.status : undefined;
    };
    const rateLimited = { message: 'Requests rate limit exceeded, please try again later.' };
    expect(statusOf({ ...rateLimited, type: 'limit_requests', code: 'limit_requests' })).toBe(429);
    expect(statusOf({ message: 'Request timed out, please try again later.', code: 'RequestTimeOut' })).toBe(
      408,
    );
    expect(statusOf({ message: 'An internal error has occured', code: 'InternalError' })).toBe(500);
    expect(statusOf({ message: '<503> ServiceUnavailable: Too many requests in route.', code: 'x' })).toBe(
      503,
    );
    // The prefix wins over a code that would say 500: this one is the caller's mistake.
    const badParameter = '<400> InternalError.Algo.InvalidParameter: The "function.arguments" parameter';
    expect(statusOf({ message: badParameter, code: 'InternalError.Algo' })).toBe(400);
    expect(statusOf({ message: 'no status here <503>', code: 'something_else' })).toBeUndefined();
  });

  test('a flat vLLM error object', () => {
    expect(decodeStream(fixture('vllm-error-midstream.sse'))).toEqual([
      { type: 'text-delta', text: 'def ' },
      {
        type: 'error',
        error: {
          message: 'The decoder prompt (length 33012) is longer than the maximum model length of 32768.',
          status: 400,
          code: '400',
        },
      },
    ]);
  });
});

describe('openaiAdapter decoder edge cases', () => {
  test('bare JSON between events (SseMessage.strayJson, for Gemini) changes nothing here', () => {
    const stream = fixture('text.sse');
    const firstEventEnd = stream.indexOf('\n\n') + 2;
    const withStray = `${stream.slice(0, firstEventEnd)}{"error":{"message":"not for this protocol"}}\n\n${stream.slice(firstEventEnd)}`;
    const decode = (text: string) => decodeThroughParser(openaiAdapter.createDecoder(), text, { seed: 3 });
    expect(decode(withStray)).toEqual(decode(stream));
  });

  test("an error code named like Object's own properties has no status", () => {
    for (const code of ['constructor', 'toString']) {
      const [event] = decodeMessages([`{"error":{"message":"odd","code":"${code}"}}`]);
      expect(event).toEqual({ type: 'error', error: { message: 'odd', code } });
    }
  });

  test('JSON that is no object is ignored; a data line that is not JSON ends the stream, quoting it', () => {
    expect(
      decodeMessages(['42', 'null', '[]', '"text"', '{"choices":[{"delta":{"content":"ok"}}]}']),
    ).toEqual([{ type: 'text-delta', text: 'ok' }, { type: 'done' }]);
    // A chunk cut short between two good ones: the answer would miss its words, and pass for whole.
    const cut = '{"choices":[{"delta":{"content":"Beta "}}]';
    expect(
      decodeMessages([
        '{"choices":[{"delta":{"content":"Alpha "}}]}',
        cut,
        '{"choices":[{"delta":{"content":"Gamma"}}]}',
      ]),
    ).toEqual([
      { type: 'text-delta', text: 'Alpha ' },
      { type: 'error', error: { message: `an event is not valid JSON: ${cut}` } },
    ]);
    // Quoted whole: the cut to length comes after secrets are masked (cli/turn.ts).
    const [long] = decodeMessages([`not json ${'x'.repeat(200)}`]);
    expect(long).toEqual({
      type: 'error',
      error: { message: `an event is not valid JSON: not json ${'x'.repeat(200)}` },
    });
  });

  test('odd shapes do not throw', () => {
    expect(
      decodeMessages([
        '{"choices":null}',
        '{"choices":[null]}',
        '{"choices":[{"delta":null}]}',
        '{"choices":[{"delta":{"content":5,"tool_calls":"x"}}]}',
        '{"choices":[{"delta":{"tool_calls":[null,{"index":"a"}]}}]}',
        '{"usage":"many"}',
        '{"error":null,"choices":[{"delta":{"content":"fine"}}]}',
      ]),
    ).toEqual([
      { type: 'text-delta', text: 'fine' },
      { type: 'tool-call', id: 'call_0', name: '', arguments: {} },
      { type: 'done' },
    ]);
  });

  test('[DONE] flushes at once; anything after it and a later finish() add nothing', () => {
    const decoder = openaiAdapter.createDecoder();
    expect(
      decoder.decode(sseMessage('message', '{"choices":[{"delta":{"content":"a"},"finish_reason":"stop"}]}')),
    ).toEqual([{ type: 'text-delta', text: 'a' }]);
    expect(decoder.decode(sseMessage('message', '[DONE]'))).toEqual([{ type: 'done', finishReason: 'stop' }]);
    expect(decoder.decode(sseMessage('message', '{"choices":[{"delta":{"content":"late"}}]}'))).toEqual([]);
    expect(decoder.finish()).toEqual([]);
  });

  test('a long message is cut between characters, never through an emoji', () => {
    for (const before of [494, 495, 496, 497]) {
      const body = JSON.stringify({ error: { message: `${'x'.repeat(before)}😀${'y'.repeat(20)}` } });
      const { message } = openaiAdapter.parseErrorBody(400, body);
      expect(message.endsWith('...')).toBe(true);
      expect(message.isWellFormed()).toBe(true);
    }
  });

  test('reasoning alone, then [DONE] with no finish_reason, is a stream cut short, not an empty answer', () => {
    const decoder = openaiAdapter.createDecoder();
    decoder.decode(sseMessage('message', '{"choices":[{"delta":{"reasoning_content":"thinking"}}]}'));
    expect(decoder.decode(sseMessage('message', '[DONE]'))).toEqual([
      {
        type: 'error',
        error: {
          message:
            'the stream ended before the answer was complete ([DONE] before any answer or finish_reason)',
          missing: '[DONE] before any answer or finish_reason',
        },
      },
    ]);
  });

  test('a stream cut before [DONE] and any finish_reason is a failure, the text kept', () => {
    const events = decodeMessages(['{"choices":[{"delta":{"content":"half"}}]}'], 'message', false);
    expect(events.map((event) => event.type)).toEqual(['text-delta', 'error']);
    expect(events[1]).toMatchObject({
      error: { message: expect.stringContaining('ended before the answer') },
    });
  });

  test('a refusal (delta.refusal) is a failure that quotes it, with the usage, never an empty success', () => {
    const events = decodeMessages([
      '{"choices":[{"delta":{"role":"assistant","content":null,"refusal":""}}]}',
      '{"choices":[{"delta":{"refusal":"I\'m sorry, "}}]}',
      '{"choices":[{"delta":{"refusal":"I can\'t help with that."}}]}',
      '{"choices":[{"delta":{},"finish_reason":"stop"}]}',
      '{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":8,"total_tokens":17}}',
    ]);
    expect(events).toEqual([
      { type: 'usage', usage: { inputTokens: 9, outputTokens: 8, totalTokens: 17 } },
      {
        type: 'error',
        error: {
          message: "the model declined to answer (refusal): I'm sorry, I can't help with that.",
          code: 'refusal',
        },
      },
    ]);
  });

  test('a refusal that [DONE] closes without a finish_reason is still the refusal, not a stream that ended early', () => {
    const events = decodeMessages([
      '{"choices":[{"delta":{"role":"assistant","content":null,"refusal":"I can\'t help with that."}}]}',
      '[DONE]',
    ]);
    expect(events.at(-1)).toEqual({
      type: 'error',
      error: { message: "the model declined to answer (refusal): I can't help with that.", code: 'refusal' },
    });
  });

  test('finish_reason content_filter after some text is a failure, the text kept', () => {
    const events = decodeMessages(
      [
        '{"choices":[{"delta":{"content":"half"}}]}',
        '{"choices":[{"delta":{},"finish_reason":"content_filter"}]}',
      ],
      'message',
      false,
    );
    expect(events).toEqual([
      { type: 'text-delta', text: 'half' },
      {
        type: 'error',
        error: {
          message: "the provider's content filter cut the answer off (finish_reason content_filter).",
          code: 'content_filter',
        },
      },
    ]);
  });

  test('a content filter cut waits for the usage chunk after it, and reports it before the failure', () => {
    const cutOff: StreamEvent = {
      type: 'error',
      error: {
        message: "the provider's content filter cut the answer off (finish_reason content_filter).",
        code: 'content_filter',
      },
    };
    const usage: StreamEvent = {
      type: 'usage',
      usage: { inputTokens: 15, outputTokens: 78, totalTokens: 93 },
    };
    const finishChunk = '{"choices":[{"delta":{"content":"half"},"finish_reason":"content_filter"}]}';
    const usageChunk = '{"choices":[],"usage":{"prompt_tokens":15,"completion_tokens":78,"total_tokens":93}}';
    const azureTrailer =
      '{"choices":[{"content_filter_offsets":{"end_offset":4},"delta":{"content":"more"}}]}';
    expect(decodeMessages([finishChunk, azureTrailer, usageChunk])).toEqual([
      { type: 'text-delta', text: 'half' },
      usage,
      cutOff,
    ]);
    // Without a usage chunk, [DONE] or the end of the bytes reports the cut.
    expect(decodeMessages([finishChunk])).toEqual([{ type: 'text-delta', text: 'half' }, cutOff]);
    expect(decodeMessages([finishChunk], 'message', false)).toEqual([
      { type: 'text-delta', text: 'half' },
      cutOff,
    ]);
  });

  test('a stream with a finish_reason but no [DONE] ends normally', () => {
    expect(
      decodeMessages(['{"choices":[{"delta":{"content":"all"},"finish_reason":"stop"}]}'], 'message', false),
    ).toEqual([
      { type: 'text-delta', text: 'all' },
      { type: 'done', finishReason: 'stop' },
    ]);
  });

  test('an `event: error` frame from a proxy', () => {
    expect(decodeMessages(['upstream timed out'], 'error')).toEqual([
      { type: 'error', error: { message: 'upstream timed out' } },
    ]);
  });

  test('finish_reason "error" without an error object is still a failure', () => {
    const events = decodeMessages(['{"choices":[{"delta":{"content":"x"},"finish_reason":"error"}]}']);
    expect(events.map((event) => event.type)).toEqual(['text-delta', 'error']);
  });

  test('only the latest usage is reported (continuous usage stats)', () => {
    expect(
      decodeMessages([
        '{"choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}',
        '{"choices":[{"delta":{"content":"b"}}],"usage":{"prompt_tokens":5,"completion_tokens":2}}',
      ]),
    ).toEqual([
      { type: 'text-delta', text: 'a' },
      { type: 'text-delta', text: 'b' },
      { type: 'usage', usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 } },
      { type: 'done' },
    ]);
  });

  test('arguments sent as an object are kept as that object', () => {
    expect(
      decodeMessages([
        '{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":{"a":1}}}]}}]}',
      ]),
    ).toEqual([{ type: 'tool-call', id: 'c1', name: 'f', arguments: { a: 1 } }, { type: 'done' }]);
  });
});

describe('openaiAdapter.parseErrorBody', () => {
  test('401: message, code, auth failure', () => {
    const details = openaiAdapter.parseErrorBody(401, fixture('error-401.json'));
    expect(details.message.startsWith('Incorrect API key provided: sk-proj-****')).toBe(true);
    expect(details.code).toBe('invalid_api_key');
    expect(details.isAuthFailure).toBe(true);
    expect(details.doNotRetry).toBeUndefined();
  });

  test('429 rate limit is retryable', () => {
    const details = openaiAdapter.parseErrorBody(429, fixture('error-429-rate-limit.json'));
    expect(details.code).toBe('rate_limit_exceeded');
    expect(details.message).toContain('Please try again in 120ms');
    expect(details.doNotRetry).toBeUndefined();
    expect(details.isAuthFailure).toBeUndefined();
  });

  test('429 insufficient_quota is not', () => {
    expect(openaiAdapter.parseErrorBody(429, fixture('error-429-insufficient-quota.json'))).toEqual({
      message:
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
      code: 'insufficient_quota',
      doNotRetry: true,
    });
  });

  test('429 "Free allocated quota exceeded" is not either', () => {
    expect(openaiAdapter.parseErrorBody(429, fixture('error-429-free-quota.json'))).toEqual({
      message: 'Free allocated quota exceeded.',
      code: 'Throttling.AllocationQuota',
      doNotRetry: true,
    });
  });

  test('400 bodies from OpenAI, DashScope and vLLM', () => {
    expect(openaiAdapter.parseErrorBody(400, fixture('error-400-context-length.json'))).toEqual({
      message:
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
      code: 'context_length_exceeded',
    });
    expect(openaiAdapter.parseErrorBody(400, fixture('error-400-dashscope.json'))).toEqual({
      message: '<400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 129024]',
      code: 'invalid_parameter_error',
    });
    expect(openaiAdapter.parseErrorBody(404, fixture('error-400-vllm.json'))).toEqual({
      message: 'The model `qwen3-coder` does not exist.',
      code: '404',
    });
  });

  test('numeric and string codes from OpenRouter and Azure', () => {
    expect(openaiAdapter.parseErrorBody(429, fixture('error-429-openrouter.json'))).toEqual({
      message: 'Provider returned error',
      code: '429',
    });
    expect(openaiAdapter.parseErrorBody(403, fixture('error-403-azure.json'))).toEqual({
      message: 'Public access is disabled. Please configure private endpoint.',
      code: '403',
      isAuthFailure: true,
    });
  });

  test('plain text, HTML, empty and over-long bodies', () => {
    expect(openaiAdapter.parseErrorBody(503, '  upstream connect error  \n')).toEqual({
      message: 'upstream connect error',
    });
    expect(openaiAdapter.parseErrorBody(502, fixture('error-502.html'))).toEqual({
      message: '502 Bad Gateway',
    });
    expect(openaiAdapter.parseErrorBody(500, '')).toEqual({ message: 'HTTP 500' });
    expect(openaiAdapter.parseErrorBody(500, '{}')).toEqual({ message: 'HTTP 500' });
    expect(
      openaiAdapter.parseErrorBody(404, '{"error":"model \\"llama9\\" not found, try pulling it first"}'),
    ).toEqual({
      message: 'model "llama9" not found, try pulling it first',
    });
    const long = openaiAdapter.parseErrorBody(500, 'e'.repeat(5000)).message;
    expect(long.length).toBeLessThanOrEqual(500);
    expect(long.endsWith('...')).toBe(true);
  });

  test('a quota message without a code is also final', () => {
    expect(openaiAdapter.parseErrorBody(429, 'Quota Exceeded for this key').doNotRetry).toBe(true);
  });
});

describe('adapterFor', () => {
  test('openai is available', () => {
    expect(adapterFor('openai')).toBe(openaiAdapter);
  });

  test('every protocol has an adapter', () => {
    for (const protocol of ['openai', 'anthropic', 'gemini', 'vertex-ai'] as const) {
      expect(typeof adapterFor(protocol).buildRequest).toBe('function');
    }
  });
});

describe('openaiAdapter.chunksOfWholeReply (a server that ignored stream: true)', () => {
  const decodeReply = (reply: unknown) => decodeWholeReply(openaiAdapter, reply);

  test('a completion with text, reasoning, tool calls and usage decodes as its stream would', () => {
    const events = decodeReply({
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Looking.',
            reasoning_content: 'Need the weather.',
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'weather', arguments: '{"city":"Paris"}' },
              },
              { id: 'call_2', type: 'function', function: { name: 'time', arguments: '{}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 },
    });
    expect(events).toContainEqual({ type: 'reasoning-delta', text: 'Need the weather.' });
    expect(events).toContainEqual({ type: 'text-delta', text: 'Looking.' });
    expect(events).toContainEqual({
      type: 'tool-call',
      id: 'call_1',
      name: 'weather',
      arguments: { city: 'Paris' },
    });
    expect(events).toContainEqual({ type: 'tool-call', id: 'call_2', name: 'time', arguments: {} });
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'usage', usage: expect.objectContaining({ inputTokens: 10 }) }),
    );
    expect(events?.at(-1)).toEqual({ type: 'done', finishReason: 'tool_calls' });
  });

  test('anything that is no completion is not one', () => {
    for (const reply of [
      { hello: 'world' },
      { choices: [] },
      { choices: [{ text: 'legacy' }] },
      [],
      'text',
      null,
    ]) {
      expect(openaiAdapter.chunksOfWholeReply?.(reply)).toBeUndefined();
    }
  });
});
