// One conversation turn: request -> HTTP -> SSE -> StreamEvents, shared by headless runs and the REPL.
import { assertValidBaseUrl } from '../config/resolve.ts';
import { concatBytes } from '../core/bytes.ts';
import { CliError, redactFailure } from '../core/errors.ts';
import {
  createSurrogateJoiner,
  isAnswerEvent,
  type StreamEvent,
  type StreamFailure,
} from '../core/events.ts';
import { createGatheredText } from '../core/gathered-text.ts';
import { openingBracket } from '../core/json-array-splitter.ts';
import { redactSecrets } from '../core/redact.ts';
import { replyOriginOf } from '../core/signed-reply.ts';
import { createSseParser, type SseMessage, sseMessage, startsJson } from '../core/sse.ts';
import {
  type ChatRequest,
  type HttpRequest,
  isObject,
  type SignedReply,
  type Usage,
  whereSet,
} from '../core/types.ts';
import {
  abortError,
  describeNetworkError,
  failureKind,
  hostOf,
  postForStream,
  type RetryNotice,
  requestSecrets,
  statusHint,
} from '../net/http.ts';
import { proxyNoteFor } from '../net/proxy-notes.ts';
import { adapterFor, type ProtocolAdapter } from '../protocols/index.ts';
import { capped, firstOf, messageOfTextBody, parseJson } from '../protocols/wire.ts';
import { longestTimerMs } from './abortable.ts';
import { type ArrayReply, createArrayReply } from './array-reply.ts';
import { endStartup } from './startup.ts';
import { endedEarlyMessage, streamErrorMessage } from './stream-failure.ts';

export const defaultStreamIdleTimeoutMs = 120_000;
/** Qwen Code's QWEN_STREAM_MAX_LIFETIME_MS default: no stream runs longer, keep-alives or not. */
const defaultStreamMaxLifetimeMs = 900_000;

/**
 * How long a stream that has given the answer's finish reason may stay silent before the answer counts as
 * whole. Not the idle timeout: a server that keeps the connection open without its last event (`[DONE]`,
 * `message_stop`) would turn a whole answer into a failure, minutes later. Not nothing either: OpenAI's
 * usage chunk (include_usage) comes after the finish chunk, and `[DONE]` or Anthropic's `message_stop`
 * after the finish; servers write these together, so a pause this long after the finish is no server still
 * at work, and a slow proxy's round trips fit in it.
 */
export const afterFinishWaitMs = 2_000;

/**
 * How long a stream may stay silent, and last once it has started (QWEN_STREAM_IDLE_TIMEOUT_MS,
 * QWEN_STREAM_MAX_LIFETIME_MS); 0 turns a limit off, as in Qwen Code.
 */
export interface StreamLimits {
  idleTimeoutMs?: number;
  maxLifetimeMs?: number;
}

/**
 * The cause of a connection lost while the answer was read (after a 200), of a stream that ended cleanly
 * before any answer and without a finish reason (an empty body, the role chunk alone), or of a timeout:
 * before any text, as worth another attempt as a connection refused before the headers, which net/http.ts
 * retries.
 */
export class BrokenStream extends Error {
  constructor(reason: string, cause?: unknown) {
    super(reason, cause === undefined ? undefined : { cause });
    // --debug prints the cause's stack: the network error's is the one that says something.
    if (cause instanceof Error && cause.stack !== undefined) this.stack = cause.stack;
  }
}

/**
 * The cause of a failure the server reported as an error event inside a 200 stream. HTTP statuses were
 * already retried by net/http.ts; these were not (an `overloaded_error` before the first word, say).
 */
export class StreamErrorEvent {
  constructor(readonly failure: StreamFailure) {}
}

export interface TurnOptions {
  onEvent: (event: StreamEvent) => void;
  /** Ctrl+C. */
  signal?: AbortSignal;
  /**
   * Abort when no byte arrives for `idleTimeoutMs` (waiting for headers counts too), or when an attempt has
   * lasted `maxLifetimeMs` (a server that sends keep-alive comments forever).
   */
  limits?: StreamLimits;
  onRetry?: (notice: RetryNotice) => void;
  /** Each request as it is sent (a retry is one more): what `stats` counts. */
  onRequest?: () => void;
  fetchImplementation?: typeof fetch;
  /**
   * false: `text` and `reasoning` of the result stay empty, for a caller that keeps what it needs from
   * `onEvent` (a long answer printed as it arrives need not be held in memory as well).
   */
  collectText?: boolean;
  /**
   * Keep the reply as the provider sent it when it carries signed reasoning (TurnResult.signedReply), for a
   * conversation that goes on.
   */
  keepSignedReply?: boolean;
}

export interface TurnResult {
  text: string;
  reasoning: string;
  usage?: Usage;
  finishReason?: string;
  durationMs: number;
  /** What the next turns send back to this provider (TurnOptions.keepSignedReply). */
  signedReply?: SignedReply;
}

/** Streams one answer; every event reaches `onEvent` as it arrives. Throws CliError, keeping what was shown. */
export async function streamTurn(request: ChatRequest, options: TurnOptions): Promise<TurnResult> {
  const startedAt = performance.now();
  const adapter = adapterFor(request.target.protocol);
  const httpRequest = adapter.buildRequest(request);
  assertValidBaseUrl(httpRequest.url, request.target.baseUrlSource);
  const timeoutMs = request.target.generationConfig.timeout;
  const idleTimeoutMs = options.limits?.idleTimeoutMs ?? defaultStreamIdleTimeoutMs;
  const maxLifetimeMs = options.limits?.maxLifetimeMs ?? defaultStreamMaxLifetimeMs;

  const controller = new AbortController();
  const abortWith = (error: CliError) => controller.abort(error);
  const onOuterAbort = () => abortWith(abortError(options.signal!));
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (options.signal?.aborted) onOuterAbort();
  // The whole-request timeout is each attempt's: a retry's wait starts its clock again after the wait.
  // A timeout past what a timer can wait is no timeout: waiting longer than 24.8 days is waiting.
  const armRequestTimer = (afterMs: number) =>
    timeoutMs !== undefined && timeoutMs > 0 && afterMs <= longestTimerMs
      ? setTimeout(
          () =>
            abortWith(
              new CliError('network', `The request took longer than ${timeoutMs} ms and was stopped.`, {
                // Only the setting that set the limit: raising another one changes nothing.
                hint: `Raise ${request.target.generationConfig.timeoutSetting ?? 'the request timeout'} (ms).`,
                // Before any answer, worth another attempt as a lost connection is (the SDKs retry timeouts).
                cause: new BrokenStream(`no answer within ${timeoutMs} ms`),
              }),
            ),
          afterMs,
        )
      : undefined;
  let requestTimer = armRequestTimer(timeoutMs ?? 0);
  // From the response on, as Qwen Code counts it, and final: a stream kept open this long (by keep-alives
  // alone, perhaps) is not worth starting again.
  const startLifetimeTimer = () =>
    maxLifetimeMs > 0
      ? setTimeout(
          () =>
            abortWith(
              new CliError(
                'network',
                `The stream from ${hostOf(httpRequest.url)} went on for ${maxLifetimeMs} ms and was stopped.`,
                {
                  hint: 'Raise QWEN_STREAM_MAX_LIFETIME_MS (ms) for answers that take longer, or set it to 0.',
                },
              ),
            ),
          maxLifetimeMs,
        )
      : undefined;
  let lifetimeTimer: ReturnType<typeof setTimeout> | undefined;
  // Activity only moves a timestamp: a long answer arrives in tens of thousands of reads, and re-arming a
  // timer on each would cost two native calls apiece. The one timer re-arms itself for the time left.
  let lastActivityAt = performance.now();
  const touch = () => {
    lastActivityAt = performance.now();
  };
  // Once the answer has its finish reason, a silence of afterFinishWaitMs ends it as a whole answer: the
  // reader stops, and the decoder's finish() reports it (with the usage that came) as a clean end would.
  let finished = false;
  let stopReading = () => {};
  const quietLimitMs = () =>
    !finished
      ? idleTimeoutMs
      : idleTimeoutMs > 0
        ? Math.min(idleTimeoutMs, afterFinishWaitMs)
        : afterFinishWaitMs;
  const watchIdle = () => {
    const limitMs = quietLimitMs();
    const quietMs = performance.now() - lastActivityAt;
    if (quietMs < limitMs) {
      idleTimer = setTimeout(watchIdle, limitMs - quietMs);
      return;
    }
    if (finished) return stopReading();
    const cause = new BrokenStream(`no data for ${idleTimeoutMs} ms`);
    abortWith(
      headersArrived
        ? new CliError(
            'network',
            `No data from ${hostOf(httpRequest.url)} for ${idleTimeoutMs} ms; stopped waiting.`,
            { hint: 'Raise QWEN_STREAM_IDLE_TIMEOUT_MS (ms) if this model thinks for a long time.', cause },
          )
        : nothingCameBack(httpRequest.url, idleTimeoutMs, options.fetchImplementation, cause),
    );
  };
  // Until the answer's headers come, silence may be a host that cannot be reached, not a model thinking.
  let headersArrived = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  const result: TurnResult = { text: '', reasoning: '', durationMs: 0 };
  const collectText = options.collectText ?? true;
  // Many small deltas: gathered, not `+=` (see core/gathered-text.ts); the result gets them at the end.
  const text = createGatheredText();
  const reasoning = createGatheredText();
  // Whether some of the answer (text or a tool call) came: a failure then stopped an answer, else none began.
  let answered = false;
  // What an event other than a text delta adds to the result (an error ends the turn).
  const record = (event: StreamEvent) => {
    if (event.type === 'reasoning-delta') {
      if (collectText) reasoning.add(event.text);
    } else if (event.type === 'usage') result.usage = event.usage;
    else if (event.type === 'done') result.finishReason = event.finishReason;
    else if (event.type === 'error') throw streamFailure(event.error, httpRequest, answered);
  };
  // Runs once per event: text deltas, nearly all of them, take the short way (less for the JIT to compile).
  const emitOne = (event: StreamEvent) => {
    if (event.type !== 'text-delta') record(event);
    else if (collectText) text.add(event.text);
    if (!answered) answered = isAnswerEvent(event);
    options.onEvent(event);
  };
  const surrogates = createSurrogateJoiner();
  const emit = (event: StreamEvent) => {
    if (!surrogates.wants(event)) return emitOne(event);
    for (const joined of surrogates.join(event)) emitOne(joined);
  };

  // The usage the reply's decoder has counted, for a failure in the middle of the stream.
  let usageSoFar = (): Usage | undefined => undefined;
  try {
    if (idleTimeoutMs > 0) idleTimer = setTimeout(watchIdle, idleTimeoutMs);
    const response = await postForStream({
      request: httpRequest,
      maxRetries: request.target.generationConfig.maxRetries,
      signal: controller.signal,
      parseErrorBody: adapter.parseErrorBody,
      onRetry: (notice) => {
        // Waiting before another attempt is no silence of the server's, and no part of the next attempt's
        // time: both clocks start again when the wait ends.
        lastActivityAt = performance.now() + notice.delayMs;
        clearTimeout(requestTimer);
        requestTimer = armRequestTimer(notice.delayMs + (timeoutMs ?? 0));
        options.onRetry?.(notice);
      },
      onRequest: options.onRequest,
      fetchImplementation: options.fetchImplementation,
      urlSetting: request.target.baseUrlSource && whereSet(request.target.baseUrlSource),
    });
    headersArrived = true;
    lifetimeTimer = startLifetimeTimer();
    const decoder = adapter.createDecoder({ keepSignedReply: options.keepSignedReply });
    usageSoFar = () => decoder.usageSoFar();
    const parser = createSseParser();
    const host = hostOf(httpRequest.url);
    const contentType = response.headers.get('content-type') ?? '';
    let messages = 0;
    let receivedBytes = 0;
    // The loop over events is a function of its own, not a loop in this long one: the JIT then compiles
    // a few hundred bytecodes for the hot path instead of all of streamTurn (measured: a 10 ms DFG
    // compile on a 20 MiB answer, on a CPU that the stream needs).
    const deliver = (batch: SseMessage[]) => {
      messages += batch.length;
      for (const message of batch) for (const event of decoder.decode(message)) emit(event);
    };
    // A bare error object where events should be: the decoder reads it as one inside the stream (the same
    // status, retry and exit code); one it cannot read is a failure all the same, with the server's words.
    const failWithErrorReply = (body: string): never => {
      for (const event of decoder.decode(sseMessage('message', body))) emit(event);
      throw errorInReply(body, response.status, host, adapter);
    };
    // A reply read whole: an error object fails the turn; a whole answer is delivered as the chunks of its
    // stream. False when it is neither.
    const deliverWholeReply = (pieces: Uint8Array[]): boolean => {
      const body = textOf(pieces);
      const parsed = parseJson(body);
      if (isErrorReply(parsed)) failWithErrorReply(body);
      const chunks = parsed === undefined ? undefined : adapter.chunksOfWholeReply?.(parsed);
      if (chunks === undefined) return false;
      deliver(chunks.map((data) => sseMessage('message', data)));
      return true;
    };
    const reader = response.body?.getReader();
    // Ctrl+C, the idle timer or the request timeout: cancelling the reader ends a pending read at once,
    // even when the server stays silent.
    const cancelRead = () => reader?.cancel().catch(() => undefined);
    controller.signal.addEventListener('abort', cancelRead, { once: true });
    stopReading = () => void cancelRead();
    // An abort from before the listener existed would leave the first read waiting.
    if (controller.signal.aborted) throw abortError(controller.signal);
    // A captive portal's HTML page is not an answer, whatever its status: its start says what it is.
    if (contentTypeIs(contentType, 'text/html')) {
      throw htmlPage(host, contentType, await pageStart(reader, controller.signal));
    }
    // Whatever its label, a reply is held until its first byte tells what it is. An event stream starts
    // with a field or a comment and goes to the parser as it comes; one that starts with `{` or `[` is JSON
    // (an error, or a whole answer from a server that ignored `stream: true`), read to its end, unless it
    // is an array that turns out to be the stream (arrayReply below).
    let held: Uint8Array[] | undefined = [];
    let firstByte: number | undefined;
    const releaseHeld = (pieces: Uint8Array[]) => {
      for (const piece of pieces) deliver(parser.push(piece));
    };
    // The start of a reply that begins as a page does (`<`), to quote it if no event follows.
    let page: Uint8Array[] | undefined;
    // A JSON array that may be the stream itself (see cli/array-reply.ts): held as any JSON reply until
    // one of its elements is an answer (an error fails the turn as a whole error reply would).
    let arrayReply: ArrayReply | undefined;
    const isAnswerElement = (element: string): boolean => {
      const parsed = parseJson(element);
      if (isErrorReply(parsed)) failWithErrorReply(element);
      return parsed !== undefined && adapter.chunksOfWholeReply?.(parsed) !== undefined;
    };
    const deliverElements = (elements: string[]) =>
      deliver(elements.map((element) => sseMessage('message', element)));
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (controller.signal.aborted) throw abortError(controller.signal);
        if (done) break;
        touch();
        receivedBytes += value.byteLength;
        if (receivedBytes > jitWorthyAnswerBytes) endStartup();
        if (held === undefined) {
          if (arrayReply === undefined) deliver(parser.push(value));
          else deliverElements(arrayReply.push(value));
        } else {
          held.push(value);
          firstByte = firstNonBlankByte(held);
          if (firstByte === undefined) continue;
          if (firstByte === openingBracket && adapter.streamsJsonArray === true) {
            // The first time, the bytes held so far; then each piece as it comes.
            const pieces = arrayReply === undefined ? held : [value];
            arrayReply ??= createArrayReply(isAnswerElement);
            for (const piece of pieces) deliverElements(arrayReply.push(piece));
            if (!arrayReply.isStream()) continue;
            held = undefined;
          } else if (startsJson(firstByte)) continue;
          else {
            if (firstByte === lessThan) page = held;
            releaseHeld(held);
            held = undefined;
          }
        }
        // A server that keeps the connection open after the answer's end would leave us waiting for the
        // idle timeout, and then report a whole answer as failed.
        if (decoder.isEnded()) break;
        if (!finished && decoder.hasFinished()) {
          finished = true;
          clearTimeout(idleTimer);
          watchIdle();
        }
      }
    }
    if (held !== undefined && !deliverWholeReply(held)) {
      if (contentTypeIs(contentType, 'application/json')) throw noAnswerInReply(host, held);
      // JSON that is no answer under another label: the parser and the decoder judge it as a stream.
      releaseHeld(held);
    }
    deliver(parser.end());
    // An event stream with no event in it ended before any answer (decoder.finish says so, retried as a
    // lost connection); any other reply with none (a page, whatever its label) was no stream at all.
    if (messages === 0 && page !== undefined) throw htmlPage(host, contentType, textOf(page));
    if (messages === 0 && !contentTypeIs(contentType, 'text/event-stream'))
      throw notAStream(host, contentType);
    for (const event of decoder.finish()) emit(event);
    result.text = text.text();
    result.reasoning = reasoning.text();
    const signedParts = decoder.signedReply?.();
    if (signedParts !== undefined) {
      result.signedReply = { origin: replyOriginOf(request.target), parts: signedParts };
    }
    result.durationMs = performance.now() - startedAt;
    return result;
  } catch (error) {
    // A connection lost, a timeout or Ctrl+C in the middle of the answer: no end of the stream reports the
    // usage the server counted so far, and the failed run should still say what it cost. (An error event
    // reported it already.)
    const counted = usageSoFar();
    if (counted !== undefined && result.usage === undefined) emitOne({ type: 'usage', usage: counted });
    const failure =
      error instanceof CliError
        ? error
        : controller.signal.aborted
          ? abortError(controller.signal)
          : brokenConnection(error, hostOf(httpRequest.url), answered);
    // Servers echo our key in error events mid-stream as in error bodies: every failure leaves masked.
    throw redactFailure(failure, requestSecrets(httpRequest));
  } finally {
    clearTimeout(idleTimer);
    clearTimeout(requestTimer);
    clearTimeout(lifetimeTimer);
    options.signal?.removeEventListener('abort', onOuterAbort);
    if (!controller.signal.aborted) controller.abort();
  }
}

/**
 * Past this much of an answer, the code that runs once per chunk deserves JIT-compiled code, and the normal
 * JIT policy comes back (endStartup). Not sooner: going back at the headers made JavaScriptCore
 * baseline-compile start-up code at once (BUN_JSC_reportCompileTimes=1 shows it) for a short answer that
 * never needed it. Measured on the compiled binary, interleaved runs against the fake server: one-shot
 * 14.01 -> 13.37 ms and 13.28 -> 12.57 ms (medians of 150 and 120 runs); the 20 MiB answer unchanged within
 * noise (64 KiB is 0.3 % of it).
 */
const jitWorthyAnswerBytes = 64 * 1024;

/** `{"error": ...}` as OpenAI, Anthropic and Google send it; `{"object": "error", ...}` as vLLM does. */
function isErrorReply(parsed: unknown): boolean {
  const first = firstOf(parsed);
  if (!isObject(first)) return false;
  const error = first['error'];
  // `"error": null` beside an answer (some gateways send it) is no error.
  return isObject(error) || (typeof error === 'string' && error !== '') || first['object'] === 'error';
}

/** An error reply the protocol's decoder does not read as an event: the server's message, as for a status. */
function errorInReply(body: string, status: number, host: string, adapter: ProtocolAdapter): CliError {
  const details = adapter.parseErrorBody(status, body);
  return new CliError(
    failureKind(status, details.isAuthFailure),
    `${host} answered ${status} with an error instead of a stream: ${details.message}`,
    { status },
  );
}

const lessThan = 0x3c;

/** The first byte of a reply that is no blank, or undefined while only blanks have come. */
function firstNonBlankByte(pieces: readonly Uint8Array[]): number | undefined {
  for (const piece of pieces) {
    for (const byte of piece) {
      if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return byte;
    }
  }
  return undefined;
}

/**
 * The idle timeout ran out before even the response headers came: a host a firewall drops packets to, one
 * that needs a proxy (or one that is in the way), or a very slow one. The proxy in the way, when there is
 * one, is named by the transport, with NO_PROXY.
 */
function nothingCameBack(
  url: string,
  idleTimeoutMs: number,
  fetchImplementation: typeof fetch | undefined,
  cause: BrokenStream,
): CliError {
  const unreachable =
    proxyNoteFor(fetchImplementation, url) === undefined
      ? `The host may be unreachable (a firewall dropping packets, or a proxy needed: ${new URL(url).protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'} / NO_PROXY) or very slow`
      : 'The host or the proxy may be unreachable or very slow';
  return new CliError(
    'network',
    `Nothing came back from ${hostOf(url)} (not even the response headers) for ${idleTimeoutMs} ms; stopped waiting.`,
    { hint: `${unreachable}; QWEN_STREAM_IDLE_TIMEOUT_MS (ms) bounds this wait.`, cause },
  );
}

/** A JSON reply that is no answer: one cut short (not valid JSON) is told apart from one that says something else. */
function noAnswerInReply(host: string, pieces: Uint8Array[]): CliError {
  if (parseJson(textOf(pieces)) === undefined) {
    return new CliError(
      'api',
      `${host} answered with a JSON reply that is cut short (not valid JSON), instead of a stream.`,
      {
        hint: 'The server or something on the way (a proxy) ended the reply early; try again, and check the base URL if it keeps happening.',
      },
    );
  }
  return new CliError(
    'api',
    `${host} answered with one JSON reply that holds no answer, instead of a stream.`,
    {
      hint: 'Check that the base URL is the API endpoint and that the server supports streaming ("stream": true).',
    },
  );
}

function textOf(pieces: Uint8Array[]): string {
  return new TextDecoder().decode(concatBytes(pieces));
}

/** Enough of a page to find its title or first words. */
const pageStartBytes = 16 * 1024;

/** The start of a reply's body (a page), read until `pageStartBytes` or its end. */
async function pageStart(
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
  signal: AbortSignal,
): Promise<string> {
  const pieces: Uint8Array[] = [];
  let size = 0;
  while (reader && size < pageStartBytes) {
    const { done, value } = await reader.read();
    if (signal.aborted) throw abortError(signal);
    if (done) break;
    pieces.push(value);
    size += value.byteLength;
  }
  return textOf(pieces);
}

/**
 * An HTML page where the answer should be (a captive portal, a proxy's block page): said so, with its title
 * or first words, which usually tell who sent it.
 */
function htmlPage(host: string, contentType: string, html: string): CliError {
  const type = contentType ? ` (labelled ${contentType.split(';')[0]})` : '';
  const words = messageOfTextBody(html);
  return new CliError(
    'api',
    `${host} answered with an HTML page${type} instead of an event stream${words === undefined ? '.' : `: "${capped(words)}"`}`,
    {
      hint: 'A proxy or login portal may be in the way; otherwise check the base URL: it should be the API endpoint (for OpenAI-compatible servers, the one ending in /v1).',
    },
  );
}

function notAStream(host: string, contentType: string): CliError {
  const type = contentType ? ` (${contentType.split(';')[0]})` : '';
  return new CliError('api', `${host} answered without an event stream${type}: no answer arrived.`, {
    hint: 'Check the base URL: it should be the API endpoint (for OpenAI-compatible servers, the one ending in /v1).',
  });
}

/**
 * The failure an error event (or the stream's early end) stands for. The event goes along for the retry
 * decision (cli/session-turn.ts), whose notice quotes it: masked too.
 */
/** The connection lost while the answer was read: honest, as an error event is, about whether it had started. */
function brokenConnection(error: unknown, host: string, answered: boolean): CliError {
  const reason = describeNetworkError(error);
  const cause = new BrokenStream(reason, error);
  if (!answered) return new CliError('network', `The connection to ${host} broke: ${reason}`, { cause });
  return new CliError('network', `The answer stopped: the connection to ${host} broke (${reason}).`, {
    cause,
    hint: 'What arrived is kept; ask again for the rest.',
  });
}

function streamFailure(failure: StreamFailure, request: HttpRequest, answered: boolean): CliError {
  const host = hostOf(request.url);
  if (failure.missing !== undefined) {
    const message = endedEarlyMessage(failure.missing, host, answered);
    return new CliError('network', message, {
      hint: 'The server closed the stream too soon; try again later.',
      cause: new BrokenStream(`the event stream ended before any answer (${failure.missing})`),
    });
  }
  // Cut like an HTTP error body's message: a server that streams a page of text is still one line.
  const message = capped(redactSecrets(failure.message, requestSecrets(request)));
  // A key refused inside the stream is refused all the same (exit 41).
  return new CliError(failureKind(failure.status), streamErrorMessage(failure, message, host, answered), {
    status: failure.status,
    hint: failure.status === undefined ? undefined : statusHint(failure.status, failure),
    cause: new StreamErrorEvent({ ...failure, message }),
  });
}

/** The reply's label, whatever its case and parameters (`text/event-stream; charset=utf-8`). */
function contentTypeIs(contentType: string, type: string): boolean {
  return contentType.trimStart().toLowerCase().startsWith(type);
}
