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

export interface SliceOptions {
  /** Fixed slice size in bytes. */
  size?: number;
  /** Random slice sizes from this seed (same seed, same slices), between minSize and maxSize bytes. */
  seed?: number;
  minSize?: number;
  maxSize?: number;
  /** Pause between slices, in ms. */
  delayMs?: number;
}

export interface ResponseStep {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** An SSE body, replayed byte for byte. */
  sse?: string;
  /** A file holding the SSE body (read once, when the steps are set). */
  sseFile?: string;
  /** An SSE body built by openAiStream(). */
  stream?: OpenAiStreamOptions;
  /** A non-stream body: a string is sent as-is, anything else as JSON. */
  body?: unknown;
  slices?: SliceOptions;
  /** Wait before answering at all (connect timeout, slow first byte). */
  delayBeforeHeadersMs?: number;
  /** Never answer (until the client gives up or the server stops). */
  hangBeforeHeaders?: boolean;
  /** Send this many bytes of the body, then go silent without closing (idle-timeout and cancel tests). */
  hangAfterBytes?: number;
  /** Send this many bytes of the body, then drop the connection (a proxy or a server dying mid-stream). */
  closeAfterBytes?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/chat/completions`. */
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it is not JSON (undefined when empty). */
  body: unknown;
  rawBody: string;
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

const encoder = new TextEncoder();

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

/** A step with its body encoded once, so a 20 MB replay costs no per-request work. */
interface PreparedStep {
  step: ResponseStep;
  status: number;
  headers: Headers;
  body: Uint8Array<ArrayBuffer>;
}

function prepareStep(step: ResponseStep): PreparedStep {
  const headers = new Headers();
  let body: Uint8Array<ArrayBuffer>;
  let streaming = false;
  if (step.sse !== undefined) {
    body = encoder.encode(step.sse);
    streaming = true;
  } else if (step.sseFile !== undefined) {
    body = new Uint8Array(readFileSync(step.sseFile));
    streaming = true;
  } else if (step.stream !== undefined) {
    body = encoder.encode(openAiStream(step.stream));
    streaming = true;
  } else if (step.body !== undefined) {
    if (typeof step.body === 'string') {
      headers.set('content-type', 'text/plain; charset=utf-8');
      body = encoder.encode(step.body);
    } else {
      headers.set('content-type', 'application/json');
      body = encoder.encode(JSON.stringify(step.body));
    }
  } else if ((step.status ?? 200) >= 400) {
    headers.set('content-type', 'application/json');
    const message = `Fake server error ${step.status}`;
    body = encoder.encode(
      JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } }),
    );
  } else {
    body = encoder.encode(openAiStream({ text: ['Hello', ' from', ' the fake.'] }));
    streaming = true;
  }
  if (streaming) {
    headers.set('content-type', 'text/event-stream; charset=utf-8');
    headers.set('cache-control', 'no-cache');
  }
  headers.set('x-request-id', 'req_fake');
  for (const [name, value] of Object.entries(step.headers ?? {})) headers.set(name, value);
  return { step, status: step.status ?? 200, headers, body };
}

/** mulberry32: tiny, deterministic, good enough to pick slice sizes. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where the body is cut: slice ends, plus the hang/close point so that it falls on a slice boundary. */
function sliceEnds(length: number, options: SliceOptions | undefined, stopAt: number | undefined): number[] {
  const ends: number[] = [];
  const limit = stopAt === undefined ? length : Math.min(stopAt, length);
  if (options?.size !== undefined && options.size > 0) {
    for (let end = options.size; end < limit; end += options.size) ends.push(end);
  } else if (options?.seed !== undefined) {
    const random = seededRandom(options.seed);
    const minimum = Math.max(1, options.minSize ?? 1);
    const maximum = Math.max(minimum, options.maxSize ?? 64);
    for (let end = 0; ; ) {
      end += minimum + Math.floor(random() * (maximum - minimum + 1));
      if (end >= limit) break;
      ends.push(end);
    }
  }
  ends.push(limit);
  return ends;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A hang must end when the client goes away or the server stops, or the test process never exits. */
interface Hang {
  release(): void;
}

function streamedBody(prepared: PreparedStep, hangs: Set<Hang>): ReadableStream<Uint8Array<ArrayBuffer>> {
  const { step, body } = prepared;
  const stopAt = step.closeAfterBytes ?? step.hangAfterBytes;
  const ends = sliceEnds(body.length, step.slices, stopAt);
  let start = 0;
  let sliceIndex = 0;
  let hang: Hang | undefined;
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      const end = ends[sliceIndex];
      if (end !== undefined) {
        if (sliceIndex > 0 && (step.slices?.delayMs ?? 0) > 0) await sleep(step.slices?.delayMs ?? 0);
        if (end > start) controller.enqueue(body.subarray(start, end));
        start = end;
        sliceIndex += 1;
        return;
      }
      if (step.closeAfterBytes !== undefined) {
        // Give the bytes already queued time to reach the socket, then make the server reset the
        // connection (Bun logs this error: it is the scripted failure, not a bug in the test).
        await sleep(20);
        controller.error(new Error('fake server: dropping the connection as scripted (closeAfterBytes)'));
        return;
      }
      if (step.hangAfterBytes !== undefined) {
        await new Promise<void>((resolve) => {
          hang = {
            release: () => {
              if (hang !== undefined) hangs.delete(hang);
              resolve();
            },
          };
          hangs.add(hang);
        });
        return;
      }
      controller.close();
    },
    cancel() {
      hang?.release();
    },
  });
}

async function recordRequest(request: Request): Promise<RecordedRequest> {
  const url = new URL(request.url);
  const rawBody = await request.text();
  let body: unknown;
  if (rawBody !== '') {
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = rawBody;
    }
  }
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { method: request.method, path: url.pathname + url.search, headers, body, rawBody };
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

export function startFakeOpenAi(
  script?: ResponseStep | ResponseStep[],
  options: { port?: number } = {},
): FakeOpenAi {
  const requests: RecordedRequest[] = [];
  const hangs = new Set<Hang>();
  let steps: PreparedStep[] = [];
  let nextStep = 0;

  function setResponses(...newSteps: ResponseStep[]): void {
    steps = (newSteps.length > 0 ? newSteps : [{}]).map(prepareStep);
    nextStep = 0;
    requests.length = 0;
  }
  setResponses(...stepsFromScript(script));

  async function answer(prepared: PreparedStep, signal: AbortSignal): Promise<Response> {
    const { step } = prepared;
    if (step.hangBeforeHeaders === true) {
      await new Promise<void>((resolve) => {
        const hang: Hang = {
          release: () => {
            hangs.delete(hang);
            resolve();
          },
        };
        hangs.add(hang);
        signal.addEventListener('abort', hang.release, { once: true });
      });
      return new Response(null, { status: 503 });
    }
    if ((step.delayBeforeHeadersMs ?? 0) > 0) await sleep(step.delayBeforeHeadersMs ?? 0);
    const plain =
      step.slices === undefined && step.hangAfterBytes === undefined && step.closeAfterBytes === undefined;
    const body = plain ? prepared.body : streamedBody(prepared, hangs);
    return new Response(body, { status: prepared.status, headers: prepared.headers });
  }

  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: options.port ?? 0,
    // Bun closes connections idle for 10 s by default; hang tests need the fake to stay silent for longer.
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      if (url.pathname === '/__fake/requests') return Response.json(requests);
      if (url.pathname === '/__fake/responses') {
        setResponses(...stepsFromScript(await request.json()));
        requests.length = 0;
        return Response.json({ ok: true });
      }
      requests.push(await recordRequest(request));
      if (request.method !== 'POST' || !url.pathname.endsWith('/chat/completions')) {
        const message = `Unknown request URL: ${request.method} ${url.pathname}. Please check the URL for typos.`;
        return Response.json(
          { error: { message, type: 'invalid_request_error', param: null, code: 'unknown_url' } },
          { status: 404 },
        );
      }
      const prepared = steps[Math.min(nextStep, steps.length - 1)];
      nextStep += 1;
      if (prepared === undefined) return new Response('no steps', { status: 500 });
      return answer(prepared, request.signal);
    },
  });

  const port = server.port ?? 0;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    setResponses,
    async stop() {
      for (const hang of [...hangs]) hang.release();
      await server.stop(true);
    },
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
