import { describe, expect, test } from 'bun:test';
import type { StreamEvent } from '../../src/core/events.ts';
import { replyOriginOf } from '../../src/core/signed-reply.ts';
import { sseMessage } from '../../src/core/sse.ts';
import type { ChatRequest, Message, ResolvedModel } from '../../src/core/types.ts';
import { geminiAdapter, modelResourcePath, vertexAdapter } from '../../src/protocols/gemini.ts';
import { adapterFor } from '../../src/protocols/index.ts';
import { geminiStream } from '../fakes/gemini-server.ts';
import {
  chatRequest as chat,
  decodeThroughParser,
  decodeWholeReply,
  fixtureReader,
  signedReplyOf,
  textOf,
} from './helpers.ts';

const fixture = fixtureReader('gemini');

function target(overrides: Partial<ResolvedModel> = {}): ResolvedModel {
  return {
    authType: 'gemini',
    protocol: 'gemini',
    model: 'gemini-2.5-flash',
    baseUrl: '',
    apiKey: 'AIzaSyTestKey0123456789',
    generationConfig: {},
    ...overrides,
  };
}

function vertexTarget(overrides: Partial<ResolvedModel> = {}): ResolvedModel {
  return target({ authType: 'vertex-ai', protocol: 'vertex-ai', ...overrides });
}

function bodyOf(resolved: ResolvedModel, messages?: ChatRequest['messages']): Record<string, unknown> {
  return JSON.parse(geminiAdapter.buildRequest(chat(resolved, messages)).body) as Record<string, unknown>;
}

/** In seeded random slices, as a network would cut the stream. */
function decodeStream(text: string, seed = 1): StreamEvent[] {
  return decodeThroughParser(geminiAdapter.createDecoder(), text, { seed, minSize: 1, maxSize: 29 });
}

describe('geminiAdapter.buildRequest', () => {
  test('URL with alt=sse, the key only in x-goog-api-key, and the body', () => {
    const request = geminiAdapter.buildRequest(chat(target()));
    expect(request.url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
    expect(request.url).not.toContain('AIza');
    expect(request.headers).toEqual({
      'x-goog-api-key': 'AIzaSyTestKey0123456789',
      'Content-Type': 'application/json',
      Accept: 'text/event-stream',
    });
    expect(JSON.parse(request.body)).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hello' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
    });
  });

  test('a configured base URL replaces the host; a trailing /v1beta is not doubled', () => {
    const url = (baseUrl: string, model = 'gemini-2.5-pro') =>
      geminiAdapter.buildRequest(chat(target({ baseUrl, model }))).url;
    expect(url('http://127.0.0.1:9000/')).toBe(
      'http://127.0.0.1:9000/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
    expect(url('https://proxy.example.com/gemini/v1beta')).toBe(
      'https://proxy.example.com/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
    expect(url('', 'models/gemini-2.5-pro')).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
    // A gateway's own query joins alt=sse.
    expect(url('https://gw.example.com/gemini/?team=a')).toBe(
      'https://gw.example.com/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&team=a',
    );
  });

  test('roles user/model, consecutive same-role turns merged, system turns joined, empty turns dropped', () => {
    const body = bodyOf(target(), [
      { role: 'system', content: 'One.' },
      { role: 'user', content: 'A' },
      { role: 'user', content: 'B' },
      { role: 'system', content: 'Two.' },
      { role: 'assistant', content: 'C' },
      { role: 'user', content: '' },
      { role: 'assistant', content: 'D' },
      { role: 'user', content: 'E' },
    ]);
    expect(body['systemInstruction']).toEqual({ parts: [{ text: 'One.\n\nTwo.' }] });
    expect(body['contents']).toEqual([
      { role: 'user', parts: [{ text: 'A\n\nB' }] },
      { role: 'model', parts: [{ text: 'C\n\nD' }] },
      { role: 'user', parts: [{ text: 'E' }] },
    ]);
    expect(bodyOf(target(), [{ role: 'user', content: 'Hi' }])).not.toHaveProperty('systemInstruction');
  });

  test('samplingParams map to generationConfig; unknown ones are left out', () => {
    const body = bodyOf(
      target({
        generationConfig: {
          samplingParams: {
            temperature: 0.3,
            top_p: 0.95,
            top_k: 64,
            max_tokens: 2048,
            stop: 'END',
            presence_penalty: 1,
            frequency_penalty: -0.5,
            reasoning_effort: 'low',
          },
        },
      }),
    );
    expect(body['generationConfig']).toEqual({
      temperature: 0.3,
      topP: 0.95,
      topK: 64,
      maxOutputTokens: 2048,
      stopSequences: ['END'],
      presencePenalty: 1,
      frequencyPenalty: -0.5,
    });
    // Zero is a value; an empty stop list says nothing.
    const zeros = bodyOf(
      target({
        generationConfig: { samplingParams: { presence_penalty: 0, frequency_penalty: 0, stop: [] } },
      }),
    );
    expect(zeros['generationConfig']).toEqual({ presencePenalty: 0, frequencyPenalty: 0 });
  });

  test('extra_body merges at the top level, and into generationConfig rather than replacing it', () => {
    const body = bodyOf(
      target({
        generationConfig: {
          samplingParams: { temperature: 0.5 },
          extra_body: {
            generationConfig: { thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 } },
            safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
          },
        },
      }),
    );
    expect(body['generationConfig']).toEqual({
      temperature: 0.5,
      thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 },
    });
    expect(body['safetySettings']).toEqual([
      { category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' },
    ]);
  });

  test('customHeaders and extraHeaders are added', () => {
    const headers = geminiAdapter.buildRequest(
      chat(target({ extraHeaders: { 'X-A': '1' }, generationConfig: { customHeaders: { 'X-B': '2' } } })),
    ).headers;
    expect(headers['X-A']).toBe('1');
    expect(headers['X-B']).toBe('2');
  });
});

describe('vertexAdapter.buildRequest', () => {
  test('express mode: aiplatform.googleapis.com/v1beta1/publishers path with x-goog-api-key', () => {
    const request = vertexAdapter.buildRequest(chat(vertexTarget()));
    expect(request.url).toBe(
      'https://aiplatform.googleapis.com/v1beta1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
    expect(request.headers['x-goog-api-key']).toBe('AIzaSyTestKey0123456789');
    expect(request.headers['Authorization']).toBeUndefined();
    expect(vertexAdapter.buildRequest(chat(vertexTarget({ baseUrl: 'http://127.0.0.1:7000/' }))).url).toBe(
      'http://127.0.0.1:7000/v1beta1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
  });

  test('project mode: regional host, project and location in the path, bearer token', () => {
    const project = (location: string, baseUrl = '') =>
      vertexAdapter.buildRequest(
        chat(
          vertexTarget({
            apiKey: undefined,
            accessToken: 'ya29.token',
            googleCloud: { project: 'my-project', location },
            baseUrl,
          }),
        ),
      );
    const regional = project('europe-west4');
    expect(regional.url).toBe(
      'https://europe-west4-aiplatform.googleapis.com/v1beta1/projects/my-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
    expect(regional.headers['Authorization']).toBe('Bearer ya29.token');
    expect(regional.headers['x-goog-api-key']).toBeUndefined();
    expect(project('global').url).toBe(
      'https://aiplatform.googleapis.com/v1beta1/projects/my-project/locations/global/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
    expect(
      project('us').url.startsWith(
        'https://aiplatform.us.rep.googleapis.com/v1beta1/projects/my-project/locations/us/',
      ),
    ).toBe(true);
    expect(project('us-central1', 'http://127.0.0.1:7000').url).toBe(
      'http://127.0.0.1:7000/v1beta1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
  });

  test('an API key wins over project settings (express mode)', () => {
    const request = vertexAdapter.buildRequest(
      chat(vertexTarget({ googleCloud: { project: 'p', location: 'global' }, accessToken: 'ya29.token' })),
    );
    expect(request.url).toContain('/v1beta1/publishers/google/models/');
    expect(request.headers['x-goog-api-key']).toBe('AIzaSyTestKey0123456789');
    expect(request.headers['Authorization']).toBeUndefined();
  });

  test('same body as the Gemini API', () => {
    const request = chat(vertexTarget({ generationConfig: { samplingParams: { top_k: 5 } } }));
    expect(vertexAdapter.buildRequest(request).body).toBe(geminiAdapter.buildRequest(request).body);
  });
});

describe('modelResourcePath: model ids as @google/genai names them', () => {
  test('Gemini API: a bare id under models/, models/ and tunedModels/ names kept', () => {
    expect(modelResourcePath('gemini', 'gemini-2.5-pro')).toBe('models/gemini-2.5-pro');
    expect(modelResourcePath('gemini', ' models/gemini-2.5-pro ')).toBe('models/gemini-2.5-pro');
    expect(modelResourcePath('gemini', 'tunedModels/my-tuned-7')).toBe('tunedModels/my-tuned-7');
  });

  test('Vertex AI: google by default, publisher/model, resource names kept', () => {
    expect(modelResourcePath('vertex', 'gemini-2.5-pro')).toBe('publishers/google/models/gemini-2.5-pro');
    expect(modelResourcePath('vertex', 'anthropic/claude-sonnet-4@20250514')).toBe(
      'publishers/anthropic/models/claude-sonnet-4%4020250514',
    );
    expect(modelResourcePath('vertex', 'publishers/google/models/gemini-2.5-pro')).toBe(
      'publishers/google/models/gemini-2.5-pro',
    );
    // As the Gemini API lists them: Google's model there too.
    expect(modelResourcePath('vertex', 'models/gemini-2.5-pro')).toBe(
      'publishers/google/models/gemini-2.5-pro',
    );
    expect(modelResourcePath('vertex', 'projects/p/locations/us-central1/endpoints/123')).toBe(
      'projects/p/locations/us-central1/endpoints/123',
    );
  });

  test('each part is escaped; empty, "." and ".." parts are refused (exit 42)', () => {
    expect(modelResourcePath('gemini', 'gemini?alt=json&x=1')).toBe('models/gemini%3Falt%3Djson%26x%3D1');
    for (const model of ['tunedModels/../../v1/files', 'models/%2e%2E', 'tunedModels/', 'a//b', 'models/.']) {
      expect(() => modelResourcePath('gemini', model)).toThrow(expect.objectContaining({ exitCode: 42 }));
    }
  });
});

describe('Gemini and Vertex AI URLs for resource names', () => {
  test('a tuned model on the Gemini API; an endpoint in project mode; a publisher in express mode', () => {
    expect(geminiAdapter.buildRequest(chat(target({ model: 'tunedModels/my-tuned' }))).url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/tunedModels/my-tuned:streamGenerateContent?alt=sse',
    );
    const endpoint = vertexAdapter.buildRequest(
      chat(
        vertexTarget({
          apiKey: undefined,
          accessToken: 'ya29.token',
          googleCloud: { project: 'my-project', location: 'us-central1' },
          model: 'projects/my-project/locations/us-central1/endpoints/42',
        }),
      ),
    );
    expect(endpoint.url).toBe(
      'https://us-central1-aiplatform.googleapis.com/v1beta1/projects/my-project/locations/us-central1/endpoints/42:streamGenerateContent?alt=sse',
    );
    expect(vertexAdapter.buildRequest(chat(vertexTarget({ model: 'meta/llama-4' }))).url).toBe(
      'https://aiplatform.googleapis.com/v1beta1/publishers/meta/models/llama-4:streamGenerateContent?alt=sse',
    );
  });
});

describe('Gemini stream decoding (real SSE parser, random slices, CRLF framing)', () => {
  test('text with multi-byte characters, running usage totals (the last wins), finish reason', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const events = decodeStream(fixture('text.sse'), seed);
      expect(textOf(events)).toBe('Hallo! Die Antwort lautet: 42 — größer geht’s nicht.');
      expect(events.slice(-2)).toEqual([
        {
          type: 'usage',
          usage: { inputTokens: 11, outputTokens: 15, totalTokens: 58, reasoningTokens: 32 },
        },
        { type: 'done', finishReason: 'STOP' },
      ]);
    }
  });

  test('thought parts become reasoning; cached tokens are reported', () => {
    const events = decodeStream(fixture('thinking.sse'), 7);
    expect(textOf(events, 'reasoning-delta')).toBe(
      '**Checking the numbers**\n\nThe user asks for 17 × 23. 340 + 51 = 391.',
    );
    expect(textOf(events)).toBe('17 × 23 = **391**.');
    expect(events.find((event) => event.type === 'usage')).toEqual({
      type: 'usage',
      usage: {
        inputTokens: 14,
        outputTokens: 9,
        totalTokens: 119,
        cachedInputTokens: 8,
        reasoningTokens: 96,
      },
    });
  });

  test('functionCall parts are whole tool calls; ids from the part or generated', () => {
    for (const seed of [11, 12, 13]) {
      const events = decodeStream(fixture('tools.sse'), seed);
      expect(textOf(events)).toBe("I'll read both files.");
      expect(events.filter((event) => event.type === 'tool-call')).toEqual([
        { type: 'tool-call', id: 'call_1', name: 'read_file', arguments: { path: 'src/main.ts', limit: 40 } },
        { type: 'tool-call', id: 'fc-7f3a2b', name: 'read_file', arguments: { path: 'package.json' } },
        { type: 'tool-call', id: 'call_3', name: 'git_status', arguments: {} },
      ]);
      expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'STOP' });
    }
  });

  test('a blocked prompt is an error naming the reason, not an empty answer', () => {
    const events = decodeStream(fixture('prompt-blocked.sse'), 21);
    expect(events).toEqual([
      // The blocked prompt's tokens were counted: a failed run still reports them.
      { type: 'usage', usage: { inputTokens: 12, outputTokens: 0, totalTokens: 12 } },
      {
        type: 'error',
        error: {
          message: 'The prompt was blocked by Gemini (PROHIBITED_CONTENT).',
          code: 'PROHIBITED_CONTENT',
        },
      },
    ]);
  });

  test('a safety stop after some text is a failure, not a short answer', () => {
    const stream =
      'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Partial"}]},"index":0}]}\r\n\r\n' +
      'data: {"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"SAFETY","index":0}]}\r\n\r\n';
    const events = decodeStream(stream, 5);
    expect(textOf(events)).toBe('Partial');
    expect(events.at(-1)).toEqual({
      type: 'error',
      error: { message: 'Gemini cut the answer off (finishReason SAFETY).', code: 'SAFETY' },
    });
  });

  test('MALFORMED_FUNCTION_CALL is a failure quoting finishMessage; the text before it is kept', () => {
    for (const seed of [61, 62, 63]) {
      const events = decodeStream(fixture('malformed-function-call.sse'), seed);
      expect(textOf(events)).toBe('Let me compute that with the tool.');
      expect(events.slice(-2)).toEqual([
        { type: 'usage', usage: { inputTokens: 21, outputTokens: 8, totalTokens: 41, reasoningTokens: 12 } },
        {
          type: 'error',
          error: {
            message:
              'The model produced a malformed function call (finishReason MALFORMED_FUNCTION_CALL): Malformed function call: print(sum(range(10))',
            code: 'MALFORMED_FUNCTION_CALL',
          },
        },
      ]);
      expect(events.filter((event) => event.type === 'done' || event.type === 'tool-call')).toEqual([]);
    }
  });

  test('every finish reason that ends an answer short is a failure naming it; the others end it', () => {
    const filters = ['SAFETY', 'RECITATION', 'LANGUAGE', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII'];
    const imageFilters = ['IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION'];
    const failures: [string, string][] = [
      ...[...filters, ...imageFilters].map((reason): [string, string] => [
        reason,
        'Gemini cut the answer off',
      ]),
      ['MALFORMED_FUNCTION_CALL', 'The model produced a malformed function call'],
      ['UNEXPECTED_TOOL_CALL', 'The model called a tool it was not offered'],
      ['TOO_MANY_TOOL_CALLS', 'The model made too many tool calls in a row'],
      [
        'MISSING_THOUGHT_SIGNATURE',
        'Gemini refused the conversation: a thought signature of an earlier call is missing',
      ],
      ['MALFORMED_RESPONSE', 'Gemini produced a malformed response'],
      ['NO_IMAGE', 'The model was to produce an image and produced none'],
      ['IMAGE_OTHER', 'Gemini stopped the image'],
      ['OTHER', 'Gemini stopped the answer for a reason it did not name'],
    ];
    for (const [reason, description] of failures) {
      const events = decodeStream(geminiStream({ text: ['Partial'], finishReason: reason }), 71);
      expect(textOf(events)).toBe('Partial');
      expect(events.at(-1)).toEqual({
        type: 'error',
        error: { message: `${description} (finishReason ${reason}).`, code: reason },
      });
    }
    // A length is a finish, and so is a reason newer than this adapter: neither is reported as an error.
    for (const reason of ['STOP', 'MAX_TOKENS', 'FINISH_REASON_UNSPECIFIED', 'SOME_FUTURE_REASON']) {
      const events = decodeStream(geminiStream({ text: ['Whole'], finishReason: reason }), 72);
      expect(events.at(-1)).toEqual({ type: 'done', finishReason: reason });
    }
  });

  test('a finishMessage is quoted, cut when long; a blank one is left out', () => {
    const messageOf = (finishMessage: string): string | undefined => {
      const events = decodeStream(geminiStream({ finishReason: 'UNEXPECTED_TOOL_CALL', finishMessage }), 81);
      const last = events.at(-1);
      return last?.type === 'error' ? last.error.message : undefined;
    };
    expect(messageOf('  \n ')).toBe(
      'The model called a tool it was not offered (finishReason UNEXPECTED_TOOL_CALL).',
    );
    const long = messageOf(`Unexpected tool call: ${'x'.repeat(2000)}`) ?? '';
    expect(
      long.startsWith('The model called a tool it was not offered (finishReason UNEXPECTED_TOOL_CALL): '),
    ).toBe(true);
    expect(long.endsWith('...')).toBe(true);
    expect(long.length).toBeLessThan(600);
  });

  test('an error event midway keeps the text so far and carries the status', () => {
    for (const seed of [31, 32, 33]) {
      const events = decodeStream(fixture('error-midstream.sse'), seed);
      expect(textOf(events)).toBe('Here is the beginning of a long answer');
      expect(events.at(-1)).toEqual({
        type: 'error',
        error: {
          message: 'The model is overloaded. Please try again later.',
          status: 503,
          code: 'UNAVAILABLE',
        },
      });
      // The usage of the last chunk before the error comes first, for a failed run to report.
      expect(events.at(-2)).toEqual({
        type: 'usage',
        usage: { inputTokens: 9, outputTokens: 8, totalTokens: 17 },
      });
      expect(events.filter((event) => event.type === 'done')).toEqual([]);
    }
  });

  test('an error event asks for its wait in RetryInfo as an error body does; a daily quota is not retried', () => {
    const exhausted = (details: unknown[]) => {
      const events = decodeStream(
        geminiStream({
          text: ['Par', 'tial'],
          error: { code: 429, message: 'Resource exhausted.', status: 'RESOURCE_EXHAUSTED', details },
        }),
        91,
      );
      expect(textOf(events)).toBe('Partial');
      const last = events.at(-1);
      return last?.type === 'error' ? last.error : undefined;
    };
    const retryInfo = (retryDelay: unknown) => ({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay,
    });
    expect(exhausted([retryInfo('2s')])).toEqual({
      message: 'Resource exhausted.',
      status: 429,
      code: 'RESOURCE_EXHAUSTED',
      retryAfterMs: 2000,
    });
    expect(exhausted([retryInfo('34.4s')])?.retryAfterMs).toBe(34_400);
    expect(exhausted([retryInfo('0.5s')])?.retryAfterMs).toBe(500);
    expect(exhausted([retryInfo({ seconds: 1, nanos: 250_000_000 })])?.retryAfterMs).toBe(1250);
    expect(exhausted([retryInfo('soon')])).not.toHaveProperty('retryAfterMs');
    expect(exhausted([])).not.toHaveProperty('retryAfterMs');
    // The same rule as for an error body: a spent daily quota does not come back by waiting.
    const daily = exhausted([
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' }],
      },
      retryInfo('26460s'),
    ]);
    expect(daily?.doNotRetry).toBe(true);
  });

  test('a bare error object after the last event (no `data:`) ends the stream with its message', () => {
    const hello = geminiStream({ text: ['Hello'] }).split('\r\n\r\n')[0];
    const bare = '{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}';
    const failure: StreamEvent = {
      type: 'error',
      error: { message: 'Internal error encountered.', status: 500, code: 'INTERNAL' },
    };
    const endings = [bare, `${bare}\r\n`, `[${bare}]\r\n\r\n`, JSON.stringify(JSON.parse(bare), null, 2)];
    for (const [position, ending] of endings.entries()) {
      for (const seed of [101, 102, 103]) {
        const events = decodeStream(`${hello}\r\n\r\n${ending}`, seed + position * 10);
        expect(textOf(events)).toBe('Hello');
        expect(events.at(-1)).toEqual(failure);
        expect(events.filter((event) => event.type === 'done')).toEqual([]);
      }
    }
    // Bare JSON that is no error says nothing: the stream's own end decides.
    const events = decodeStream(`${geminiStream({ text: ['Whole'] })}{"note":"x"}\r\n`, 104);
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'STOP' });
  });

  test('Vertex chunks (createTime, trafficType-only usage early on) decode the same way', () => {
    const events = decodeStream(fixture('vertex-text.sse'), 41);
    expect(textOf(events)).toBe('Vertex says hello from europe-west4.');
    expect(events.filter((event) => event.type === 'usage')).toEqual([
      { type: 'usage', usage: { inputTokens: 7, outputTokens: 8, totalTokens: 40, reasoningTokens: 25 } },
    ]);
  });

  test('a data line that is not JSON ends the stream as a failure', () => {
    const decoder = vertexAdapter.createDecoder();
    expect(decoder.decode(sseMessage('message', '{"candidates":[{"content":'))).toEqual([
      { type: 'error', error: { message: 'an event is not valid JSON: {"candidates":[{"content":' } },
    ]);
    expect(decoder.finish()).toEqual([]);
  });

  test('a stream with no usage at all ends with just done; JSON that is no object is ignored', () => {
    const decoder = vertexAdapter.createDecoder();
    expect(decoder.decode(sseMessage('message', 'null'))).toEqual([]);
    expect(decoder.decode(sseMessage('message', ''))).toEqual([]);
    expect(
      decoder.decode(
        sseMessage('message', '{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"STOP"}]}'),
      ),
    ).toEqual([{ type: 'text-delta', text: 'x' }]);
    expect(decoder.finish()).toEqual([{ type: 'done', finishReason: 'STOP' }]);
  });

  test('a stream cut before any finishReason is a failure, the text kept', () => {
    const decoder = geminiAdapter.createDecoder();
    expect(
      decoder.decode(sseMessage('message', '{"candidates":[{"content":{"parts":[{"text":"x"}]}}]}')),
    ).toEqual([{ type: 'text-delta', text: 'x' }]);
    expect(decoder.finish()).toEqual([
      {
        type: 'error',
        error: {
          message: 'the stream ended before the answer was complete (no finishReason)',
          missing: 'no finishReason',
        },
      },
    ]);
  });

  test('the builder used by the fake server decodes to what it was given', () => {
    const events = decodeStream(
      geminiStream({
        thoughts: ['Hmm'],
        text: ['Hi', ' there'],
        functionCalls: [{ name: 'ls', args: { dir: '.' } }],
      }),
      51,
    );
    expect(textOf(events, 'reasoning-delta')).toBe('Hmm');
    expect(textOf(events)).toBe('Hi there');
    expect(events.filter((event) => event.type === 'tool-call')).toEqual([
      { type: 'tool-call', id: 'call_1', name: 'ls', arguments: { dir: '.' } },
    ]);
  });
});

describe('parseErrorBody', () => {
  test('400 API_KEY_INVALID is an auth failure that names GEMINI_API_KEY (GOOGLE_API_KEY for Vertex)', () => {
    const gemini = geminiAdapter.parseErrorBody(400, fixture('error-400-invalid-key.json'));
    expect(gemini.isAuthFailure).toBe(true);
    expect(gemini.code).toBe('API_KEY_INVALID');
    expect(gemini.message).toContain('API key not valid');
    expect(gemini.message).toContain('GEMINI_API_KEY');
    const vertex = vertexAdapter.parseErrorBody(400, fixture('error-400-invalid-key.json'));
    expect(vertex.isAuthFailure).toBe(true);
    expect(vertex.message).toContain('GOOGLE_API_KEY');
    // The message alone is enough (proxies that drop details).
    const bare = JSON.stringify({
      error: { code: 400, message: 'API key not valid. Please pass a valid API key.' },
    });
    expect(geminiAdapter.parseErrorBody(400, bare).isAuthFailure).toBe(true);
  });

  test('other 400s are not auth failures', () => {
    expect(geminiAdapter.parseErrorBody(400, fixture('error-400-invalid-argument.json'))).toEqual({
      message: '* GenerateContentRequest.generation_config.top_k: must be less than or equal to 64',
      code: 'INVALID_ARGUMENT',
    });
  });

  test('429 RESOURCE_EXHAUSTED: retryDelay from RetryInfo; a daily quota is not retried', () => {
    expect(geminiAdapter.parseErrorBody(429, fixture('error-429.json'))).toEqual({
      message: 'You exceeded your current quota, please check your plan and billing details.',
      code: 'RESOURCE_EXHAUSTED',
      retryAfterMs: 1200,
    });
    const daily = geminiAdapter.parseErrorBody(429, fixture('error-429-daily.json'));
    expect(daily.retryAfterMs).toBe(26_460_000);
    expect(daily.doNotRetry).toBe(true);
    const recordedShape = JSON.stringify({
      error: { code: 429, message: 'q', status: 'RESOURCE_EXHAUSTED', details: [{ retryDelay: '34.4s' }] },
    });
    expect(geminiAdapter.parseErrorBody(429, recordedShape).retryAfterMs).toBe(34_400);
  });

  test('401/403 are auth failures; 404 and 503 are not', () => {
    expect(vertexAdapter.parseErrorBody(401, fixture('error-401-vertex.json'))).toMatchObject({
      code: 'UNAUTHENTICATED',
      isAuthFailure: true,
    });
    expect(geminiAdapter.parseErrorBody(403, fixture('error-403.json')).isAuthFailure).toBe(true);
    expect(geminiAdapter.parseErrorBody(404, fixture('error-404.json'))).toEqual({
      message:
        'models/gemini-9.9-ultra is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.',
      code: 'NOT_FOUND',
    });
    expect(geminiAdapter.parseErrorBody(503, fixture('error-503.json'))).toEqual({
      message: 'The model is overloaded. Please try again later.',
      code: 'UNAVAILABLE',
    });
  });

  test('array-wrapped bodies, HTML and empty bodies', () => {
    const wrapped = JSON.stringify([
      { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } },
    ]);
    expect(vertexAdapter.parseErrorBody(500, wrapped)).toEqual({
      message: 'Internal error encountered.',
      code: 'INTERNAL',
    });
    expect(geminiAdapter.parseErrorBody(404, '<html><title>Error 404 (Not Found)!!1</title></html>')).toEqual(
      {
        message: 'Error 404 (Not Found)!!1',
      },
    );
    expect(geminiAdapter.parseErrorBody(502, '')).toEqual({ message: 'HTTP 502' });
  });
});

test('adapterFor maps gemini and vertex-ai to these adapters', () => {
  expect(adapterFor('gemini')).toBe(geminiAdapter);
  expect(adapterFor('vertex-ai')).toBe(vertexAdapter);
});

test('a whole generateContent reply, or the JSON array streamGenerateContent sends without alt=sse, is the stream', () => {
  const chunk = (text: string, finishReason?: string) => ({
    candidates: [
      { content: { role: 'model', parts: [{ text }] }, ...(finishReason ? { finishReason } : {}) },
    ],
  });
  for (const reply of [[chunk('Hello'), chunk(' there', 'STOP')], chunk('Hello there', 'STOP')]) {
    const events = decodeWholeReply(geminiAdapter, reply) ?? [];
    expect(textOf(events)).toBe('Hello there');
    expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'STOP' });
  }
  for (const reply of [{ hello: 'world' }, [], [chunk('x'), 'text'], null]) {
    expect(vertexAdapter.chunksOfWholeReply?.(reply)).toBeUndefined();
  }
  const decodeReply = (reply: unknown) => decodeWholeReply(geminiAdapter, reply) ?? [];
  // A blocked prompt's whole reply says so, as its chunk would in a stream.
  expect(decodeReply({ promptFeedback: { blockReason: 'SAFETY' } }).at(-1)).toMatchObject({
    type: 'error',
    error: { message: expect.stringContaining('SAFETY') },
  });
  // An array that ends with an error keeps the text before it and the server's words.
  const ended = decodeReply([chunk('A'), { error: { code: 500, message: 'boom', status: 'INTERNAL' } }]);
  expect(textOf(ended)).toBe('A');
  expect(ended.at(-1)).toMatchObject({ type: 'error', error: { message: 'boom', status: 500 } });
});

describe('thought signatures in later turns', () => {
  const signature = 'CiQB0e2Kb3fakeThoughtSignatureForQwenLiteTestsOnly5fQ==';

  test('the signature stays on the part it came with; the text increments between are one part', () => {
    for (const seed of [1, 2, 3]) {
      // The signature on an empty text part of its own, at the end.
      expect(signedReplyOf(geminiAdapter, fixture('text.sse'), seed)).toEqual([
        { text: 'Hallo! Die Antwort lautet: 42 — größer geht’s nicht.' },
        { text: '', thoughtSignature: signature },
      ]);
      // Thought parts as they came (their increments joined), the signature on the answer's text part.
      expect(signedReplyOf(geminiAdapter, fixture('thinking.sse'), seed)).toEqual([
        { text: '**Checking the numbers**\n\nThe user asks for 17 × 23. 340 + 51 = 391.', thought: true },
        { text: '17 × 23 = **391**.', thoughtSignature: signature },
      ]);
    }
  });

  test('nothing is kept without a signature, or when not asked (one-shot runs); calls are not kept', () => {
    expect(signedReplyOf(geminiAdapter, geminiStream({ thoughts: ['Hmm.'], text: ['Hi.'] }))).toBeUndefined();
    const decoder = geminiAdapter.createDecoder();
    decodeThroughParser(decoder, fixture('text.sse'));
    expect(decoder.signedReply?.()).toBeUndefined();
    const call = { functionCall: { name: 'look', args: {} }, thoughtSignature: signature };
    const withCall = `data: ${JSON.stringify({
      candidates: [{ content: { role: 'model', parts: [{ text: 'Looking.' }, call] }, finishReason: 'STOP' }],
    })}\r\n\r\n`;
    expect(signedReplyOf(geminiAdapter, withCall)).toBeUndefined();
  });

  const parts = [
    { text: 'Thinking it over.', thought: true },
    { text: '17 × 23 = **391**.', thoughtSignature: signature },
  ];
  /** A conversation whose answer came from `origin` with signed parts. */
  function history(origin: ResolvedModel): Message[] {
    return [
      { role: 'user', content: 'What is 17 × 23?' },
      {
        role: 'assistant',
        content: '17 × 23 = **391**.',
        signedReply: { origin: replyOriginOf(origin), parts },
      },
      { role: 'user', content: 'And divided by 17?' },
    ];
  }

  test('the model turn goes back to the model that made it with its parts verbatim', () => {
    expect(bodyOf(target(), history(target()))['contents']).toEqual([
      { role: 'user', parts: [{ text: 'What is 17 × 23?' }] },
      { role: 'model', parts },
      { role: 'user', parts: [{ text: 'And divided by 17?' }] },
    ]);
    const vertex = JSON.parse(vertexAdapter.buildRequest(chat(vertexTarget(), history(vertexTarget()))).body);
    expect(vertex.contents[1]).toEqual({ role: 'model', parts });
  });

  test('another protocol, endpoint or model gets the text only: the signatures are not valid there', () => {
    const asText = { role: 'model', parts: [{ text: '17 × 23 = **391**.' }] };
    const others = [
      vertexTarget(),
      target({ authType: 'anthropic', protocol: 'anthropic' }),
      target({ baseUrl: 'https://gateway.example.com' }),
      target({ model: 'gemini-2.5-pro' }),
    ];
    for (const other of others) {
      expect((bodyOf(target(), history(other))['contents'] as unknown[])[1]).toEqual(asText);
    }
  });
});
