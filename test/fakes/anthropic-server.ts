// A fake Anthropic Messages server over real HTTP on 127.0.0.1, port 0:
//
//   const fake = startFakeAnthropic([{ status: 529, body: readFixture('error-529.json') },
//                                    { sse: anthropicStream({ text: ['Hel', 'lo'] }), slices: { seed: 7 } }],
//                                   { apiKey: 'sk-ant-test' });
//   ... point ANTHROPIC_BASE_URL (or an entry's baseUrl) at fake.url, run, look at fake.requests ...
//   await fake.stop();
//
// It answers `POST .../v1/messages` under any prefix (DashScope's `/apps/anthropic` included), like the
// real API: 404 `not_found_error` elsewhere, 400 without `anthropic-version`, 401 `authentication_error`
// when `apiKey` is set and neither `x-api-key` nor `Authorization: Bearer` carries it.

import { type RecordedRequest, type ReplayStep, type ScriptedServer, startScriptedServer } from './replay.ts';

export type { RecordedRequest, ReplayStep, SliceOptions } from './replay.ts';

export interface AnthropicStreamToolUse {
  id?: string;
  name: string;
  /** The input as JSON pieces, sent one input_json_delta each (after the usual empty first one). */
  inputPieces?: string[];
}

export interface AnthropicStreamOptions {
  thinking?: string[];
  text?: string[];
  toolUses?: AnthropicStreamToolUse[];
  inputTokens?: number;
  outputTokens?: number;
  /** Defaults to `tool_use` when there are tool uses, else `end_turn`. */
  stopReason?: string;
  model?: string;
  /** Ends the stream with this `error` event (no message_delta or message_stop), as after an overload. */
  errorType?: string;
  errorMessage?: string;
}

export interface FakeAnthropicOptions {
  port?: number;
  /** When set, requests must carry it as `x-api-key` or as a bearer token. */
  apiKey?: string;
}

export interface FakeAnthropic extends ScriptedServer {
  /** Base URL as a user would put it in ANTHROPIC_BASE_URL (no `/v1`). */
  url: string;
}

function event(name: string, data: Record<string, unknown>): string {
  return `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
}

/** Builds a realistic Messages stream: message_start, pings, thinking, text and tool blocks, usage, stop. */
export function anthropicStream(options: AnthropicStreamOptions = {}): string {
  const frames: string[] = [];
  const inputTokens = options.inputTokens ?? 21;
  frames.push(
    event('message_start', {
      message: {
        id: 'msg_01FakeAnthropicStream000001',
        type: 'message',
        role: 'assistant',
        model: options.model ?? 'claude-sonnet-4-5-20250929',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, cache_read_input_tokens: 0, output_tokens: 1 },
      },
    }),
  );
  let index = 0;
  if ((options.thinking ?? []).length > 0) {
    frames.push(
      event('content_block_start', {
        index,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      }),
    );
    frames.push(event('ping', {}));
    for (const thinking of options.thinking ?? []) {
      frames.push(event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking } }));
    }
    frames.push(
      event('content_block_delta', {
        index,
        delta: { type: 'signature_delta', signature: 'RmFrZVNpZ25hdHVyZQ==' },
      }),
    );
    frames.push(event('content_block_stop', { index }));
    index += 1;
  }
  if ((options.text ?? []).length > 0) {
    frames.push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    frames.push(event('ping', {}));
    for (const text of options.text ?? []) {
      frames.push(event('content_block_delta', { index, delta: { type: 'text_delta', text } }));
    }
    if (options.errorType !== undefined) {
      frames.push(
        event('error', {
          error: { type: options.errorType, message: options.errorMessage ?? 'Overloaded' },
        }),
      );
      return frames.join('');
    }
    frames.push(event('content_block_stop', { index }));
    index += 1;
  }
  for (const [position, toolUse] of (options.toolUses ?? []).entries()) {
    const id = toolUse.id ?? `toolu_01Fake${String(position).padStart(18, '0')}`;
    frames.push(
      event('content_block_start', {
        index,
        content_block: { type: 'tool_use', id, name: toolUse.name, input: {} },
      }),
    );
    for (const partial_json of ['', ...(toolUse.inputPieces ?? [])]) {
      frames.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }));
    }
    frames.push(event('content_block_stop', { index }));
    index += 1;
  }
  const stopReason = options.stopReason ?? ((options.toolUses ?? []).length > 0 ? 'tool_use' : 'end_turn');
  frames.push(
    event('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: options.outputTokens ?? 12 },
    }),
  );
  frames.push(event('message_stop', {}));
  return frames.join('');
}

export function anthropicErrorBody(type: string, message: string): Record<string, unknown> {
  return { type: 'error', error: { type, message }, request_id: 'req_011FakeAnthropicServer0001' };
}

const typeByStatus: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

function screen(request: RecordedRequest, apiKey: string | undefined): Response | undefined {
  const path = request.path.split('?')[0] ?? '';
  if (request.method !== 'POST' || !path.endsWith('/v1/messages')) {
    return Response.json(anthropicErrorBody('not_found_error', 'Not Found'), { status: 404 });
  }
  if (request.headers['anthropic-version'] === undefined) {
    return Response.json(
      anthropicErrorBody('invalid_request_error', 'anthropic-version: header is required'),
      { status: 400 },
    );
  }
  if (apiKey !== undefined) {
    const bearer = request.headers['authorization']?.replace(/^Bearer /, '');
    if (request.headers['x-api-key'] !== apiKey && bearer !== apiKey) {
      return Response.json(anthropicErrorBody('authentication_error', 'invalid x-api-key'), { status: 401 });
    }
  }
  return undefined;
}

export function startFakeAnthropic(
  steps: ReplayStep | ReplayStep[] = [],
  options: FakeAnthropicOptions = {},
): FakeAnthropic {
  const server = startScriptedServer(steps, {
    port: options.port,
    defaultSse: anthropicStream({ text: ['Hello', ' from', ' the fake.'] }),
    defaultErrorBody: (status) =>
      anthropicErrorBody(typeByStatus[status] ?? 'api_error', `Fake server error ${status}`),
    screen: (request) => screen(request, options.apiKey),
  });
  return { ...server, url: server.origin };
}
