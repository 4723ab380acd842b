// The protocol-neutral part of a fake model server: a script of response steps (status, headers, an SSE
// body replayed byte for byte in fixed or seeded random slices, error bodies, hangs, dropped connections)
// and a recording of every request. Each protocol's fake (openai-server.ts, anthropic-server.ts,
// gemini-server.ts) adds its routes, its auth checks and its stream builder on top.

import { readFileSync } from 'node:fs';

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

export interface ReplayStep {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** An SSE body, replayed byte for byte. */
  sse?: string;
  /** A file holding the SSE body (read once, when the steps are set). */
  sseFile?: string;
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
  /** Path and query, e.g. `/v1/messages`. */
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it is not JSON (undefined when empty). */
  body: unknown;
  rawBody: string;
}

export interface ScriptedServerOptions {
  port?: number;
  /** The body of a 200 step that names none (each protocol's "hello" stream). */
  defaultSse: string;
  /** The body of an error step that names none, in the protocol's error shape. */
  defaultErrorBody(status: number): unknown;
  /** Headers every scripted answer carries (a request id, say); a step's own headers replace them. */
  headers?: Record<string, string>;
  /**
   * Answers a request before it is recorded: control routes of a fake run as a process (list the recording,
   * replace the script). Returns undefined for the requests the fake serves.
   */
  control?(request: Request, url: URL): Promise<Response | undefined>;
  /**
   * Looks at a recorded request before the script does: returns a Response to answer it directly (unknown
   * route, missing or wrong credentials), or undefined to let the next step answer.
   */
  screen(request: RecordedRequest): Response | undefined;
}

export interface ScriptedServer {
  /** `http://127.0.0.1:PORT`, without a path. */
  origin: string;
  port: number;
  /** Every request in arrival order. Live: it grows as requests arrive. */
  requests: RecordedRequest[];
  /** Replaces the script; steps are consumed one per screened-in request, the last one repeating. */
  setResponses(...steps: ReplayStep[]): void;
  stop(): Promise<void>;
}

const encoder = new TextEncoder();

/** A step with its body encoded once, so a 20 MB replay costs no per-request work. */
interface PreparedStep {
  step: ReplayStep;
  status: number;
  headers: Headers;
  body: Uint8Array<ArrayBuffer>;
}

function prepareStep(step: ReplayStep, options: ScriptedServerOptions): PreparedStep {
  const headers = new Headers();
  const status = step.status ?? 200;
  let body: Uint8Array<ArrayBuffer>;
  let streaming = false;
  if (step.sse !== undefined) {
    body = encoder.encode(step.sse);
    streaming = true;
  } else if (step.sseFile !== undefined) {
    body = new Uint8Array(readFileSync(step.sseFile));
    streaming = true;
  } else if (step.body !== undefined) {
    if (typeof step.body === 'string') {
      headers.set('content-type', 'text/plain; charset=utf-8');
      body = encoder.encode(step.body);
    } else {
      headers.set('content-type', 'application/json');
      body = encoder.encode(JSON.stringify(step.body));
    }
  } else if (status >= 400) {
    headers.set('content-type', 'application/json');
    body = encoder.encode(JSON.stringify(options.defaultErrorBody(status)));
  } else {
    body = encoder.encode(options.defaultSse);
    streaming = true;
  }
  if (streaming) {
    headers.set('content-type', 'text/event-stream; charset=utf-8');
    headers.set('cache-control', 'no-cache');
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  for (const [name, value] of Object.entries(step.headers ?? {})) headers.set(name, value);
  return { step, status, headers, body };
}

/** mulberry32: tiny, deterministic, good enough to pick slice sizes. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where a body of `length` bytes is cut: slice ends, plus the hang/close point on a slice boundary. */
export function sliceEnds(length: number, options: SliceOptions | undefined, stopAt?: number): number[] {
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

/** Cuts bytes into the slices `sliceEnds` describes; unit tests feed these to the SSE parser directly. */
export function sliceBytes(bytes: Uint8Array, options: SliceOptions): Uint8Array[] {
  const slices: Uint8Array[] = [];
  let start = 0;
  for (const end of sliceEnds(bytes.length, options)) {
    slices.push(bytes.subarray(start, end));
    start = end;
  }
  return slices;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A hang must end when the client goes away or the server stops, or the test process never exits. */
interface Hang {
  release(): void;
}

function streamedBody(prepared: PreparedStep, hangs: Set<Hang>): ReadableStream<Uint8Array<ArrayBuffer>> {
  const { step, body } = prepared;
  const ends = sliceEnds(body.length, step.slices, step.closeAfterBytes ?? step.hangAfterBytes);
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
        // Give the queued bytes time to reach the socket, then reset the connection (Bun logs this error:
        // it is the scripted failure, not a bug in the test).
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

export function startScriptedServer(
  steps: ReplayStep | ReplayStep[],
  options: ScriptedServerOptions,
): ScriptedServer {
  const requests: RecordedRequest[] = [];
  const hangs = new Set<Hang>();
  let prepared: PreparedStep[] = [];
  let nextStep = 0;

  function setResponses(...newSteps: ReplayStep[]): void {
    prepared = (newSteps.length > 0 ? newSteps : [{}]).map((step) => prepareStep(step, options));
    nextStep = 0;
  }
  setResponses(...(Array.isArray(steps) ? steps : [steps]));

  async function answer(step: PreparedStep, signal: AbortSignal): Promise<Response> {
    if (step.step.hangBeforeHeaders === true) {
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
    if ((step.step.delayBeforeHeadersMs ?? 0) > 0) await sleep(step.step.delayBeforeHeadersMs ?? 0);
    const plain =
      step.step.slices === undefined &&
      step.step.hangAfterBytes === undefined &&
      step.step.closeAfterBytes === undefined;
    const body = plain ? step.body : streamedBody(step, hangs);
    return new Response(body, { status: step.status, headers: step.headers });
  }

  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: options.port ?? 0,
    // Bun closes connections idle for 10 s by default; hang tests need the fake to stay silent for longer.
    idleTimeout: 0,
    async fetch(request) {
      const controlled = await options.control?.(request, new URL(request.url));
      if (controlled !== undefined) return controlled;
      const recorded = await recordRequest(request);
      requests.push(recorded);
      const screened = options.screen(recorded);
      if (screened !== undefined) return screened;
      const step = prepared[Math.min(nextStep, prepared.length - 1)];
      nextStep += 1;
      if (step === undefined) return new Response('no steps', { status: 500 });
      return answer(step, request.signal);
    },
  });

  const port = server.port ?? 0;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    setResponses,
    async stop() {
      for (const hang of [...hangs]) hang.release();
      await server.stop(true);
    },
  };
}
