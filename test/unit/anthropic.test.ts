import { describe, expect, test } from 'bun:test';
import type { StreamEvent } from '../../src/core/events.ts';
import { replyOriginOf } from '../../src/core/signed-reply.ts';
import { sseMessage } from '../../src/core/sse.ts';
import type { ChatRequest, Message, ResolvedModel } from '../../src/core/types.ts';
import { anthropicAdapter, defaultAnthropicMaxTokens } from '../../src/protocols/anthropic.ts';
import { adapterFor } from '../../src/protocols/index.ts';
import { anthropicStream } from '../fakes/anthropic-server.ts';
import {
  chatRequest,
  decodeThroughParser,
  decodeWholeReply,
  fixtureReader,
  signedReplyOf,
  textOf,
} from './helpers.ts';

const fixture = fixtureReader('anthropic');

function target(overrides: Partial<ResolvedModel> = {}): ResolvedModel {
  return {
    authType: 'anthropic',
    protocol: 'anthropic',
    model: 'claude-sonnet-4-5-20250929',
    baseUrl: '',
    apiKey: 'sk-ant-api03-test-1234',
    generationConfig: {},
    ...overrides,
  };
}

function chat(overrides: Partial<ResolvedModel> = {}, messages?: ChatRequest['messages']): ChatRequest {
  return chatRequest(target(overrides), messages);
}

function bodyOf(request: ChatRequest): Record<string, unknown> {
  return JSON.parse(anthropicAdapter.buildRequest(request).body) as Record<string, unknown>;
}

/** In seeded random slices, as a network would cut the stream. */
function decodeStream(text: string, seed = 1): StreamEvent[] {
  return decodeThroughParser(anthropicAdapter.createDecoder(), text, { seed, minSize: 1, maxSize: 23 });
}

describe('anthropicAdapter.buildRequest', () => {
  test('URL, version header, x-api-key for api.anthropic.com, and the body', () => {
    const request = anthropicAdapter.buildRequest(chat());
    expect(request.url).toBe('https://api.anthropic.com/v1/messages');
    expect(request.headers).toEqual({
      'x-api-key': 'sk-ant-api03-test-1234',
      'anthropic-version': '2023-06-01',
      'Content-Type': 'application/json',
      Accept: 'text/event-stream',
    });
    expect(JSON.parse(request.body)).toEqual({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: defaultAnthropicMaxTokens,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello' }],
      stream: true,
    });
  });

  test('base URLs: trailing slashes, an existing /v1, prefixes kept', () => {
    const url = (baseUrl: string) => anthropicAdapter.buildRequest(chat({ baseUrl })).url;
    expect(url('https://api.anthropic.com/')).toBe('https://api.anthropic.com/v1/messages');
    expect(url('https://coding-intl.dashscope.aliyuncs.com/apps/anthropic')).toBe(
      'https://coding-intl.dashscope.aliyuncs.com/apps/anthropic/v1/messages',
    );
    expect(url('https://coding-intl.dashscope.aliyuncs.com/apps/anthropic/v1//')).toBe(
      'https://coding-intl.dashscope.aliyuncs.com/apps/anthropic/v1/messages',
    );
    expect(url('  http://127.0.0.1:8080  ')).toBe('http://127.0.0.1:8080/v1/messages');
    expect(url('https://gw.example.com/anthropic/v1/?beta=true')).toBe(
      'https://gw.example.com/anthropic/v1/messages?beta=true',
    );
  });

  test('the key goes as a bearer token to any host but anthropic.com', () => {
    const headers = (baseUrl: string) => anthropicAdapter.buildRequest(chat({ baseUrl })).headers;
    expect(headers('https://gateway.example.com')['Authorization']).toBe('Bearer sk-ant-api03-test-1234');
    expect(headers('https://gateway.example.com')['x-api-key']).toBeUndefined();
    expect(headers('https://eu.api.anthropic.com')['x-api-key']).toBe('sk-ant-api03-test-1234');
    // A look-alike host is not Anthropic.
    expect(headers('https://notanthropic.com')['Authorization']).toBe('Bearer sk-ant-api03-test-1234');
  });

  test('ANTHROPIC_AUTH_TOKEN (accessToken) is always a bearer token, even for api.anthropic.com', () => {
    const headers = anthropicAdapter.buildRequest(
      chat({ apiKey: undefined, accessToken: 'oat-token' }),
    ).headers;
    expect(headers['Authorization']).toBe('Bearer oat-token');
    expect(headers['x-api-key']).toBeUndefined();
  });

  test('sampling parameters are mapped; OpenAI-only ones are left out', () => {
    const body = bodyOf(
      chat({
        generationConfig: {
          samplingParams: {
            temperature: 0.2,
            top_p: 0.9,
            top_k: 40,
            max_tokens: 8192,
            stop: 'END',
            presence_penalty: 1,
            frequency_penalty: 1,
          },
        },
      }),
    );
    expect(body['max_tokens']).toBe(8192);
    expect(body['temperature']).toBe(0.2);
    expect(body['top_p']).toBe(0.9);
    expect(body['top_k']).toBe(40);
    expect(body['stop_sequences']).toEqual(['END']);
    expect(body['presence_penalty']).toBeUndefined();
    expect(body['frequency_penalty']).toBeUndefined();
    expect(
      bodyOf(chat({ generationConfig: { samplingParams: { stop: ['a', 'b'] } } }))['stop_sequences'],
    ).toEqual(['a', 'b']);
  });

  test('extra_body is merged last at the top level; customHeaders and extraHeaders are added', () => {
    const request = anthropicAdapter.buildRequest(
      chat({
        extraHeaders: { 'X-From-Auth': 'yes' },
        generationConfig: {
          extra_body: { thinking: { type: 'enabled', budget_tokens: 2048 }, max_tokens: 4096 },
          customHeaders: { 'anthropic-beta': 'interleaved-thinking-2025-05-14', 'X-API-KEY': 'override' },
        },
      }),
    );
    const body = JSON.parse(request.body) as Record<string, unknown>;
    expect(body['thinking']).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(body['max_tokens']).toBe(4096);
    expect(request.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
    expect(request.headers['X-From-Auth']).toBe('yes');
    // One spelling per header: the custom one replaces ours instead of travelling next to it.
    expect(request.headers['X-API-KEY']).toBe('override');
    expect(request.headers['x-api-key']).toBeUndefined();
  });

  test('system turns go to the top; consecutive same-role turns are merged; empty turns dropped', () => {
    const body = bodyOf(
      chat({}, [
        { role: 'system', content: 'Rule one.' },
        { role: 'user', content: 'First' },
        { role: 'system', content: 'Rule two.' },
        { role: 'user', content: 'Second' },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'Third' },
        { role: 'assistant', content: 'Answer' },
        { role: 'assistant', content: 'More' },
        { role: 'user', content: 'Fourth' },
      ]),
    );
    expect(body['system']).toBe('Rule one.\n\nRule two.');
    expect(body['messages']).toEqual([
      { role: 'user', content: 'First\n\nSecond\n\nThird' },
      { role: 'assistant', content: 'Answer\n\nMore' },
      { role: 'user', content: 'Fourth' },
    ]);
  });

  test('no system field without system messages', () => {
    expect(bodyOf(chat({}, [{ role: 'user', content: 'Hi' }]))).not.toHaveProperty('system');
  });
});

describe('anthropicAdapter stream decoding (real SSE parser, random slices)', () => {
  test('text with multi-byte characters, usage and stop reason', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const events = decodeStream(fixture('text.sse'), seed);
      expect(textOf(events)).toBe('Bonjour ! Voici la réponse : 2 × 3 = 6 ✅');
      expect(events.slice(-2)).toEqual([
        {
          type: 'usage',
          usage: { inputTokens: 24, outputTokens: 17, totalTokens: 41, cachedInputTokens: 0 },
        },
        { type: 'done', finishReason: 'end_turn' },
      ]);
    }
  });

  test('server tools (server_tool_use, web_search_tool_result) are no tool calls; the text streams', () => {
    for (const seed of [21, 22, 23]) {
      const events = decodeStream(fixture('server-tools.sse'), seed);
      expect(textOf(events)).toBe('I will look that up. Bun 1.4 came out three weeks ago.');
      expect(events.filter((event) => event.type === 'tool-call')).toEqual([]);
      expect(events.slice(-2)).toEqual([
        {
          type: 'usage',
          usage: { inputTokens: 2170, outputTokens: 61, totalTokens: 2231, cachedInputTokens: 0 },
        },
        { type: 'done', finishReason: 'end_turn' },
      ]);
    }
    // A client tool in the same answer is still one.
    const serverBlocks = fixture('server-tools.sse').split('event: message_delta')[0] ?? '';
    const clientToolUse =
      'event: content_block_start\ndata: {"type":"content_block_start","index":4,"content_block":' +
      '{"type":"tool_use","id":"toolu_1","name":"read_file","input":{}}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":4,"delta":' +
      '{"type":"input_json_delta","partial_json":"{\\"path\\":\\"a.ts\\"}"}}\n\n' +
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":4}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":70}}\n\n' +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    expect(
      decodeStream(serverBlocks + clientToolUse, 24).filter((event) => event.type === 'tool-call'),
    ).toEqual([{ type: 'tool-call', id: 'toolu_1', name: 'read_file', arguments: { path: 'a.ts' } }]);
  });

  test('bare JSON between events (SseMessage.strayJson, for Gemini) changes nothing here', () => {
    const stream = fixture('text.sse');
    const firstEventEnd = stream.indexOf('\n\n') + 2;
    const withStray = `${stream.slice(0, firstEventEnd)}{"type":"error","error":{"type":"api_error"}}\n\n${stream.slice(firstEventEnd)}`;
    expect(decodeStream(withStray, 6)).toEqual(decodeStream(stream, 6));
  });

  test('tool input is assembled per block and parsed at content_block_stop; empty input is {}', () => {
    for (const seed of [11, 12, 13]) {
      const events = decodeStream(fixture('tools.sse'), seed);
      expect(textOf(events)).toBe('Let me look at the file and the git status.');
      expect(events.filter((event) => event.type === 'tool-call')).toEqual([
        {
          type: 'tool-call',
          id: 'toolu_01AbCdEfGh1JkLmNoPqRsTuV',
          name: 'read_file',
          arguments: { path: 'src/main.ts', limit: 40 },
        },
        { type: 'tool-call', id: 'toolu_01WxYz0123AbCdEfGhIjKlMn', name: 'git_status', arguments: {} },
      ]);
      expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'tool_use' });
    }
  });

  test('a tool call is emitted when its block stops, before the message ends', () => {
    const decoder = anthropicAdapter.createDecoder();
    decoder.decode(
      sseMessage(
        'content_block_start',
        '{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"ls","input":{}}}',
      ),
    );
    decoder.decode(
      sseMessage(
        'content_block_delta',
        '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\\"dir\\":\\".\\"}"}}',
      ),
    );
    expect(
      decoder.decode(sseMessage('content_block_stop', '{"type":"content_block_stop","index":0}')),
    ).toEqual([{ type: 'tool-call', id: 'toolu_1', name: 'ls', arguments: { dir: '.' } }]);
  });

  test('thinking deltas become reasoning; cached input is counted in; the latest totals win', () => {
    const events = decodeStream(fixture('thinking.sse'), 21);
    expect(textOf(events, 'reasoning-delta')).toBe(
      'The user wants 17 × 23. 17 × 20 = 340, 17 × 3 = 51, so 391.',
    );
    expect(textOf(events)).toBe('17 × 23 = **391**.');
    // Reasoning comes before the answer, in stream order.
    const firstText = events.findIndex((event) => event.type === 'text-delta');
    const lastReasoning = events.findLastIndex((event) => event.type === 'reasoning-delta');
    expect(lastReasoning).toBeLessThan(firstText);
    expect(events.find((event) => event.type === 'usage')).toEqual({
      type: 'usage',
      usage: {
        inputTokens: 35 + 2048,
        outputTokens: 58,
        totalTokens: 35 + 2048 + 58,
        cachedInputTokens: 2048,
      },
    });
  });

  test('ping, unknown events, unknown delta types, comments, CRLF and `data:` without a space are tolerated', () => {
    const events = decodeStream(fixture('unknown-events.sse'), 31);
    expect(textOf(events)).toBe('Paris is the capital.');
    expect(events.some((event) => event.type === 'error')).toBe(false);
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'end_turn' });
  });

  test('an error event after the 200 keeps the text so far and maps overloaded_error to 529', () => {
    for (const seed of [41, 42, 43]) {
      const events = decodeStream(fixture('error-midstream.sse'), seed);
      expect(textOf(events)).toBe('The first part of the answer made it through');
      expect(events.at(-1)).toEqual({
        type: 'error',
        error: { message: 'Overloaded', status: 529, code: 'overloaded_error' },
      });
      // message_start's usage comes before the error, for a failed run to report.
      expect(events.at(-2)).toEqual({
        type: 'usage',
        usage: { inputTokens: 18, outputTokens: 1, totalTokens: 19 },
      });
      // Nothing (no `done`) after the error.
      expect(events.filter((event) => event.type === 'done')).toEqual([]);
    }
  });

  test('stop_reason refusal is a failure, not a short answer', () => {
    const stream = [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"usage":{"input_tokens":3,"output_tokens":1}}}\n\n',
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I can"}}\n\n',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"refusal"},"usage":{"output_tokens":2}}\n\n',
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ].join('');
    const events = decodeStream(stream, 9);
    expect(textOf(events)).toBe('I can');
    expect(events.slice(-2)).toEqual([
      { type: 'usage', usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 } },
      {
        type: 'error',
        error: { message: 'Claude stopped the answer (stop_reason refusal).', code: 'refusal' },
      },
    ]);
  });

  test('error types map to their HTTP statuses', () => {
    const statusOf = (type: string) => {
      const decoder = anthropicAdapter.createDecoder();
      const [event] = decoder.decode(
        sseMessage('error', JSON.stringify({ type: 'error', error: { type, message: 'x' } })),
      );
      return event?.type === 'error' ? event.error.status : undefined;
    };
    expect(statusOf('rate_limit_error')).toBe(429);
    expect(statusOf('api_error')).toBe(500);
    expect(statusOf('timeout_error')).toBe(504);
    expect(statusOf('overloaded_error')).toBe(529);
    expect(statusOf('something_new')).toBeUndefined();
    // A name Object's prototype has is no error type either.
    expect(statusOf('constructor')).toBeUndefined();
    expect(statusOf('toString')).toBeUndefined();
  });

  test('an `error` event whose data is not JSON still ends the stream as a failure', () => {
    const decoder = anthropicAdapter.createDecoder();
    expect(decoder.decode(sseMessage('error', 'upstream went away'))).toEqual([
      { type: 'error', error: { message: 'upstream went away' } },
    ]);
    expect(decoder.finish()).toEqual([]);
  });

  test('a content delta cut short ends the stream as a failure instead of dropping its words', () => {
    const text = anthropicStream({ text: ['Hello', ' there', '!'] }).replace('" there"}}', '" there"}');
    const events = decodeStream(text, 52);
    expect(textOf(events)).toBe('Hello');
    expect(events.at(-1)).toMatchObject({
      type: 'error',
      error: {
        message: expect.stringContaining('an event is not valid JSON: {"type":"content_block_delta"'),
      },
    });
  });

  test('a ping or an unknown event whose data is not JSON is skipped, as the SDK skips it', () => {
    const text = anthropicStream({ text: ['Hello'] }).replace(
      'event: content_block_start',
      'event: ping\ndata: ping\n\nevent: vendor_heartbeat\ndata: alive\n\nevent: content_block_start',
    );
    const events = decodeStream(text, 53);
    expect(textOf(events)).toBe('Hello');
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'end_turn' });
  });

  test('events without `event:` lines are recognised by their `type`', () => {
    const text = anthropicStream({ text: ['a', 'b'] }).replace(/^event: .*\n/gm, '');
    const events = decodeStream(text, 51);
    expect(textOf(events)).toBe('ab');
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'end_turn' });
  });

  test('a stream cut before its stop reason is a failure, not a short answer', () => {
    const text = anthropicStream({
      text: ['Hal'],
      toolUses: [{ name: 'ls', inputPieces: ['{"dir":', '"src"}'] }],
    });
    const cut = text.slice(0, text.indexOf('event: content_block_stop'));
    const events = decodeStream(cut, 61);
    expect(textOf(events)).toBe('Hal');
    expect(events.at(-1)).toEqual({
      type: 'error',
      error: {
        message: 'the stream ended before the answer was complete (no stop_reason, no message_stop)',
        missing: 'no stop_reason, no message_stop',
      },
    });
  });

  test('message_stop after nothing at all (no block, no stop_reason) ended early; an answer without stop_reason is whole', () => {
    const start =
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":3,"output_tokens":0}}}\n\n';
    const stop = 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    const empty = decodeStream(start + stop, 81);
    expect(empty.at(-1)).toEqual({
      type: 'error',
      error: {
        message:
          'the stream ended before the answer was complete (message_stop before any answer or stop_reason)',
        missing: 'message_stop before any answer or stop_reason',
      },
    });
    const block =
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n';
    const answered = decodeStream(start + block + stop, 82);
    expect(textOf(answered)).toBe('Hi');
    expect(answered.at(-1)).toEqual({ type: 'done' });
    // Thinking alone is no answer: without a stop_reason, that stream was cut short too.
    const thinking =
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}}\n\n';
    expect(decodeStream(start + thinking + stop, 83).at(-1)).toMatchObject({
      type: 'error',
      error: { missing: 'message_stop before any answer or stop_reason' },
    });
  });

  test('the builder used by the fake server decodes to what it was given', () => {
    const events = decodeStream(
      anthropicStream({
        thinking: ['Hmm', '.'],
        text: ['Hi', ' there'],
        toolUses: [{ id: 'toolu_x', name: 'run', inputPieces: ['{"cmd"', ':"ls"}'] }],
        outputTokens: 30,
      }),
      71,
    );
    expect(textOf(events, 'reasoning-delta')).toBe('Hmm.');
    expect(textOf(events)).toBe('Hi there');
    expect(events.filter((event) => event.type === 'tool-call')).toEqual([
      { type: 'tool-call', id: 'toolu_x', name: 'run', arguments: { cmd: 'ls' } },
    ]);
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'tool_use' });
  });
});

describe('anthropicAdapter.parseErrorBody', () => {
  test('Anthropic error bodies: message and type', () => {
    expect(anthropicAdapter.parseErrorBody(400, fixture('error-400.json'))).toEqual({
      message:
        'max_tokens: 64000 > 32000, which is the maximum allowed number of output tokens for claude-opus-4-1-20250805',
      code: 'invalid_request_error',
    });
    expect(anthropicAdapter.parseErrorBody(529, fixture('error-529.json'))).toEqual({
      message: 'Overloaded',
      code: 'overloaded_error',
    });
    expect(anthropicAdapter.parseErrorBody(429, fixture('error-429.json')).doNotRetry).toBeUndefined();
    expect(anthropicAdapter.parseErrorBody(500, fixture('error-500.json')).code).toBe('api_error');
    expect(anthropicAdapter.parseErrorBody(404, fixture('error-404.json')).message).toBe(
      'model: claude-sonnet-9',
    );
  });

  test('401 and 403 are authentication failures', () => {
    expect(anthropicAdapter.parseErrorBody(401, fixture('error-401.json'))).toEqual({
      message: 'invalid x-api-key',
      code: 'authentication_error',
      isAuthFailure: true,
    });
    expect(anthropicAdapter.parseErrorBody(403, fixture('error-403.json')).isAuthFailure).toBe(true);
    expect(anthropicAdapter.parseErrorBody(401, fixture('error-401-gateway.json'))).toMatchObject({
      code: 'invalid_api_key',
      isAuthFailure: true,
    });
  });

  test('plain text and HTML bodies become one line', () => {
    expect(
      anthropicAdapter.parseErrorBody(502, '<html><head><title>502 Bad Gateway</title></head></html>'),
    ).toEqual({
      message: '502 Bad Gateway',
    });
    expect(anthropicAdapter.parseErrorBody(503, '')).toEqual({ message: 'HTTP 503' });
    expect(anthropicAdapter.parseErrorBody(413, 'x'.repeat(2000)).message).toHaveLength(500);
  });

  test('a spent balance is not retried', () => {
    const body = JSON.stringify({
      type: 'error',
      error: { type: 'billing_error', message: 'Your credit balance is too low.' },
    });
    expect(anthropicAdapter.parseErrorBody(400, body).doNotRetry).toBe(true);
  });
});

test('adapterFor("anthropic") is this adapter', () => {
  expect(adapterFor('anthropic')).toBe(anthropicAdapter);
});

test('a whole message from a server that ignored stream: true decodes as its stream would', () => {
  const reply = {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [
      { type: 'thinking', thinking: 'Weather first.', signature: 'sig' },
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Lyon' } },
    ],
    stop_reason: 'tool_use',
    usage: { input_tokens: 12, output_tokens: 30 },
  };
  const events = decodeWholeReply(anthropicAdapter, reply) ?? [];
  expect(events).toContainEqual({ type: 'reasoning-delta', text: 'Weather first.' });
  expect(events).toContainEqual({ type: 'text-delta', text: 'Let me check.' });
  expect(events).toContainEqual({
    type: 'tool-call',
    id: 'toolu_1',
    name: 'get_weather',
    arguments: { city: 'Lyon' },
  });
  expect(events).toContainEqual(
    expect.objectContaining({
      type: 'usage',
      usage: expect.objectContaining({ inputTokens: 12, outputTokens: 30 }),
    }),
  );
  expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'tool_use' });
  for (const other of [{ type: 'error', error: {} }, { type: 'message' }, [], null]) {
    expect(anthropicAdapter.chunksOfWholeReply?.(other)).toBeUndefined();
  }
});

describe('signed thinking in later turns', () => {
  const signature = 'ErUBCkYIBRgCIkDq0cN3mZ8Wb1fakeSignatureForTestsOnlyQ2xhdWRlLWxpdGU=';
  const thinking = 'The user wants 17 × 23. 17 × 20 = 340, 17 × 3 = 51, so 391.';

  test('the decoder keeps thinking blocks with their signature, then the text, as they came', () => {
    for (const seed of [1, 2, 3]) {
      expect(signedReplyOf(anthropicAdapter, fixture('thinking.sse'), seed)).toEqual([
        { type: 'thinking', thinking, signature },
        { type: 'text', text: '17 × 23 = **391**.' },
      ]);
    }
  });

  test('nothing is kept without signed thinking, or when not asked (one-shot runs)', () => {
    expect(signedReplyOf(anthropicAdapter, fixture('text.sse'))).toBeUndefined();
    const decoder = anthropicAdapter.createDecoder();
    decodeThroughParser(decoder, fixture('thinking.sse'));
    expect(decoder.signedReply?.()).toBeUndefined();
  });

  test('redacted_thinking keeps its data; unsigned thinking and empty text blocks are left out', () => {
    const decoder = anthropicAdapter.createDecoder({ keepSignedReply: true });
    const reply = {
      type: 'message',
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'unsigned', signature: '' },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
        { type: 'text', text: '' },
        { type: 'text', text: 'Answer.' },
      ],
      stop_reason: 'end_turn',
    };
    for (const data of anthropicAdapter.chunksOfWholeReply?.(reply) ?? []) {
      decoder.decode(sseMessage('message', data));
    }
    decoder.finish();
    expect(decoder.signedReply?.()).toEqual([
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
      { type: 'text', text: 'Answer.' },
    ]);
  });

  const blocks = [
    { type: 'thinking', thinking, signature },
    { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
    { type: 'text', text: '17 × 23 = **391**.' },
  ];
  /** A conversation whose answer came from `origin` with signed thinking. */
  function history(origin: ResolvedModel): Message[] {
    return [
      { role: 'user', content: 'What is 17 × 23?' },
      {
        role: 'assistant',
        content: '17 × 23 = **391**.',
        signedReply: { origin: replyOriginOf(origin), parts: blocks },
      },
      { role: 'user', content: 'And divided by 17?' },
    ];
  }

  test('the assistant turn goes back to the model that made it as its blocks, unchanged', () => {
    expect(bodyOf(chat({}, history(target())))['messages']).toEqual([
      { role: 'user', content: 'What is 17 × 23?' },
      { role: 'assistant', content: blocks },
      { role: 'user', content: 'And divided by 17?' },
    ]);
    // A trailing slash is the same endpoint.
    const slashed = history(target({ baseUrl: 'https://api.anthropic.com/' }));
    const sent = bodyOf(chat({ baseUrl: 'https://api.anthropic.com' }, slashed))['messages'];
    expect((sent as Record<string, unknown>[])[1]).toEqual({ role: 'assistant', content: blocks });
  });

  test('another provider, endpoint or model gets the text only: the signatures are not valid there', () => {
    const asText = [
      { role: 'user', content: 'What is 17 × 23?' },
      { role: 'assistant', content: '17 × 23 = **391**.' },
      { role: 'user', content: 'And divided by 17?' },
    ];
    const others = [
      target({ authType: 'gemini', protocol: 'gemini', model: 'claude-sonnet-4-5-20250929' }),
      target({ baseUrl: 'https://dashscope-intl.aliyuncs.com/apps/anthropic' }),
      target({ model: 'claude-opus-4-1' }),
    ];
    for (const other of others) expect(bodyOf(chat({}, history(other)))['messages']).toEqual(asText);
  });

  test('a signed reply joined with another assistant turn is sent as the joined text', () => {
    const messages = [...history(target()).slice(0, 2), { role: 'assistant' as const, content: 'More.' }];
    expect(bodyOf(chat({}, messages))['messages']).toEqual([
      { role: 'user', content: 'What is 17 × 23?' },
      { role: 'assistant', content: '17 × 23 = **391**.\n\nMore.' },
    ]);
  });
});
