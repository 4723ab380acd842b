// A fake OpenAI-compatible server over real HTTP on 127.0.0.1, port 0. Tests drive it in-process:
//
//   const fake = startFakeOpenAi([{ status: 429, body: {...}, headers: { 'retry-after-ms': '10' } },
//                                 { stream: { text: ['Hel', 'lo'] }, slices: { seed: 7, maxSize: 5 } }]);
//   ... point OPENAI_BASE_URL at fake.url, run, then look at fake.requests ...
//   await fake.stop();
//
// and e2e tests or the benchmark run it as a process from any runtime:
//
//   bun test/fakes/openai-server.ts script.json      (or FAKE_OPENAI_SCRIPT=script.json)
//   -> prints {"url":"http://127.0.0.1:PORT/v1"} on one line, serves until killed.
//
// A script is a JSON array of steps (or {"responses": [...]}); `sseFile` paths are relative to the script.
// Control routes for out-of-process use: GET /__fake/requests lists the recorded requests, and
// PUT /__fake/responses replaces the steps (and empties the recording).

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type RecordedRequest, type ReplayStep, startScriptedServer } from './replay.ts';

export type { RecordedRequest, SliceOptions } from './replay.ts';

export interface OpenAiStreamToolCall {
  id?: string;
  name: string;
  /** A JSON string (sent in one piece after the opening fragment), pieces to send one by one, or an object. */
  arguments?: string | string[] | Record<string, unknown>;
}

export interface OpenAiStreamOptions {
  text?: string[];
  reasoning?: string[];
  /** DashScope, DeepSeek and older vLLM say `reasoning_content`; OpenRouter and newer vLLM `reasoning`. */
  reasoningField?: 'reasoning_content' | 'reasoning';
  toolCalls?: OpenAiStreamToolCall[];
  /** The final usage chunk; `null` leaves it out (a server that ignores `stream_options`). */
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens?: number } | null;
  /** Defaults to `tool_calls` when there are tool calls, else `stop`. */
  finishReason?: string;
  model?: string;
  id?: string;
  /** `\r\n` to exercise CRLF framing. */
  lineEnding?: '\n' | '\r\n';
  /** Leave out the final `data: [DONE]`. */
  omitDone?: boolean;
}

export interface ResponseStep extends ReplayStep {
  /** An SSE body built by openAiStream(), when neither `sse` nor `sseFile` gives one. */
  stream?: OpenAiStreamOptions;
}

export interface FakeOpenAi {
  /** Base URL ending in `/v1`, as a user would put in OPENAI_BASE_URL. */
  url: string;
  port: number;
  /** Every request in arrival order, control routes excluded. Live: it grows as requests arrive. */
  requests: RecordedRequest[];
  /** Replaces the script and empties the recording; steps are consumed one per chat request, the last repeating. */
  setResponses(...steps: ResponseStep[]): void;
  stop(): Promise<void>;
}

/** Builds a realistic chat.completion.chunk stream: role chunk, reasoning, text, tool calls, finish, usage, [DONE]. */
export function openAiStream(options: OpenAiStreamOptions = {}): string {
  const id = options.id ?? 'chatcmpl-fake0000000000000000000001';
  const model = options.model ?? 'fake-model';
  const created = 1764200000;
  const end = `${options.lineEnding ?? '\n'}${options.lineEnding ?? '\n'}`;
  const frames: string[] = [];
  const chunk = (choices: unknown[], usage: unknown = null): void => {
    const payload = {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_fake',
      choices,
      usage,
    };
    frames.push(`data: ${JSON.stringify(payload)}${end}`);
  };
  const choice = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finishReason,
  });

  const reasoningField = options.reasoningField ?? 'reasoning_content';
  const reasoning = options.reasoning ?? [];
  const text = options.text ?? [];
  const toolCalls = options.toolCalls ?? [];

  chunk([choice({ role: 'assistant', content: reasoning.length > 0 || text.length === 0 ? null : '' })]);
  for (const piece of reasoning) chunk([choice({ content: null, [reasoningField]: piece })]);
  for (const piece of text) chunk([choice({ content: piece })]);
  toolCalls.forEach((call, index) => {
    const callId = call.id ?? `call_fake${String(index).padStart(4, '0')}`;
    chunk([
      choice({
        tool_calls: [{ index, id: callId, type: 'function', function: { name: call.name, arguments: '' } }],
      }),
    ]);
    const pieces =
      call.arguments === undefined
        ? []
        : typeof call.arguments === 'string'
          ? [call.arguments]
          : Array.isArray(call.arguments)
            ? call.arguments
            : [JSON.stringify(call.arguments)];
    for (const piece of pieces) chunk([choice({ tool_calls: [{ index, function: { arguments: piece } }] })]);
  });
  chunk([choice({}, options.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'))]);
  if (options.usage !== null) {
    const promptTokens = options.usage?.prompt_tokens ?? 12;
    const completionTokens =
      options.usage?.completion_tokens ?? reasoning.length + text.length + toolCalls.length;
    chunk([], {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: options.usage?.total_tokens ?? promptTokens + completionTokens,
    });
  }
  if (options.omitDone !== true) frames.push(`data: [DONE]${end}`);
  return frames.join('');
}

function stepsFromScript(script: unknown, baseDirectory?: string): ResponseStep[] {
  const list = Array.isArray(script)
    ? script
    : typeof script === 'object' &&
        script !== null &&
        'responses' in script &&
        Array.isArray(script.responses)
      ? script.responses
      : script === undefined
        ? []
        : [script];
  return (list as ResponseStep[]).map((step) =>
    baseDirectory !== undefined && step.sseFile !== undefined
      ? { ...step, sseFile: resolve(baseDirectory, step.sseFile) }
      : step,
  );
}

/** `stream` is this fake's own shorthand; the replay engine only knows SSE text. */
function replayStepOf(step: ResponseStep): ReplayStep {
  return step.stream !== undefined && step.sse === undefined && step.sseFile === undefined
    ? { ...step, sse: openAiStream(step.stream) }
    : step;
}

function unknownUrl(request: RecordedRequest): Response | undefined {
  const path = request.path.split('?')[0] ?? '';
  if (request.method === 'POST' && path.endsWith('/chat/completions')) return undefined;
  const message = `Unknown request URL: ${request.method} ${path}. Please check the URL for typos.`;
  return Response.json(
    { error: { message, type: 'invalid_request_error', param: null, code: 'unknown_url' } },
    { status: 404 },
  );
}

export function startFakeOpenAi(
  script?: ResponseStep | ResponseStep[],
  options: { port?: number } = {},
): FakeOpenAi {
  const server = startScriptedServer(stepsFromScript(script).map(replayStepOf), {
    port: options.port,
    defaultSse: openAiStream({ text: ['Hello', ' from', ' the fake.'] }),
    defaultErrorBody: (status) => ({
      error: { message: `Fake server error ${status}`, type: 'server_error', param: null, code: null },
    }),
    headers: { 'x-request-id': 'req_fake' },
    screen: unknownUrl,
    async control(request, url) {
      if (url.pathname === '/__fake/requests') return Response.json(server.requests);
      if (url.pathname === '/__fake/responses') {
        setResponses(...stepsFromScript(await request.json()));
        return Response.json({ ok: true });
      }
      return undefined;
    },
  });

  function setResponses(...steps: ResponseStep[]): void {
    server.setResponses(...steps.map(replayStepOf));
    server.requests.length = 0;
  }

  return {
    url: `${server.origin}/v1`,
    port: server.port,
    requests: server.requests,
    setResponses,
    stop: server.stop,
  };
}

if (import.meta.main) {
  const scriptPath = process.argv[2] ?? process.env['FAKE_OPENAI_SCRIPT'];
  const script: unknown = scriptPath === undefined ? undefined : JSON.parse(readFileSync(scriptPath, 'utf8'));
  const port = Number(process.env['FAKE_OPENAI_PORT'] ?? 0);
  const fake = startFakeOpenAi(
    stepsFromScript(script, scriptPath === undefined ? undefined : dirname(scriptPath)),
    {
      port,
    },
  );
  process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
  const shutDown = (): void => {
    void fake.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', shutDown);
  process.on('SIGINT', shutDown);
}
