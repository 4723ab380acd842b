// The Anthropic Messages protocol: api.anthropic.com, and the Anthropic-compatible endpoints of gateways and
// DashScope (`/apps/anthropic`). Like openai.ts, the decoder narrows every field from `unknown`: a stream
// that throws halfway through loses the answer the user was already reading.

import { isAnswerEvent, type StreamEvent, type StreamFailure } from '../core/events.ts';
import type { SseMessage } from '../core/sse.ts';
import {
  type ChatRequest,
  type HttpRequest,
  isAnthropicHost,
  isObject,
  type JsonObject,
  type Usage,
} from '../core/types.ts';
import type { ApiErrorDetails, DecoderOptions, ProtocolAdapter, StreamDecoder } from './adapter.ts';
import { createAnthropicReplyRecorder } from './anthropic-reply.ts';
import {
  alternatingTurns,
  baseUrlParts,
  capped,
  doneEvent,
  endedEarlyFailure,
  failureEvents,
  finiteNumber,
  messageOfErrorEvent,
  messageOfTextBody,
  messageOrStatus,
  nonEmptyString,
  notJsonFailure,
  parsedArguments,
  parseJson,
  setHeader,
  setStreamAndUserHeaders,
  stopSequencesOf,
  withQuery,
} from './wire.ts';

export const defaultAnthropicBaseUrl = 'https://api.anthropic.com';
/** The version the docs' examples, vercel/ai and every Anthropic-compatible gateway understand. */
export const anthropicVersion = '2023-06-01';

/**
 * The API refuses a request without `max_tokens`. 32000 is what Qwen Code sends when it knows nothing about
 * a model, and it is accepted by every current Claude model (Opus 4/4.1 stop at 32000, so a bigger default
 * would make them answer 400) and by the Qwen, GLM and Kimi models behind DashScope's Anthropic endpoint.
 * Older models with 8192-token outputs need `samplingParams.max_tokens` in their entry.
 */
export const defaultAnthropicMaxTokens = 32000;

/** The HTTP status Anthropic uses for each error type, so that a mid-stream error is retried/reported alike. */
const statusByErrorType: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** Users copy base URLs ending in `/v1` from other tools; the official SDK then calls `/v1/v1/messages`. */
function messagesUrl(baseUrl: string): string {
  return /\/v1$/.test(baseUrl) ? `${baseUrl}/messages` : `${baseUrl}/v1/messages`;
}

function buildRequest(request: ChatRequest): HttpRequest {
  const { target } = request;
  const { base: baseUrl, query } = baseUrlParts(target.baseUrl, defaultAnthropicBaseUrl);
  const headers: Record<string, string> = {};
  if (target.accessToken !== undefined && target.accessToken !== '') {
    setHeader(headers, 'Authorization', `Bearer ${target.accessToken}`);
  } else if (target.apiKey !== undefined && target.apiKey !== '') {
    // Only Anthropic itself takes `x-api-key`; gateways and DashScope expect the key as a bearer token.
    if (isAnthropicHost(baseUrl)) setHeader(headers, 'x-api-key', target.apiKey);
    else setHeader(headers, 'Authorization', `Bearer ${target.apiKey}`);
  }
  setHeader(headers, 'anthropic-version', anthropicVersion);
  setStreamAndUserHeaders(headers, request);

  const sampling = target.generationConfig.samplingParams ?? {};
  // System text goes to the top-level `system` field; the messages must alternate user/assistant.
  const { system, turns } = alternatingTurns(request.messages, target);
  // Only the sampling fields Anthropic knows are sent: it answers 400 ("Extra inputs are not permitted")
  // to OpenAI-only ones such as presence_penalty, which a shared generationConfig often carries.
  const body: JsonObject = {
    model: target.model,
    max_tokens: finiteNumber(sampling.max_tokens) ?? defaultAnthropicMaxTokens,
  };
  if (system !== undefined) body['system'] = system;
  // A reply with signed thinking goes back as the blocks it came in; any other turn as its text.
  body['messages'] = turns.map(({ role, content, signedParts }) => ({
    role,
    content: signedParts ?? content,
  }));
  if (finiteNumber(sampling.temperature) !== undefined) body['temperature'] = sampling.temperature;
  if (finiteNumber(sampling.top_p) !== undefined) body['top_p'] = sampling.top_p;
  if (finiteNumber(sampling.top_k) !== undefined) body['top_k'] = sampling.top_k;
  const stop = stopSequencesOf(sampling.stop);
  if (stop !== undefined) body['stop_sequences'] = stop;
  body['stream'] = true;
  // extra_body goes last: the user's escape hatch (`thinking`, `metadata`, ...) may replace anything.
  Object.assign(body, target.generationConfig.extra_body);
  return { url: withQuery(messagesUrl(baseUrl), query), headers, body: JSON.stringify(body) };
}

function statusOfErrorType(type: string | undefined): number | undefined {
  // Own keys only: a server's type named `constructor` must not find Object's.
  return type !== undefined && Object.hasOwn(statusByErrorType, type) ? statusByErrorType[type] : undefined;
}

function streamFailureFrom(payload: JsonObject): StreamFailure {
  const error = isObject(payload['error']) ? payload['error'] : payload;
  const type = nonEmptyString(error['type']);
  const failure: StreamFailure = {
    message:
      nonEmptyString(error['message']) ?? type ?? 'The server reported an error in the middle of the stream.',
  };
  const status = statusOfErrorType(type);
  if (status !== undefined) failure.status = status;
  if (type !== undefined && type !== 'error') failure.code = type;
  return failure;
}

/** Anthropic's usage objects; message_start has the input side, message_delta the running totals. */
interface UsageCounts {
  input: number;
  output: number;
  cacheRead?: number;
  cacheCreation?: number;
}

function mergeUsage(counts: UsageCounts, value: unknown): void {
  if (!isObject(value)) return;
  const input = finiteNumber(value['input_tokens']);
  if (input !== undefined) counts.input = input;
  const output = finiteNumber(value['output_tokens']);
  if (output !== undefined) counts.output = output;
  const cacheRead = finiteNumber(value['cache_read_input_tokens']);
  if (cacheRead !== undefined) counts.cacheRead = cacheRead;
  const cacheCreation = finiteNumber(value['cache_creation_input_tokens']);
  if (cacheCreation !== undefined) counts.cacheCreation = cacheCreation;
}

/**
 * Anthropic's `input_tokens` leaves out cached tokens; Usage follows OpenAI, where the input count includes
 * them and `cachedInputTokens` is the part served from cache. The sum keeps totals comparable across protocols.
 */
function usageOf(counts: UsageCounts): Usage {
  const inputTokens = counts.input + (counts.cacheRead ?? 0) + (counts.cacheCreation ?? 0);
  const usage: Usage = {
    inputTokens,
    outputTokens: counts.output,
    totalTokens: inputTokens + counts.output,
  };
  if (counts.cacheRead !== undefined) usage.cachedInputTokens = counts.cacheRead;
  return usage;
}

interface ToolUseInProgress {
  id: string;
  name: string;
  inputPieces: string[];
}

function createDecoder(options: DecoderOptions = {}): StreamDecoder {
  const recorder = options.keepSignedReply === true ? createAnthropicReplyRecorder() : undefined;
  // Text, thinking and tool blocks interleave by `index`; only tool blocks need assembling.
  const toolUses = new Map<number, ToolUseInProgress>();
  let toolUseCount = 0;
  const counts: UsageCounts = { input: 0, output: 0 };
  let sawUsage = false;
  let finishReason: string | undefined;
  let ended = false;
  // Some text or a tool call came.
  let answerBegan = false;

  function completeToolUse(index: number): StreamEvent[] {
    const toolUse = toolUses.get(index);
    if (toolUse === undefined) return [];
    toolUses.delete(index);
    return [
      {
        type: 'tool-call',
        id: toolUse.id,
        name: toolUse.name,
        arguments: parsedArguments(toolUse.inputPieces),
      },
    ];
  }

  /** Ends the stream in failure, with the usage message_start (and any message_delta) reported. */
  function failWith(failure: StreamFailure): StreamEvent[] {
    ended = true;
    return failureEvents(failure, sawUsage ? usageOf(counts) : undefined);
  }

  function flush(): StreamEvent[] {
    if (ended) return [];
    // message_stop after nothing at all (no block, no stop_reason) is a stream that broke off before its
    // answer, and is retried like one; an answer that came stays whole without a stop_reason.
    if (finishReason === undefined && !answerBegan && toolUses.size === 0) {
      return failWith(endedEarlyFailure('message_stop before any answer or stop_reason'));
    }
    ended = true;
    const events: StreamEvent[] = [];
    // A stream cut before content_block_stop still shows the calls it announced.
    for (const index of [...toolUses.keys()].sort((a, b) => a - b)) events.push(...completeToolUse(index));
    if (sawUsage) events.push({ type: 'usage', usage: usageOf(counts) });
    events.push(doneEvent(finishReason));
    return events;
  }

  function startBlock(index: number, block: unknown): StreamEvent[] {
    if (!isObject(block)) return [];
    recorder?.start(index, block);
    // Only `tool_use` asks the client to run something. `server_tool_use` (web_search, web_fetch, code
    // execution) and `mcp_tool_use` were run by the server, whose results follow in their own blocks and
    // whose answer follows as text: reported as calls, they would say a tool was asked for and not run.
    if (block['type'] === 'tool_use') {
      toolUseCount += 1;
      const toolUse: ToolUseInProgress = {
        id: nonEmptyString(block['id']) ?? `toolu_${toolUseCount}`,
        name: nonEmptyString(block['name']) ?? '',
        inputPieces: [],
      };
      // Some gateways send the whole input with the block instead of as input_json_delta pieces.
      const input = block['input'];
      if (isObject(input) && Object.keys(input).length > 0) toolUse.inputPieces.push(JSON.stringify(input));
      toolUses.set(index, toolUse);
      return [];
    }
    // Blocks may open with their first text already in them (seen from compatible servers).
    if (block['type'] === 'text') {
      const text = nonEmptyString(block['text']);
      return text === undefined ? [] : [{ type: 'text-delta', text }];
    }
    if (block['type'] === 'thinking') {
      const text = nonEmptyString(block['thinking']);
      return text === undefined ? [] : [{ type: 'reasoning-delta', text }];
    }
    return [];
  }

  function applyDelta(index: number, delta: unknown): StreamEvent[] {
    if (!isObject(delta)) return [];
    recorder?.delta(index, delta);
    switch (delta['type']) {
      case 'text_delta': {
        const text = nonEmptyString(delta['text']);
        return text === undefined ? [] : [{ type: 'text-delta', text }];
      }
      case 'thinking_delta': {
        const text = nonEmptyString(delta['thinking']);
        return text === undefined ? [] : [{ type: 'reasoning-delta', text }];
      }
      case 'input_json_delta': {
        const piece = delta['partial_json'];
        if (typeof piece === 'string') toolUses.get(index)?.inputPieces.push(piece);
        return [];
      }
      default:
        // signature_delta, citations_delta and whatever comes next: nothing to show.
        return [];
    }
  }

  function decodeEvent(name: string, payload: JsonObject): StreamEvent[] {
    const index = finiteNumber(payload['index']) ?? 0;
    switch (name) {
      case 'message_start': {
        const message = payload['message'];
        if (isObject(message) && isObject(message['usage'])) {
          mergeUsage(counts, message['usage']);
          sawUsage = true;
        }
        return [];
      }
      case 'content_block_start':
        return startBlock(index, payload['content_block']);
      case 'content_block_delta':
        return applyDelta(index, payload['delta']);
      case 'content_block_stop':
        return completeToolUse(index);
      case 'message_delta': {
        const delta = payload['delta'];
        const reason = isObject(delta) ? nonEmptyString(delta['stop_reason']) : undefined;
        // Cumulative totals, not increments: the latest one replaces what came before.
        if (isObject(payload['usage'])) {
          mergeUsage(counts, payload['usage']);
          sawUsage = true;
        }
        if (reason === 'refusal') {
          // The model's safety stop: a cut answer must not pass for a whole one.
          return failWith({ message: 'Claude stopped the answer (stop_reason refusal).', code: 'refusal' });
        }
        if (reason !== undefined) finishReason = reason;
        return [];
      }
      case 'message_stop':
        return flush();
      case 'error':
        return failWith(streamFailureFrom(payload));
      default:
        // ping, and event types added after this was written (the versioning policy says to ignore them).
        return [];
    }
  }

  return {
    decode(message: SseMessage): StreamEvent[] {
      if (ended) return [];
      const parsed = parseJson(message.data);
      if (!isObject(parsed)) {
        if (message.event === 'error') return failWith({ message: messageOfErrorEvent(message.data) });
        const data = message.data.trim();
        // A content event that is not JSON is a broken stream; other events (ping, ones added later) are
        // never read by the SDK either, whatever they carry.
        const content = message.event.startsWith('message_') || message.event.startsWith('content_block_');
        return content && parsed === undefined && data !== '' ? failWith(notJsonFailure(data)) : [];
      }
      // The event name is authoritative; proxies that drop `event:` lines still leave `type` in the data.
      const name = message.event !== 'message' ? message.event : (nonEmptyString(parsed['type']) ?? '');
      const events = decodeEvent(name, parsed);
      // Thinking alone is no answer: a stream of it that ends without a stop reason was cut short.
      if (!ended && events.some(isAnswerEvent)) answerBegan = true;
      return events;
    },
    isEnded: () => ended,
    hasFinished: () => finishReason !== undefined,
    usageSoFar: () => (sawUsage ? usageOf(counts) : undefined),
    signedReply: () => recorder?.content(),
    finish(): StreamEvent[] {
      if (!ended && finishReason === undefined)
        return failWith(endedEarlyFailure('no stop_reason, no message_stop'));
      return flush();
    },
  };
}

function parseErrorBody(status: number, body: string): ApiErrorDetails {
  let message: string | undefined;
  let code: string | undefined;

  const parsed = parseJson(body);
  if (isObject(parsed)) {
    // Anthropic: {type:"error", error:{type,message}}; gateways in front of it sometimes answer OpenAI-style
    // {error:{message,code}} or a flat {message}.
    const error = isObject(parsed['error']) ? parsed['error'] : parsed;
    message = nonEmptyString(error['message']) ?? nonEmptyString(parsed['message']);
    // An OpenAI-style `code` (invalid_api_key) says more than the `type` next to it (invalid_request_error).
    const type = nonEmptyString(error['type']);
    code = typeof error['code'] === 'string' ? nonEmptyString(error['code']) : undefined;
    code ??= type !== undefined && type !== 'error' ? type : undefined;
  } else {
    message = messageOfTextBody(body);
  }

  const details: ApiErrorDetails = { message: capped(messageOrStatus(message, status)) };
  if (code !== undefined) details.code = code;
  if (status === 401 || status === 403 || code === 'authentication_error' || code === 'permission_error') {
    details.isAuthFailure = true;
  }
  // A spent balance does not come back by waiting (DashScope's gateway says so with a 429).
  if (code === 'billing_error' || code === 'insufficient_quota') details.doNotRetry = true;
  return details;
}

/**
 * A whole `message` (a server that ignored `stream: true`) as the events a stream would have sent: each
 * content block opens with all of its content (text, thinking, a tool's input), as some gateways stream it.
 */
function chunksOfWholeReply(reply: unknown): string[] | undefined {
  if (!isObject(reply) || reply['type'] !== 'message' || !Array.isArray(reply['content'])) return undefined;
  const usage = isObject(reply['usage']) ? reply['usage'] : undefined;
  const events: JsonObject[] = [
    { type: 'message_start', message: { ...reply, content: [], stop_reason: null } },
  ];
  reply['content'].forEach((block, index) => {
    events.push({ type: 'content_block_start', index, content_block: block });
    events.push({ type: 'content_block_stop', index });
  });
  events.push({
    type: 'message_delta',
    delta: { stop_reason: reply['stop_reason'] ?? 'end_turn' },
    ...(usage === undefined ? {} : { usage }),
  });
  events.push({ type: 'message_stop' });
  return events.map((event) => JSON.stringify(event));
}

export const anthropicAdapter: ProtocolAdapter = {
  buildRequest,
  createDecoder,
  parseErrorBody,
  chunksOfWholeReply,
};
