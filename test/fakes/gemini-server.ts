// A fake Gemini API / Vertex AI server over real HTTP on 127.0.0.1, port 0. One server answers the three
// URL shapes, like the real hosts do:
//
//   POST /v1beta/models/{model}:streamGenerateContent?alt=sse                                 Gemini API
//   POST /v1beta1/publishers/{publisher}/models/{model}:streamGenerateContent?alt=sse              Vertex express
//   POST /v1beta1/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:streamGenerateContent?alt=sse
//
// and the resource names a model can also have: `/v1beta/tunedModels/{name}` on the Gemini API, and
// `/v1beta1/projects/{p}/locations/{l}/endpoints/{id}` (a deployed model) on Vertex AI's project path.
//
// With `apiKey` set, the first two need it in `x-goog-api-key` (a wrong one gets Gemini's 400
// API_KEY_INVALID); with `accessToken` set, the project path needs `Authorization: Bearer` (else 401
// UNAUTHENTICATED). A key in the query string is refused with 400 so that tests notice it leaking there.

import { type RecordedRequest, type ReplayStep, type ScriptedServer, startScriptedServer } from './replay.ts';

export type { RecordedRequest, ReplayStep, SliceOptions } from './replay.ts';

export interface GeminiStreamFunctionCall {
  id?: string;
  name: string;
  args?: Record<string, unknown>;
}

export interface GeminiStreamOptions {
  thoughts?: string[];
  text?: string[];
  functionCalls?: GeminiStreamFunctionCall[];
  promptTokens?: number;
  /** Defaults to `STOP` (also after function calls, as the API does). */
  finishReason?: string;
  /** Sent beside the finishReason, as Gemini explains MALFORMED_FUNCTION_CALL and some others. */
  finishMessage?: string;
  model?: string;
  /** Ends the stream with an `{error:{code,message,status}}` event instead of the finish chunk. */
  error?: { code: number; message: string; status: string; details?: unknown[] };
}

export interface FakeGeminiOptions {
  port?: number;
  /** Required in `x-goog-api-key` on the Gemini API and Vertex express paths. */
  apiKey?: string;
  /** Required as `Authorization: Bearer` on the Vertex project path. */
  accessToken?: string;
}

export interface FakeGemini extends ScriptedServer {
  /** Base URL as a user would put it in an entry's baseUrl (scheme and host only). */
  url: string;
}

/** Builds a realistic streamGenerateContent SSE body: `\r\n\r\n` between events, no [DONE]. */
export function geminiStream(options: GeminiStreamOptions = {}): string {
  const frames: string[] = [];
  const promptTokens = options.promptTokens ?? 9;
  let candidatesTokens = 0;
  let thoughtsTokens = 0;
  const chunk = (parts: unknown[], finishReason?: string): void => {
    const candidate: Record<string, unknown> = { content: { parts, role: 'model' }, index: 0 };
    if (finishReason !== undefined) candidate['finishReason'] = finishReason;
    if (finishReason !== undefined && options.finishMessage !== undefined) {
      candidate['finishMessage'] = options.finishMessage;
    }
    const usageMetadata: Record<string, unknown> = {
      promptTokenCount: promptTokens,
      candidatesTokenCount: candidatesTokens,
      totalTokenCount: promptTokens + candidatesTokens + thoughtsTokens,
    };
    if (thoughtsTokens > 0) usageMetadata['thoughtsTokenCount'] = thoughtsTokens;
    const payload = {
      candidates: [candidate],
      usageMetadata,
      modelVersion: options.model ?? 'gemini-2.5-flash',
      responseId: 'FakeGeminiResponse0001',
    };
    frames.push(`data: ${JSON.stringify(payload)}\r\n\r\n`);
  };
  for (const thought of options.thoughts ?? []) {
    thoughtsTokens += 5;
    chunk([{ text: thought, thought: true }]);
  }
  for (const text of options.text ?? []) {
    candidatesTokens += 3;
    chunk([{ text }]);
  }
  if ((options.functionCalls ?? []).length > 0) {
    candidatesTokens += 10;
    chunk(
      (options.functionCalls ?? []).map((call) => ({
        functionCall: {
          ...(call.id === undefined ? {} : { id: call.id }),
          name: call.name,
          args: call.args ?? {},
        },
      })),
    );
  }
  if (options.error !== undefined) {
    frames.push(`data: ${JSON.stringify({ error: options.error })}\r\n\r\n`);
    return frames.join('');
  }
  chunk([{ text: '' }], options.finishReason ?? 'STOP');
  return frames.join('');
}

const statusByCode: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export function googleErrorBody(code: number, message: string, details?: unknown[]): Record<string, unknown> {
  const error: Record<string, unknown> = { code, message, status: statusByCode[code] ?? 'UNKNOWN' };
  if (details !== undefined) error['details'] = details;
  return { error };
}

function invalidKeyBody(service: string): Record<string, unknown> {
  return googleErrorBody(400, 'API key not valid. Please pass a valid API key.', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service },
    },
  ]);
}

const geminiPath = /^\/v1beta\/(?:models|tunedModels)\/[^/:]+:streamGenerateContent$/;
const expressPath = /^\/v1beta1\/publishers\/[^/]+\/models\/[^/:]+:streamGenerateContent$/;
const projectPath =
  /^\/v1beta1\/projects\/[^/]+\/locations\/[^/]+\/(?:publishers\/[^/]+\/models|endpoints)\/[^/:]+:streamGenerateContent$/;

function screen(request: RecordedRequest, options: FakeGeminiOptions): Response | undefined {
  const url = new URL(request.path, 'http://fake');
  const path = decodeURIComponent(url.pathname);
  const isGemini = geminiPath.test(path);
  const isExpress = expressPath.test(path);
  const isProject = projectPath.test(path);
  if (request.method !== 'POST' || (!isGemini && !isExpress && !isProject)) {
    return Response.json(googleErrorBody(404, `Method not found: ${path}`), { status: 404 });
  }
  if (url.searchParams.has('key')) {
    return Response.json(googleErrorBody(400, 'fake server: the API key must not travel in the URL'), {
      status: 400,
    });
  }
  if (url.searchParams.get('alt') !== 'sse') {
    return Response.json(googleErrorBody(400, 'fake server: only alt=sse streams are scripted'), {
      status: 400,
    });
  }
  if (isProject) {
    if (
      options.accessToken !== undefined &&
      request.headers['authorization'] !== `Bearer ${options.accessToken}`
    ) {
      return Response.json(
        googleErrorBody(
          401,
          'Request had invalid authentication credentials. Expected OAuth 2 access token.',
        ),
        { status: 401 },
      );
    }
    return undefined;
  }
  if (options.apiKey !== undefined && request.headers['x-goog-api-key'] !== options.apiKey) {
    const service = isGemini ? 'generativelanguage.googleapis.com' : 'aiplatform.googleapis.com';
    return Response.json(invalidKeyBody(service), { status: 400 });
  }
  return undefined;
}

export function startFakeGemini(
  steps: ReplayStep | ReplayStep[] = [],
  options: FakeGeminiOptions = {},
): FakeGemini {
  const server = startScriptedServer(steps, {
    port: options.port,
    defaultSse: geminiStream({ text: ['Hello', ' from', ' the fake.'] }),
    defaultErrorBody: (status) => googleErrorBody(status, `Fake server error ${status}`),
    screen: (request) => screen(request, options),
  });
  return { ...server, url: server.origin };
}
