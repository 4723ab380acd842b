// The OpenAI-compatible Chat Completions protocol: the one DashScope, OpenRouter, Azure's v1 endpoint,
// vLLM, Ollama, DeepSeek and Moonshot all speak, each with its own small deviations. The decoder trusts
// nothing about a chunk's shape: every field is narrowed from `unknown` before use, because a stream that
// throws halfway through loses the answer the user was already reading.

import { type StreamEvent, type StreamFailure, utf8Delta } from '../core/events.ts';
import type { SseMessage } from '../core/sse.ts';
import {
  type ChatRequest,
  type HttpRequest,
  isObject,
  type JsonObject,
  type Message,
  type Usage,
} from '../core/types.ts';
import type { ApiErrorDetails, ProtocolAdapter, StreamDecoder } from './adapter.ts';
import { type ByteSlot, byteSlotOf, stringBytesInSlot } from './json-bytes.ts';
import {
  baseUrlParts,
  capped,
  doneEvent,
  endedEarlyFailure,
  failureEvents,
  findStringSlot,
  finiteNumber,
  firstOf,
  httpStatusFrom,
  messageOfErrorEvent,
  messageOfTextBody,
  messageOrStatus,
  nonEmptyString,
  notJsonFailure,
  parsedArguments,
  parseJson,
  setHeader,
  setStreamAndUserHeaders,
  withQuery,
} from './wire.ts';

export const defaultOpenAiBaseUrl = 'https://api.openai.com/v1';

function chatCompletionsUrl(baseUrl: string): string {
  const { base, query } = baseUrlParts(baseUrl, defaultOpenAiBaseUrl);
  return withQuery(`${base}/chat/completions`, query);
}

/**
 * Azure OpenAI's classic deployment URL (`.../openai/deployments/<name>?api-version=...`) takes an API key in
 * `api-key` and refuses it as a bearer token; a Microsoft Entra ID token (a JWT) goes as `Bearer`, as it does
 * to Azure's OpenAI-style `/openai/v1` base, which takes keys as bearer tokens too.
 */
function takesAzureApiKeyHeader(baseUrl: string, credential: string): boolean {
  const isJwt = credential.startsWith('eyJ') && credential.split('.').length === 3;
  return !isJwt && /\/openai\/deployments\/[^/?#]+\/?(?:[?#]|$)/.test(baseUrl);
}

function buildRequest(request: ChatRequest): HttpRequest {
  const { target } = request;
  const headers: Record<string, string> = {};
  // OpenAI's API-key header is already a bearer header, so an OAuth token simply takes the key's place.
  const credential = nonEmptyString(target.accessToken) ?? nonEmptyString(target.apiKey);
  if (credential !== undefined) {
    if (takesAzureApiKeyHeader(target.baseUrl, credential)) setHeader(headers, 'api-key', credential);
    else setHeader(headers, 'Authorization', `Bearer ${credential}`);
  }
  setStreamAndUserHeaders(headers, request);

  // extra_body goes last: it is the user's explicit escape hatch and may replace anything, for example
  // `stream_options: null` for a server that rejects that field.
  const body: JsonObject = {
    model: target.model,
    messages: target.dashScope
      ? withCacheMarker(request.messages)
      : request.messages.map((message) => ({ role: message.role, content: message.content })),
    stream: true,
    stream_options: { include_usage: true },
    ...(target.dashScope ? dashScopeFields(request) : {}),
    ...target.generationConfig.samplingParams,
    ...target.generationConfig.extra_body,
  };
  return { url: chatCompletionsUrl(target.baseUrl), headers, body: JSON.stringify(body) };
}

const ephemeralCache = { type: 'ephemeral' };

/**
 * DashScope caches a conversation's prefix up to the parts marked `cache_control` (compat §7: the system
 * part and the last user part, as Qwen Code marks them), so the next turn of a session is read from cache.
 */
function withCacheMarker(messages: readonly Message[]): JsonObject[] {
  const lastUser = messages.findLastIndex((message) => message.role === 'user');
  return messages.map((message, index) =>
    index === lastUser || message.role === 'system'
      ? {
          role: message.role,
          content: [{ type: 'text', text: message.content, cache_control: ephemeralCache }],
        }
      : { role: message.role, content: message.content },
  );
}

/**
 * What Qwen Code adds to a DashScope request's body: `preserve_thinking`, and for Qwen models the session and
 * prompt ids in `metadata` (the prompt id is `<session>########<n>`, n counting the session's prompts from 0).
 */
function dashScopeFields(request: ChatRequest): JsonObject {
  const fields: JsonObject = { preserve_thinking: true };
  const { sessionId } = request;
  if (sessionId !== undefined && /qwen|coder-model/i.test(request.target.model)) {
    const prompts = request.messages.filter((message) => message.role === 'user').length;
    fields['metadata'] = { sessionId, promptId: `${sessionId}########${Math.max(0, prompts - 1)}` };
  }
  return fields;
}

function codeFrom(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return nonEmptyString(value);
}

/**
 * Finds an error object in a parsed chunk or body: OpenAI's `{error:{message,type,code}}`, OpenRouter's
 * `{error:{code:<number>,message}}`, vLLM's flat `{object:"error",message,...}`, Ollama's `{error:"..."}`.
 */
function errorObjectFrom(value: JsonObject): JsonObject | undefined {
  const nested = value['error'];
  if (isObject(nested)) return nested;
  if (typeof nested === 'string' && nested !== '') return { message: nested };
  if (value['object'] === 'error') return value;
  return undefined;
}

/**
 * OpenAI's errors inside a 200 stream carry a code or type but no status: the status the same error has
 * over HTTP, so that a rate limit or server error before any text is retried alike (cli/session-turn.ts).
 * DashScope's own codes, from its status-code table and its OpenAI-compatible mode, are here too.
 */
const statusByErrorCode: Record<string, number> = {
  invalid_api_key: 401,
  rate_limit_exceeded: 429,
  insufficient_quota: 429,
  server_error: 500,
  limit_requests: 429,
  internal_error: 500,
  InvalidApiKey: 401,
  RequestTimeOut: 408,
  InternalError: 500,
  'InternalError.Algo': 500,
  ServiceUnavailable: 503,
};

/**
 * DashScope's `Throttling` codes (`Throttling.RateQuota`, `Throttling.User`, ...) come with a 429 over HTTP.
 * Rate limits pass with time; `Throttling.AllocationQuota`, a spent quota, is a 429 that is never retried
 * (isSpentQuota), as over HTTP.
 */
function statusOfErrorCode(code: string): number | undefined {
  const throttled = code === 'Throttling' || code.startsWith('Throttling.');
  // Own keys only: a server's code named `constructor` must not find Object's.
  const known = Object.hasOwn(statusByErrorCode, code) ? statusByErrorCode[code] : undefined;
  return known ?? (throttled ? 429 : undefined);
}

/**
 * DashScope starts a message with the status it stands for (`<503> ServiceUnavailable: ...`,
 * `<400> InternalError.Algo.InvalidParameter: ...`): it says more than the code, which is `InternalError...`
 * for a bad parameter too.
 */
function statusInMessage(message: string): number | undefined {
  const prefix = /^<(\d{3})> /.exec(message);
  return prefix === null ? undefined : httpStatusFrom(prefix[1]);
}

/**
 * A spent quota, over HTTP or inside a stream: OpenAI's `insufficient_quota` (a 429 all the same, so a
 * fallback model may still be tried), DashScope's `Throttling.AllocationQuota`, or a message that says so.
 * Waiting does not mend it, so it is never retried.
 */
function isSpentQuota(code: string | undefined, type: string | undefined, message: string): boolean {
  return (
    code === 'insufficient_quota' ||
    type === 'insufficient_quota' ||
    code === 'Throttling.AllocationQuota' ||
    /quota exceeded/i.test(message)
  );
}

function streamFailureFrom(error: JsonObject): StreamFailure {
  const failure: StreamFailure = {
    message: nonEmptyString(error['message']) ?? 'The server reported an error in the middle of the stream.',
  };
  const code = codeFrom(error['code']) ?? codeFrom(error['type']);
  const status =
    httpStatusFrom(error['code']) ??
    httpStatusFrom(error['status']) ??
    statusInMessage(failure.message) ??
    (code === undefined ? undefined : statusOfErrorCode(code));
  if (status !== undefined) failure.status = status;
  if (code !== undefined) failure.code = code;
  if (isSpentQuota(code, nonEmptyString(error['type']), failure.message)) failure.doNotRetry = true;
  return failure;
}

function usageFrom(value: unknown): Usage | undefined {
  if (!isObject(value)) return undefined;
  const inputTokens = finiteNumber(value['prompt_tokens']) ?? 0;
  const outputTokens = finiteNumber(value['completion_tokens']) ?? 0;
  const usage: Usage = {
    inputTokens,
    outputTokens,
    totalTokens: finiteNumber(value['total_tokens']) ?? inputTokens + outputTokens,
  };
  const promptDetails = value['prompt_tokens_details'];
  // Moonshot reports `cached_tokens` at the top level and DeepSeek `prompt_cache_hit_tokens`.
  const cached =
    (isObject(promptDetails) ? finiteNumber(promptDetails['cached_tokens']) : undefined) ??
    finiteNumber(value['cached_tokens']) ??
    finiteNumber(value['prompt_cache_hit_tokens']);
  if (cached !== undefined) usage.cachedInputTokens = cached;
  const completionDetails = value['completion_tokens_details'];
  const reasoning = isObject(completionDetails)
    ? finiteNumber(completionDetails['reasoning_tokens'])
    : undefined;
  if (reasoning !== undefined) usage.reasoningTokens = reasoning;
  return usage;
}

/** The answer's choice's `delta` of a parsed chunk, through objects and arrays only (what findStringSlot needs). */
function deltaOf(chunk: unknown, answerIndex: unknown): JsonObject | undefined {
  const choice = isObject(chunk) ? answerChoiceOf(chunk, answerIndex) : undefined;
  const delta = choice?.['delta'];
  return isObject(delta) ? delta : undefined;
}

/**
 * Where servers put reasoning text, in the order they are read: DashScope, DeepSeek and older vLLM say
 * `reasoning_content`, OpenRouter and newer vLLM `reasoning`, some vLLM versions `reasoning_text`.
 */
const reasoningFields = ['reasoning_content', 'reasoning', 'reasoning_text'] as const;

/** The first reasoning field with text: the one whose text a chunk's reasoning delta carries. */
function reasoningFieldOf(delta: JsonObject): string | undefined {
  for (const field of reasoningFields) if (nonEmptyString(delta[field]) !== undefined) return field;
  return undefined;
}

/** The envelope of a chunk whose only effect is one delta, and the kind of delta its string gives. */
interface DeltaShape {
  slot: ByteSlot;
  type: 'text-delta' | 'reasoning-delta';
}

/** After this many learned shapes in a row that no later chunk matched, the stream stops learning. */
const maximumUnusedShapes = 3;

/**
 * One-delta chunks parsed whole before the decoder starts learning envelopes. Learning pays only over many
 * chunks; a short answer (the usual one-shot run: a few chunks) would spend more on finding and checking the
 * slot, all of it code that runs once, cold, than its whole parse costs.
 */
export const defaultChunksBeforeLearning = 16;

export interface OpenAiDecoderOptions {
  /** false parses every chunk whole: only for tests, which compare the two ways on generated streams. */
  reuseDeltaShapes?: boolean;
  chunksBeforeLearning?: number;
}

interface ToolCallInProgress {
  /** The `index` the server used, for ordering; servers without indexes get arrival order. */
  wireIndex: number;
  arrival: number;
  id?: string;
  name?: string;
  argumentPieces: string[];
}

/**
 * The choice that is the answer: the one with the answer's index (or the first without one, or with `null`). With `n` > 1
 * in samplingParams a server streams each choice in chunks of its own, and the others' text must not be mixed
 * into this one. Azure's first chunk, the usage chunk and Azure's content-filter trailer all have `choices: []`.
 *
 * `answerIndex` undefined: the stream has shown no choice yet, and its first one is the answer: index 0 when
 * the chunk has it, else the chunk's first choice, as Qwen Code reads `choices[0]` (a server that numbers its
 * only choice 1 still answers).
 */
function answerChoiceOf(chunk: JsonObject, answerIndex: unknown): JsonObject | undefined {
  const choices = chunk['choices'];
  if (!Array.isArray(choices)) return undefined;
  const wanted = answerIndex ?? 0;
  for (const choice of choices) {
    if (isObject(choice) && (choice['index'] ?? wanted) === wanted) return choice;
  }
  return answerIndex === undefined ? choices.find(isObject) : undefined;
}

/** Usage at the top of the chunk, or inside choices[0] (Moonshot). */
function usageOfChunk(chunk: JsonObject, choice: JsonObject | undefined): Usage | undefined {
  return usageFrom(chunk['usage']) ?? usageFrom(choice?.['usage']);
}

/** The stream decoder. */
export function createOpenAiDecoder({
  reuseDeltaShapes = true,
  chunksBeforeLearning = defaultChunksBeforeLearning,
}: OpenAiDecoderOptions = {}): StreamDecoder {
  const toolCalls: ToolCallInProgress[] = [];
  // Which call the next fragment with a given wire index continues.
  const callByWireIndex = new Map<number, ToolCallInProgress>();
  let lastToolCall: ToolCallInProgress | undefined;
  let finishReason: string | undefined;
  let usage: Usage | undefined;
  let ended = false;
  // The `index` of the choice that is the answer, once a chunk has shown one (see answerChoiceOf).
  let answerIndex: unknown;
  // Count tool-call fragments and finish reasons, so that a chunk that had either can be told from one that
  // did not (a finish reason equal to the last one still counts: another may come between two such chunks).
  let toolCallFragments = 0;
  let finishReasons = 0;
  // What the model said instead of answering (`delta.refusal`, OpenAI's structured refusals): not an answer,
  // so the turn fails with it at the end rather than passing for an empty success.
  let refusal = '';
  // The envelope around the text of the last chunk that was one text or reasoning delta: chunks with the
  // same one are decoded by parsing their text alone (see decodeAndLearn).
  let shape: DeltaShape | undefined;
  let unusedShapes = 0;
  let oneDeltaChunks = 0;
  // Some text came: reasoning alone is no answer, and a stream of it that ends without a finish reason is
  // one cut short (the learned-envelope path only runs after a chunk parsed whole, which sets this).
  let answerBegan = false;

  // A content filter's cut, reported once the usage chunk that follows the finish chunk (or the end) arrives:
  // the failure then carries what the cut answer cost.
  let filterCut: StreamFailure | undefined;

  function failWith(failure: StreamFailure): StreamEvent[] {
    ended = true;
    return failureEvents(failure, usage);
  }

  /** The chunk's choice that is the answer; the first one the stream shows sets the answer's index. */
  function choiceOf(chunk: JsonObject): JsonObject | undefined {
    const choice = answerChoiceOf(chunk, answerIndex);
    if (choice !== undefined) answerIndex ??= choice['index'] ?? 0;
    return choice;
  }

  function fail(error: JsonObject): StreamEvent[] {
    return failWith(streamFailureFrom(error));
  }

  /** After a filter's cut only the usage chunk, an error or the end matter; any text is not shown. */
  function decodeAfterCut(cut: StreamFailure, data: string): StreamEvent[] {
    if (data === '[DONE]') return failWith(cut);
    const chunk = parseJson(data);
    if (!isObject(chunk)) return [];
    const error = errorObjectFrom(chunk);
    if (error !== undefined) return fail(error);
    const chunkUsage = usageOfChunk(chunk, choiceOf(chunk));
    if (chunkUsage === undefined) return [];
    usage = chunkUsage;
    return failWith(cut);
  }

  function flush(): StreamEvent[] {
    if (ended) return [];
    // `[DONE]` after nothing at all (no text, call or refusal, no finish_reason; the role chunk alone) is a stream
    // that broke off before its answer, and is retried like one; an answer that came stays whole without one.
    if (finishReason === undefined && !answerBegan && toolCalls.length === 0 && refusal.trim() === '') {
      return failWith(endedEarlyFailure('[DONE] before any answer or finish_reason'));
    }
    if (refusal.trim() !== '') {
      return failWith({
        message: `the model declined to answer (refusal): ${capped(refusal.trim())}`,
        code: 'refusal',
      });
    }
    ended = true;
    const events: StreamEvent[] = [];
    const ordered = [...toolCalls].sort((a, b) => a.wireIndex - b.wireIndex || a.arrival - b.arrival);
    for (const call of ordered) {
      events.push({
        type: 'tool-call',
        id: call.id ?? `call_${call.arrival}`,
        name: call.name ?? '',
        arguments: parsedArguments(call.argumentPieces),
      });
    }
    if (usage !== undefined) events.push({ type: 'usage', usage });
    events.push(doneEvent(finishReason));
    return events;
  }

  function startToolCall(wireIndex: number, id: string | undefined): ToolCallInProgress {
    const call: ToolCallInProgress = { wireIndex, arrival: toolCalls.length, argumentPieces: [] };
    if (id !== undefined) call.id = id;
    toolCalls.push(call);
    callByWireIndex.set(wireIndex, call);
    return call;
  }

  function startsAnotherCall(last: ToolCallInProgress, fragment: JsonObject): boolean {
    const functionPart = fragment['function'];
    const name = isObject(functionPart) ? nonEmptyString(functionPart['name']) : undefined;
    if (name === undefined || last.name === undefined) return false;
    return name !== last.name || parseJson(last.argumentPieces.join('')) !== undefined;
  }

  function addToolCallFragment(fragment: JsonObject): void {
    toolCallFragments += 1;
    const id = nonEmptyString(fragment['id']);
    const index = finiteNumber(fragment['index']);
    let call: ToolCallInProgress | undefined;
    if (index !== undefined) {
      call = callByWireIndex.get(index);
      // Some proxies give every parallel call index 0; a different id is then the only sign of a new call.
      if (call === undefined || (id !== undefined && call.id !== undefined && call.id !== id)) {
        call = startToolCall(index, id);
      }
    } else if (
      (id !== undefined && id !== lastToolCall?.id) ||
      // Neither index nor id: another name, or the same one after complete arguments, is another call
      // (glued to the first, its name and arguments were lost). Some servers repeat the name in every piece.
      (id === undefined && lastToolCall !== undefined && startsAnotherCall(lastToolCall, fragment))
    ) {
      call = startToolCall(
        toolCalls.length === 0 ? 0 : Math.max(...toolCalls.map((c) => c.wireIndex)) + 1,
        id,
      );
    } else {
      call = lastToolCall ?? startToolCall(0, id);
    }
    lastToolCall = call;
    if (call.id === undefined && id !== undefined) call.id = id;

    const functionPart = fragment['function'];
    if (!isObject(functionPart)) return;
    const name = nonEmptyString(functionPart['name']);
    if (name !== undefined && call.name === undefined) call.name = name;
    const argumentsPart = functionPart['arguments'];
    if (typeof argumentsPart === 'string') call.argumentPieces.push(argumentsPart);
    // Some servers (Ollama-style) send the arguments already parsed.
    else if (isObject(argumentsPart)) call.argumentPieces.push(JSON.stringify(argumentsPart));
  }

  function decodeChunk(chunk: JsonObject): StreamEvent[] {
    const error = errorObjectFrom(chunk);
    if (error !== undefined) return fail(error);

    const events: StreamEvent[] = [];
    const choice = choiceOf(chunk);
    const chunkUsage = usageOfChunk(chunk, choice);
    if (chunkUsage !== undefined) usage = chunkUsage;
    if (choice === undefined) return events;

    const delta = choice['delta'];
    if (isObject(delta)) {
      const reasoningField = reasoningFieldOf(delta);
      if (reasoningField !== undefined) {
        events.push({ type: 'reasoning-delta', text: delta[reasoningField] as string });
      }
      const text = nonEmptyString(delta['content']);
      if (text !== undefined) {
        events.push({ type: 'text-delta', text });
        answerBegan = true;
      }
      const refused = delta['refusal'];
      if (typeof refused === 'string') refusal += refused;
      const toolCallFragments = delta['tool_calls'];
      if (Array.isArray(toolCallFragments)) {
        for (const fragment of toolCallFragments) if (isObject(fragment)) addToolCallFragment(fragment);
      }
    }

    const reason = nonEmptyString(choice['finish_reason']);
    if (reason === 'error') {
      // OpenRouter normally sends an `error` object with this; without one there is still no answer.
      return [...events, ...fail({ message: 'The provider stopped the answer with an error.' })];
    }
    if (reason === 'content_filter') {
      // A cut answer must not pass for a whole one (a CI job would keep half a review).
      filterCut = {
        message: "the provider's content filter cut the answer off (finish_reason content_filter).",
        code: 'content_filter',
      };
      return chunkUsage === undefined ? events : [...events, ...failWith(filterCut)];
    }
    if (reason !== undefined) {
      finishReason = reason;
      finishReasons += 1;
    }
    return events;
  }

  /**
   * A chunk whose only effect was one text or reasoning delta (no tool call, usage, finish reason or error)
   * is what most chunks of a stream are. decodeChunk reads that delta's field only to emit it, so a chunk
   * that differs from this one in that string alone has the same effect with its own text: the envelope
   * is kept. (An empty reasoning field would let the next reasoning field speak: see decodeLikeLastShape.)
   */
  function decodeAndLearn(data: string, chunk: JsonObject): StreamEvent[] {
    const before = { usage, finishReasons, toolCallFragments };
    const events = decodeChunk(chunk);
    const only = events.length === 1 ? events[0] : undefined;
    const oneDelta =
      (only?.type === 'text-delta' || only?.type === 'reasoning-delta') &&
      usage === before.usage &&
      finishReasons === before.finishReasons &&
      toolCallFragments === before.toolCallFragments;
    if (oneDelta) oneDeltaChunks += 1;
    // A server that varies its envelope on every chunk (a counter, random padding) would make every chunk
    // pay for learning; after a few shapes that no chunk reused, stop trying.
    if (
      reuseDeltaShapes &&
      oneDelta &&
      oneDeltaChunks > chunksBeforeLearning &&
      unusedShapes < maximumUnusedShapes
    ) {
      const type = only.type;
      const key = type === 'text-delta' ? 'content' : reasoningFieldOf(deltaOf(chunk, answerIndex) ?? {});
      const slot =
        key === undefined
          ? undefined
          : findStringSlot(data, key, (value) => deltaOf(value, answerIndex)?.[key]);
      shape = slot === undefined ? undefined : { slot: byteSlotOf(slot), type };
      unusedShapes += 1;
    }
    return events;
  }

  /**
   * A chunk with the learned envelope: its text read alone from the bytes, as decodeChunk would have
   * emitted it. The text stays bytes: in text mode it goes to stdout as it came.
   */
  function decodeLikeLastShape(bytes: Uint8Array): StreamEvent[] | undefined {
    if (shape === undefined) return undefined;
    const pieces = stringBytesInSlot(shape.slot, bytes);
    // An empty reasoning field is skipped for the next one, which only the full parse can read.
    if (pieces === undefined || (pieces.length === 0 && shape.type === 'reasoning-delta')) return undefined;
    unusedShapes = 0;
    return pieces.length === 0 ? [] : [utf8Delta(shape.type, pieces)];
  }

  /** Any message, parsed whole. */
  function decodeWhole(event: string, data: string): StreamEvent[] {
    if (data === '[DONE]') return flush();
    const parsed = parseJson(data);
    if (event === 'error') {
      // A few proxies send `event: error` with a plain-text or JSON payload.
      if (isObject(parsed)) return fail(errorObjectFrom(parsed) ?? parsed);
      return fail({ message: messageOfErrorEvent(data) });
    }
    if (parsed === undefined && data !== '') return failWith(notJsonFailure(data));
    // JSON that is no object (`42`, `null`) says nothing we can use.
    if (!isObject(parsed)) return [];
    return decodeAndLearn(data, parsed);
  }

  return {
    // Kept small, the rare cases in decodeWhole: it runs once per chunk, and the JIT compiles it together
    // with what it calls. `[DONE]` never has a learned shape, which starts with `{`.
    decode(message: SseMessage): StreamEvent[] {
      if (ended) return [];
      if (filterCut !== undefined) return decodeAfterCut(filterCut, message.data.trim());
      // A learned envelope starts with `{` and ends with `}`: bytes that match it need no trimming.
      const events = message.event === 'error' ? undefined : decodeLikeLastShape(message.bytes);
      return events ?? decodeWhole(message.event, message.data.trim());
    },
    isEnded: () => ended,
    hasFinished: () => finishReason !== undefined,
    usageSoFar: () => usage,
    finish(): StreamEvent[] {
      if (ended) return [];
      if (filterCut !== undefined) return failWith(filterCut);
      // The byte stream ended without [DONE] (which flushes earlier) and without any finish_reason: the
      // connection was cut, and a cut-off answer must not pass for a whole one.
      if (finishReason === undefined) return failWith(endedEarlyFailure('no finish_reason, no [DONE]'));
      return flush();
    },
  };
}

function parseErrorBody(status: number, body: string): ApiErrorDetails {
  let message: string | undefined;
  let code: string | undefined;
  let type: string | undefined;

  const parsed = firstOf(parseJson(body));
  if (isObject(parsed)) {
    const error = errorObjectFrom(parsed) ?? parsed;
    message = nonEmptyString(error['message']);
    type = nonEmptyString(error['type']);
    code = codeFrom(error['code']) ?? type;
  } else {
    message = messageOfTextBody(body);
  }

  const details: ApiErrorDetails = { message: capped(messageOrStatus(message, status)) };
  if (code !== undefined) details.code = code;
  if (isSpentQuota(code, type, details.message)) details.doNotRetry = true;
  if (status === 401 || status === 403) details.isAuthFailure = true;
  return details;
}

/**
 * A `chat.completion` (a server that ignored `stream: true`) as the chunks a stream would have sent: each
 * choice's message as its one delta (tool calls numbered, as deltas number them), then the usage.
 */
function chunksOfWholeReply(reply: unknown): string[] | undefined {
  if (!isObject(reply) || !Array.isArray(reply['choices'])) return undefined;
  const choices = reply['choices'].filter(isObject);
  if (!choices.some((choice) => isObject(choice['message']))) return undefined;
  const deltas = choices.map((choice, position) => {
    const message = isObject(choice['message']) ? choice['message'] : {};
    const calls = Array.isArray(message['tool_calls']) ? message['tool_calls'] : undefined;
    const toolCalls = calls?.map((call, index) => (isObject(call) ? { index, ...call } : call));
    return {
      index: finiteNumber(choice['index']) ?? position,
      delta: toolCalls === undefined ? message : { ...message, tool_calls: toolCalls },
      finish_reason: choice['finish_reason'] ?? 'stop',
    };
  });
  const chunks = [JSON.stringify({ object: 'chat.completion.chunk', choices: deltas })];
  if (isObject(reply['usage'])) chunks.push(JSON.stringify({ choices: [], usage: reply['usage'] }));
  return [...chunks, '[DONE]'];
}

export const openaiAdapter: ProtocolAdapter = {
  buildRequest,
  createDecoder: () => createOpenAiDecoder(),
  parseErrorBody,
  chunksOfWholeReply,
};
