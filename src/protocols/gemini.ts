// Google's generateContent protocol, spoken by the Gemini API and by Vertex AI: the same body, stream and
// error shapes, different URLs and credentials. As in openai.ts, the decoder narrows every field from
// `unknown`, because a stream that throws halfway through loses the answer the user was already reading.

import { CliError } from '../core/errors.ts';
import type { StreamEvent, StreamFailure } from '../core/events.ts';
import type { SseMessage } from '../core/sse.ts';
import {
  type ChatRequest,
  type HttpRequest,
  isObject,
  type JsonObject,
  type Message,
  type ResolvedModel,
  type Usage,
} from '../core/types.ts';
import type { ApiErrorDetails, DecoderOptions, ProtocolAdapter, StreamDecoder } from './adapter.ts';
import { createGeminiReplyRecorder } from './gemini-reply.ts';
import {
  alternatingTurns,
  baseUrlParts,
  capped,
  doneEvent,
  endedEarlyFailure,
  failureEvents,
  finiteNumber,
  firstOf,
  httpStatusFrom,
  messageOfTextBody,
  messageOrStatus,
  nonEmptyString,
  notJsonFailure,
  parseJson,
  setHeader,
  setStreamAndUserHeaders,
  stopSequencesOf,
  withQuery,
} from './wire.ts';

export const defaultGeminiBaseUrl = 'https://generativelanguage.googleapis.com';
export const defaultVertexBaseUrl = 'https://aiplatform.googleapis.com';

/** A base URL copied with its API version (`.../v1beta`, `.../v1`) must not get a second one. */
function withVersion(base: string, version: string): string {
  return /\/v1(?:(?:alpha|beta)\d*)?$/.test(base) ? base : `${base}/${version}`;
}

type GoogleService = 'gemini' | 'vertex';

/**
 * The model's resource path, as @google/genai (Qwen Code's client) names it: a bare id is
 * `models/<id>` on Gemini and `publishers/google/models/<id>` on Vertex AI, `<publisher>/<id>` is
 * `publishers/<publisher>/models/<id>`, and a path that already names a resource (`tunedModels/...` on
 * Gemini; `publishers/...` or `projects/.../endpoints/...` on Vertex AI) is kept as it is. Unlike the SDK,
 * `models/<id>` (the Gemini API's way to list them) on Vertex AI is Google's model of that id, as it was
 * here before: Vertex AI answers 404 to `models/...` at the top. Each segment is escaped, so a model id
 * cannot add a query or change the endpoint.
 */
export function modelResourcePath(service: GoogleService, model: string): string {
  const id = model.trim();
  const path = service === 'gemini' ? geminiModelPath(id) : vertexModelPath(id);
  const segments = path.split('/');
  // A `..` segment, escaped or not, is resolved away by every URL parser: it would name another endpoint.
  if (segments.some((segment) => segment === '' || /^(?:\.|%2e)+$/i.test(segment))) {
    throw new CliError('input', `"${id}" is not a model name: it has an empty or "." or ".." part.`, {
      hint: 'Give the model id as the provider lists it (gemini-2.5-pro, tunedModels/<name>).',
    });
  }
  return segments.map((segment) => encodeURIComponent(segment)).join('/');
}

function geminiModelPath(id: string): string {
  return id.startsWith('models/') || id.startsWith('tunedModels/') ? id : `models/${id}`;
}

function vertexModelPath(id: string): string {
  if (id.startsWith('publishers/') || id.startsWith('projects/')) return id;
  if (id.startsWith('models/')) return `publishers/google/${id}`;
  // `<publisher>/<id>`: that publisher's model.
  if (id.includes('/')) return `publishers/${id.replace('/', '/models/')}`;
  return `publishers/google/models/${id}`;
}

const streamSuffix = ':streamGenerateContent?alt=sse';

function geminiUrl(target: ResolvedModel): string {
  const { base, query } = baseUrlParts(target.baseUrl, defaultGeminiBaseUrl);
  return withQuery(
    `${withVersion(base, 'v1beta')}/${modelResourcePath('gemini', target.model)}${streamSuffix}`,
    query,
  );
}

/** Regional hosts; `global` has none, and the multi-regions `us`/`eu` live under `rep.googleapis.com`. */
function vertexHost(location: string): string {
  if (location === 'global') return defaultVertexBaseUrl;
  if (location === 'us' || location === 'eu') return `https://aiplatform.${location}.rep.googleapis.com`;
  return `https://${location}-aiplatform.googleapis.com`;
}

/** Where a Vertex AI request goes when no base URL is set: the location's host in project mode. */
export function defaultVertexHostFor(target: ResolvedModel): string {
  const cloud = target.googleCloud;
  return cloud !== undefined && !target.apiKey ? vertexHost(cloud.location) : defaultVertexBaseUrl;
}

function usesVertexProjectMode(target: ResolvedModel): boolean {
  return (
    (target.apiKey === undefined || target.apiKey === '') &&
    target.googleCloud !== undefined &&
    target.accessToken !== undefined &&
    target.accessToken !== ''
  );
}

/** Qwen Code's client (@google/genai) calls Vertex AI's v1beta1 in both modes: a gateway set up for it expects that path. */
const vertexApiVersion = 'v1beta1';

function vertexUrl(target: ResolvedModel): string {
  // A configured base URL (private endpoint, test server) replaces the scheme and host in both modes.
  const { base: configured, query } = baseUrlParts(target.baseUrl);
  const cloud = target.googleCloud;
  if (usesVertexProjectMode(target) && cloud !== undefined) {
    const base = withVersion(configured || vertexHost(cloud.location), vertexApiVersion);
    const model = modelResourcePath('vertex', target.model);
    // A full resource name (`projects/<p>/locations/<l>/endpoints/<id>`) already says where it lives.
    if (model.startsWith('projects/')) return withQuery(`${base}/${model}${streamSuffix}`, query);
    const project = encodeURIComponent(cloud.project);
    const location = encodeURIComponent(cloud.location);
    return withQuery(`${base}/projects/${project}/locations/${location}/${model}${streamSuffix}`, query);
  }
  const base = withVersion(configured || defaultVertexBaseUrl, vertexApiVersion);
  return withQuery(`${base}/${modelResourcePath('vertex', target.model)}${streamSuffix}`, query);
}

interface GeminiContent {
  role: 'user' | 'model';
  parts: readonly JsonObject[];
}

/**
 * System text becomes `systemInstruction`; the rest become `contents`, where user and model alternate. A
 * reply with signed parts goes back to the model that made it as those parts; any other turn as its text.
 */
function splitConversation(
  messages: Message[],
  target: ResolvedModel,
): { system: string | undefined; contents: GeminiContent[] } {
  const { system, turns } = alternatingTurns(messages, target);
  return {
    system,
    contents: turns.map((turn) => ({
      role: turn.role === 'assistant' ? 'model' : 'user',
      parts: turn.signedParts ?? [{ text: turn.content }],
    })),
  };
}

/** samplingParams keys (OpenAI's names, as users write them) and the generationConfig field of each. */
const numericSamplingFields = [
  ['temperature', 'temperature'],
  ['top_p', 'topP'],
  ['top_k', 'topK'],
  ['max_tokens', 'maxOutputTokens'],
  ['presence_penalty', 'presencePenalty'],
  ['frequency_penalty', 'frequencyPenalty'],
] as const;

/** Only the samplingParams Gemini knows are sent: it answers 400 to a field it has no name for. */
function generationConfigOf(target: ResolvedModel): JsonObject {
  const sampling = target.generationConfig.samplingParams ?? {};
  const config: JsonObject = {};
  for (const [ours, theirs] of numericSamplingFields) {
    const value = finiteNumber(sampling[ours]);
    if (value !== undefined) config[theirs] = value;
  }
  const stop = stopSequencesOf(sampling.stop);
  if (stop !== undefined) config['stopSequences'] = stop;
  return config;
}

function buildRequestFor(service: GoogleService, request: ChatRequest): HttpRequest {
  const { target } = request;
  const headers: Record<string, string> = {};
  const apiKey = target.apiKey !== undefined && target.apiKey !== '' ? target.apiKey : undefined;
  // The key travels in a header, never in the URL, so it cannot end up in an error message or a proxy log.
  if (apiKey !== undefined) setHeader(headers, 'x-goog-api-key', apiKey);
  else if (target.accessToken !== undefined && target.accessToken !== '') {
    setHeader(headers, 'Authorization', `Bearer ${target.accessToken}`);
  }
  setStreamAndUserHeaders(headers, request);

  const { system, contents } = splitConversation(request.messages, target);
  const body: JsonObject = { contents };
  if (system !== undefined) body['systemInstruction'] = { parts: [{ text: system }] };
  const generationConfig = generationConfigOf(target);
  if (Object.keys(generationConfig).length > 0) body['generationConfig'] = generationConfig;

  // extra_body is merged at the top level, as for the other protocols, except that an object given for a
  // field we also fill (`generationConfig: {thinkingConfig: ...}`) is merged into ours instead of wiping
  // out the temperature and token cap that came from samplingParams.
  for (const [key, value] of Object.entries(target.generationConfig.extra_body ?? {})) {
    const ours = body[key];
    body[key] = isObject(ours) && isObject(value) ? { ...ours, ...value } : value;
  }

  const url = service === 'gemini' ? geminiUrl(target) : vertexUrl(target);
  return { url, headers, body: JSON.stringify(body) };
}

const cutOff = 'Gemini cut the answer off';

/**
 * Finish reasons that mean the answer is not a whole one, with what each says happened. The others (STOP,
 * MAX_TOKENS, which is a length, and reasons added after this was written) end the answer normally. A
 * filter's cut or a broken tool call must not pass for a complete answer (a CI job would keep half a review).
 */
const failedFinishReasons = new Map<string, string>([
  ...[
    'SAFETY',
    'RECITATION',
    'LANGUAGE',
    'BLOCKLIST',
    'PROHIBITED_CONTENT',
    'SPII',
    'IMAGE_SAFETY',
    'IMAGE_PROHIBITED_CONTENT',
    'IMAGE_RECITATION',
  ].map((filter): [string, string] => [filter, cutOff]),
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
]);

/** The failure a finish reason stands for, quoting the finishMessage Gemini sends with some of them. */
function finishFailure(reason: string, description: string, finishMessage: unknown): StreamFailure {
  const detail = nonEmptyString(finishMessage)?.trim();
  const said = detail === undefined || detail === '' ? '.' : `: ${capped(detail)}`;
  return { message: `${description} (finishReason ${reason})${said}`, code: reason };
}

/** google.protobuf.Duration in JSON: "34.4s", "1s", "0.5s". */
function durationMs(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(value);
    return match?.[1] === undefined ? undefined : Math.round(Number.parseFloat(match[1]) * 1000);
  }
  if (isObject(value)) {
    const seconds = Number(value['seconds'] ?? 0);
    const nanos = Number(value['nanos'] ?? 0);
    if (Number.isFinite(seconds) && Number.isFinite(nanos)) return Math.round(seconds * 1000 + nanos / 1e6);
  }
  return undefined;
}

/** What the `details` of a google.rpc.Status error say, in an error body and in an error event alike. */
interface StatusDetails {
  /** ErrorInfo reasons (`API_KEY_INVALID`), each once. */
  reasons: string[];
  /** RetryInfo.retryDelay, in ms. */
  retryAfterMs: number | undefined;
  /** Another attempt cannot help: a 429 for a daily quota does not come back within any wait worth making. */
  doNotRetry: boolean;
}

function statusDetailsOf(error: JsonObject, status: number | undefined): StatusDetails {
  const reasons = new Set<string>();
  let retryAfterMs: number | undefined;
  let dailyQuota = false;
  const details = Array.isArray(error['details']) ? error['details'] : [];
  for (const detail of details) {
    if (!isObject(detail)) continue;
    const reason = nonEmptyString(detail['reason']);
    if (reason !== undefined) reasons.add(reason);
    retryAfterMs ??= durationMs(detail['retryDelay']);
    const violations = detail['violations'];
    if (Array.isArray(violations)) {
      for (const violation of violations) {
        const quotaId = isObject(violation) ? nonEmptyString(violation['quotaId']) : undefined;
        if (quotaId !== undefined && /PerDay/i.test(quotaId)) dailyQuota = true;
      }
    }
  }
  return { reasons: [...reasons], retryAfterMs, doNotRetry: status === 429 && dailyQuota };
}

/**
 * An error event (a `google.rpc.Status`, as in an error body): a 429 or 503 inside a 200 stream asks for its
 * wait in RetryInfo as an HTTP error body does, and the retry before any answer honours it.
 */
function streamFailureFrom(error: JsonObject): StreamFailure {
  const failure: StreamFailure = {
    message: nonEmptyString(error['message']) ?? 'The server reported an error in the middle of the stream.',
  };
  const status = httpStatusFrom(error['code']);
  if (status !== undefined) failure.status = status;
  const code = nonEmptyString(error['status']);
  if (code !== undefined) failure.code = code;
  const { retryAfterMs, doNotRetry } = statusDetailsOf(error, status);
  if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  if (doNotRetry) failure.doNotRetry = true;
  return failure;
}

/**
 * usageMetadata counts are running totals. Gemini keeps thinking out of `candidatesTokenCount`, and so does
 * the output count Qwen Code reports for it (`output_tokens`, stats' `candidates`); the thinking is
 * `reasoningTokens` (stats' `thoughts`), and `totalTokenCount` counts both.
 */
function usageFrom(value: unknown): Usage | undefined {
  if (!isObject(value)) return undefined;
  // Vertex's early chunks carry only `trafficType`; zeros from them must not replace nothing.
  const counted = ['promptTokenCount', 'candidatesTokenCount', 'totalTokenCount'].some(
    (name) => finiteNumber(value[name]) !== undefined,
  );
  if (!counted) return undefined;
  const inputTokens = finiteNumber(value['promptTokenCount']) ?? 0;
  const thoughts = finiteNumber(value['thoughtsTokenCount']);
  const outputTokens = finiteNumber(value['candidatesTokenCount']) ?? 0;
  const usage: Usage = {
    inputTokens,
    outputTokens,
    totalTokens: finiteNumber(value['totalTokenCount']) ?? inputTokens + outputTokens + (thoughts ?? 0),
  };
  const cached = finiteNumber(value['cachedContentTokenCount']);
  if (cached !== undefined) usage.cachedInputTokens = cached;
  if (thoughts !== undefined) usage.reasoningTokens = thoughts;
  return usage;
}

function createDecoder(options: DecoderOptions = {}): StreamDecoder {
  const recorder = options.keepSignedReply === true ? createGeminiReplyRecorder() : undefined;
  let usage: Usage | undefined;
  let finishReason: string | undefined;
  let toolCallCount = 0;
  let ended = false;

  /** Ends the stream in failure, with the latest usageMetadata (a blocked prompt's chunk carries one). */
  function fail(failure: StreamFailure): StreamEvent[] {
    ended = true;
    return failureEvents(failure, usage);
  }

  function partEvents(part: unknown): StreamEvent[] {
    if (!isObject(part)) return [];
    recorder?.add(part);
    const call = part['functionCall'];
    if (isObject(call)) {
      // Calls arrive whole, args already parsed; the API gives ids only sometimes.
      toolCallCount += 1;
      const args = call['args'];
      return [
        {
          type: 'tool-call',
          id: nonEmptyString(call['id']) ?? `call_${toolCallCount}`,
          name: nonEmptyString(call['name']) ?? '',
          arguments: args === undefined || args === null ? {} : args,
        },
      ];
    }
    // The last chunk often carries an empty text part that only holds a thoughtSignature.
    const text = nonEmptyString(part['text']);
    if (text === undefined) return [];
    return [part['thought'] === true ? { type: 'reasoning-delta', text } : { type: 'text-delta', text }];
  }

  function decodeChunk(chunk: JsonObject): StreamEvent[] {
    const error = chunk['error'];
    if (isObject(error)) return fail(streamFailureFrom(error));

    const chunkUsage = usageFrom(chunk['usageMetadata']);
    if (chunkUsage !== undefined) usage = chunkUsage;

    const candidates = chunk['candidates'];
    const candidate = Array.isArray(candidates) && isObject(candidates[0]) ? candidates[0] : undefined;
    if (candidate === undefined) {
      const feedback = chunk['promptFeedback'];
      const blockReason = isObject(feedback) ? nonEmptyString(feedback['blockReason']) : undefined;
      if (blockReason !== undefined && isObject(feedback)) {
        // No candidates at all: the prompt itself was refused, and an empty answer would hide that.
        const detail = nonEmptyString(feedback['blockReasonMessage']);
        return fail({
          message: `The prompt was blocked by Gemini (${blockReason})${detail === undefined ? '.' : `: ${detail}`}`,
          code: blockReason,
        });
      }
      return [];
    }

    const events: StreamEvent[] = [];
    const content = candidate['content'];
    const parts = isObject(content) ? content['parts'] : undefined;
    if (Array.isArray(parts)) for (const part of parts) events.push(...partEvents(part));
    const reason = nonEmptyString(candidate['finishReason']);
    const failed = reason === undefined ? undefined : failedFinishReasons.get(reason);
    if (reason !== undefined && failed !== undefined) {
      // The text before it stays: it was shown, and the failure says why it ends there.
      return [...events, ...fail(finishFailure(reason, failed, candidate['finishMessage']))];
    }
    if (reason !== undefined) finishReason = reason;
    return events;
  }

  /**
   * A bare error object the server wrote without `data:` (js-genai looks for one in every raw chunk): a
   * failure that ended the stream, whose message would otherwise be lost to "no finishReason".
   */
  function decodeStrayJson(text: string): StreamEvent[] {
    const chunk = firstOf(parseJson(text));
    const error = isObject(chunk) ? chunk['error'] : undefined;
    return isObject(error) ? fail(streamFailureFrom(error)) : [];
  }

  return {
    decode(message: SseMessage): StreamEvent[] {
      if (ended) return [];
      if (message.strayJson !== undefined) return decodeStrayJson(message.strayJson);
      const parsed = parseJson(message.data);
      const data = message.data.trim();
      if (parsed === undefined && data !== '') return fail(notJsonFailure(data));
      const chunk = firstOf(parsed);
      // JSON that is no object (`42`, `null`) says nothing we can use.
      if (!isObject(chunk)) return [];
      return decodeChunk(chunk);
    },
    // Gemini has no terminator event: the chunk with the finishReason is the last one, and a server that
    // keeps the connection open after it has nothing more to say.
    isEnded: () => ended || finishReason !== undefined,
    hasFinished: () => finishReason !== undefined,
    usageSoFar: () => usage,
    signedReply: () => recorder?.parts(),
    finish(): StreamEvent[] {
      if (ended) return [];
      // Gemini has no terminator event: the last chunk's finishReason is what says the answer is whole.
      if (finishReason === undefined) return fail(endedEarlyFailure('no finishReason'));
      ended = true;
      const events: StreamEvent[] = [];
      if (usage !== undefined) events.push({ type: 'usage', usage });
      events.push(doneEvent(finishReason));
      return events;
    },
  };
}

function parseErrorBodyFor(service: GoogleService, status: number, body: string): ApiErrorDetails {
  let message: string | undefined;
  let code: string | undefined;
  let error: JsonObject = {};

  const parsed = firstOf(parseJson(body));
  if (isObject(parsed)) {
    error = isObject(parsed['error']) ? parsed['error'] : parsed;
    message = nonEmptyString(error['message']);
    code = nonEmptyString(error['status']);
  } else {
    message = messageOfTextBody(body);
  }
  const { reasons, retryAfterMs, doNotRetry } = statusDetailsOf(error, status);

  let text = messageOrStatus(message, status);
  // Gemini answers a bad key with 400, not 401: recognise it so the run ends as an auth failure (exit 41).
  const badKey = reasons.includes('API_KEY_INVALID') || /api key not valid/i.test(text);
  if (badKey) {
    const variable = service === 'gemini' ? 'GEMINI_API_KEY' : 'GOOGLE_API_KEY';
    // The adapter does not know which variable the key came from; the protocol's default is the usual one.
    text = `${text} (the key from ${variable}, or from the variable the entry's envKey names, was refused)`;
  }

  const details: ApiErrorDetails = { message: capped(text) };
  const detailCode = badKey ? 'API_KEY_INVALID' : (code ?? reasons[0]);
  if (detailCode !== undefined) details.code = detailCode;
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  if (badKey || status === 401 || status === 403) details.isAuthFailure = true;
  if (doNotRetry) details.doNotRetry = true;
  return details;
}

/**
 * generateContent's whole reply has the shape of a stream chunk, and streamGenerateContent without
 * `alt=sse` sends a JSON array of them: either is the stream, chunk by chunk (a usage-only chunk, a blocked
 * prompt's feedback included).
 */
function chunksOfWholeReply(reply: unknown): string[] | undefined {
  const chunks = Array.isArray(reply) ? reply : [reply];
  if (!chunks.every(isObject)) return undefined;
  const answers = chunks.some(
    (chunk) => Array.isArray(chunk['candidates']) || isObject(chunk['promptFeedback']),
  );
  return answers ? chunks.map((chunk) => JSON.stringify(chunk)) : undefined;
}

export const geminiAdapter: ProtocolAdapter = {
  buildRequest: (request) => buildRequestFor('gemini', request),
  createDecoder,
  parseErrorBody: (status, body) => parseErrorBodyFor('gemini', status, body),
  chunksOfWholeReply,
  streamsJsonArray: true,
};

export const vertexAdapter: ProtocolAdapter = {
  buildRequest: (request) => buildRequestFor('vertex', request),
  createDecoder,
  parseErrorBody: (status, body) => parseErrorBodyFor('vertex', status, body),
  chunksOfWholeReply,
  streamsJsonArray: true,
};
