// The Anthropic Messages protocol: api.anthropic.com, and the Anthropic-compatible endpoints of gateways and
// DashScope (`/apps/anthropic`). Like openai.ts, the decoder narrows every field from `unknown`: a stream
// that throws halfway through loses the answer the user was already reading.

import type { StreamEvent, StreamFailure } from '../core/events.ts';
import type { SseMessage } from '../core/sse.ts';
import type { ChatRequest, HttpRequest, Message, Usage } from '../core/types.ts';
import type { ApiErrorDetails, ProtocolAdapter, StreamDecoder } from './adapter.ts';

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

/** Error messages longer than this are cut: an HTML error page is not a one-line diagnostic. */
const maximumMessageLength = 500;

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

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Replaces any earlier spelling of the same header: fetch would join two values with a comma. */
function setHeader(headers: Record<string, string>, name: string, value: string): void {
  const lowerName = name.toLowerCase();
  for (const existing of Object.keys(headers)) {
    if (existing.toLowerCase() === lowerName) delete headers[existing];
  }
  headers[name] = value;
}

function baseUrlOf(configured: string): string {
  const trimmed = configured.trim();
  return trimmed === '' ? defaultAnthropicBaseUrl : trimmed.replace(/\/+$/, '');
}

/** Users copy base URLs ending in `/v1` from other tools; the official SDK then calls `/v1/v1/messages`. */
function messagesUrl(baseUrl: string): string {
  return /\/v1$/.test(baseUrl) ? `${baseUrl}/messages` : `${baseUrl}/v1/messages`;
}

/** Only Anthropic itself takes `x-api-key`; gateways and DashScope expect the key as a bearer token. */
function isAnthropicHost(baseUrl: string): boolean {
  try {
    const host = new URL(baseUrl).hostname.toLowerCase();
    return host === 'anthropic.com' || host.endsWith('.anthropic.com');
  } catch {
    return false;
  }
}

interface AnthropicTurn {
  role: 'user' | 'assistant';
  content: string;
}

/**
 * System text goes to the top-level `system` field; the rest must alternate user/assistant, so consecutive
 * turns of one role are joined. Empty turns are dropped because the API rejects empty text blocks.
 */
function splitConversation(messages: Message[]): { system: string | undefined; turns: AnthropicTurn[] } {
  const systemParts: string[] = [];
  const turns: AnthropicTurn[] = [];
  for (const message of messages) {
    if (message.role === 'system') {
      if (message.content !== '') systemParts.push(message.content);
      continue;
    }
    if (message.content === '') continue;
    const previous = turns.at(-1);
    if (previous !== undefined && previous.role === message.role) {
      previous.content = `${previous.content}\n\n${message.content}`;
    } else {
      turns.push({ role: message.role, content: message.content });
    }
  }
  return { system: systemParts.length > 0 ? systemParts.join('\n\n') : undefined, turns };
}

function buildRequest(request: ChatRequest): HttpRequest {
  const { target } = request;
  const baseUrl = baseUrlOf(target.baseUrl);
  const headers: Record<string, string> = {};
  if (target.accessToken !== undefined && target.accessToken !== '') {
    setHeader(headers, 'Authorization', `Bearer ${target.accessToken}`);
  } else if (target.apiKey !== undefined && target.apiKey !== '') {
    if (isAnthropicHost(baseUrl)) setHeader(headers, 'x-api-key', target.apiKey);
    else setHeader(headers, 'Authorization', `Bearer ${target.apiKey}`);
  }
  setHeader(headers, 'anthropic-version', anthropicVersion);
  setHeader(headers, 'Content-Type', 'application/json');
  setHeader(headers, 'Accept', 'text/event-stream');
  for (const [name, value] of Object.entries(target.extraHeaders ?? {})) setHeader(headers, name, value);
  for (const [name, value] of Object.entries(target.generationConfig.customHeaders ?? {})) {
    setHeader(headers, name, value);
  }

  const sampling = target.generationConfig.samplingParams ?? {};
  const { system, turns } = splitConversation(request.messages);
  // Only the sampling fields Anthropic knows are sent: it answers 400 ("Extra inputs are not permitted")
  // to OpenAI-only ones such as presence_penalty, which a shared generationConfig often carries.
  const body: JsonObject = {
    model: target.model,
    max_tokens: finiteNumber(sampling.max_tokens) ?? defaultAnthropicMaxTokens,
  };
  if (system !== undefined) body['system'] = system;
  body['messages'] = turns;
  if (finiteNumber(sampling.temperature) !== undefined) body['temperature'] = sampling.temperature;
  if (finiteNumber(sampling.top_p) !== undefined) body['top_p'] = sampling.top_p;
  if (finiteNumber(sampling.top_k) !== undefined) body['top_k'] = sampling.top_k;
  const stop = typeof sampling.stop === 'string' ? [sampling.stop] : sampling.stop;
  if (Array.isArray(stop) && stop.length > 0) body['stop_sequences'] = stop;
  body['stream'] = true;
  // extra_body goes last: the user's escape hatch (`thinking`, `metadata`, ...) may replace anything.
  Object.assign(body, target.generationConfig.extra_body);
  return { url: messagesUrl(baseUrl), headers, body: JSON.stringify(body) };
}

function statusOfErrorType(type: string | undefined): number | undefined {
  return type === undefined ? undefined : statusByErrorType[type];
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

function finishedInput(pieces: string[]): unknown {
  const text = pieces.join('');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    // A truncated call (max_tokens hit mid-JSON) is still worth showing as the model wrote it.
    return text;
  }
}

function createDecoder(): StreamDecoder {
  // Text, thinking and tool blocks interleave by `index`; only tool blocks need assembling.
  const toolUses = new Map<number, ToolUseInProgress>();
  let toolUseCount = 0;
  const counts: UsageCounts = { input: 0, output: 0 };
  let sawUsage = false;
  let finishReason: string | undefined;
  let ended = false;

  function completeToolUse(index: number): StreamEvent[] {
    const toolUse = toolUses.get(index);
    if (toolUse === undefined) return [];
    toolUses.delete(index);
    return [
      {
        type: 'tool-call',
        id: toolUse.id,
        name: toolUse.name,
        arguments: finishedInput(toolUse.inputPieces),
      },
    ];
  }

  function flush(): StreamEvent[] {
    if (ended) return [];
    ended = true;
    const events: StreamEvent[] = [];
    // A stream cut before content_block_stop still shows the calls it announced.
    for (const index of [...toolUses.keys()].sort((a, b) => a - b)) events.push(...completeToolUse(index));
    if (sawUsage) events.push({ type: 'usage', usage: usageOf(counts) });
    events.push(finishReason === undefined ? { type: 'done' } : { type: 'done', finishReason });
    return events;
  }

  function startBlock(index: number, block: unknown): StreamEvent[] {
    if (!isObject(block)) return [];
    if (block['type'] === 'tool_use' || block['type'] === 'server_tool_use') {
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
        if (reason !== undefined) finishReason = reason;
        // Cumulative totals, not increments: the latest one replaces what came before.
        if (isObject(payload['usage'])) {
          mergeUsage(counts, payload['usage']);
          sawUsage = true;
        }
        return [];
      }
      case 'message_stop':
        return flush();
      case 'error':
        ended = true;
        return [{ type: 'error', error: streamFailureFrom(payload) }];
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
        if (message.event !== 'error') return [];
        ended = true;
        const text = message.data.trim();
        return [{ type: 'error', error: { message: text === '' ? 'The server reported an error.' : text } }];
      }
      // The event name is authoritative; proxies that drop `event:` lines still leave `type` in the data.
      const name = message.event !== 'message' ? message.event : (nonEmptyString(parsed['type']) ?? '');
      return decodeEvent(name, parsed);
    },
    finish(): StreamEvent[] {
      return flush();
    },
  };
}

function capped(text: string): string {
  return text.length <= maximumMessageLength ? text : `${text.slice(0, maximumMessageLength - 3)}...`;
}

/** Turns an HTML error page (a gateway's 502) into its title or its visible text, on one line. */
function textOfHtml(html: string): string {
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1];
  const text = title ?? html.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ');
  return text.replace(/\s+/g, ' ').trim();
}

function parseErrorBody(status: number, body: string): ApiErrorDetails {
  const fallback = `HTTP ${status}`;
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
    const trimmed = body.trim();
    const text = trimmed.startsWith('<') ? textOfHtml(trimmed) : trimmed;
    if (text !== '') message = text;
  }

  const details: ApiErrorDetails = { message: capped((message ?? fallback).trim() || fallback) };
  if (code !== undefined) details.code = code;
  if (status === 401 || status === 403 || code === 'authentication_error' || code === 'permission_error') {
    details.isAuthFailure = true;
  }
  // A spent balance does not come back by waiting (DashScope's gateway says so with a 429).
  if (code === 'billing_error' || code === 'insufficient_quota') details.doNotRetry = true;
  return details;
}

export const anthropicAdapter: ProtocolAdapter = { buildRequest, createDecoder, parseErrorBody };
