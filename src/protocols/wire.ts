// What the protocol adapters have in common on the wire: narrowing parsed JSON from `unknown`, building
// header sets, base URLs, conversations of alternating turns, and one-line error messages. Each helper is
// the same logic in every protocol that uses it; what differs between protocols stays in their own files.

import type { StreamEvent, StreamFailure } from '../core/events.ts';
import { signedPartsFor } from '../core/signed-reply.ts';
import {
  type ChatRequest,
  isObject,
  type JsonObject,
  type Message,
  type ResolvedModel,
  sessionIdPlaceholder,
  type Usage,
} from '../core/types.ts';

export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * JSON.parse that gives undefined instead of throwing (a stray log line or an HTML error page is not an
 * exception), and forgives raw control characters in strings.
 */
/**
 * A reply's object when some servers wrap it in an array (Vertex's error events and bodies, some OpenAI
 * gateways' error bodies): the first element is the whole story.
 */
export function firstOf(parsed: unknown): unknown {
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return parseWithRawControlCharacters(text);
  }
}

/**
 * Some servers put control characters (a tab in code, mostly) into JSON strings without escaping them, which
 * JSON.parse refuses: rather than lose that chunk of the answer, they are escaped, and nothing else is mended.
 * Outside strings they are left alone (a tab there is whitespace; anything else stays an error), and so is
 * one right after a backslash, which is a broken escape whatever follows.
 */
function parseWithRawControlCharacters(text: string): unknown {
  if (!/[\u0000-\u001f]/.test(text)) return undefined;
  let repaired = '';
  let copiedUpTo = 0;
  let inString = false;
  let escaped = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (!inString) inString = code === 0x22;
    else if (escaped) escaped = false;
    else if (code === 0x5c) escaped = true;
    else if (code === 0x22) inString = false;
    else if (code < 0x20) {
      repaired += `${text.slice(copiedUpTo, index)}\\u${code.toString(16).padStart(4, '0')}`;
      copiedUpTo = index + 1;
    }
  }
  try {
    return JSON.parse(repaired + text.slice(copiedUpTo));
  } catch {
    return undefined;
  }
}

/** A number that can be an HTTP status: what a numeric `code` means in OpenRouter's, vLLM's and Google's errors. */
export function httpStatusFrom(value: unknown): number | undefined {
  // Some servers send the status as a string in an error event (`"code": "503"`).
  const number = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : finiteNumber(value);
  return number !== undefined && Number.isInteger(number) && number >= 100 && number <= 599
    ? number
    : undefined;
}

/**
 * Sets a header, replacing any earlier spelling of the same name: `authorization` in customHeaders must
 * replace our `Authorization`, not travel next to it (fetch would join the two values with a comma).
 */
export function setHeader(headers: Record<string, string>, name: string, value: string): void {
  const lowerName = name.toLowerCase();
  for (const existing of Object.keys(headers)) {
    if (existing.toLowerCase() === lowerName) delete headers[existing];
  }
  headers[name] = value;
}

/**
 * Adds the JSON-in, SSE-out headers every protocol sends, then the extra headers of the configuration and
 * the auth layer (the client's User-Agent among them) and the user's customHeaders, in that order, so that
 * the user may replace any of ours. `${session_id}` in a
 * customHeaders value (config/resolve.ts kept it only where settings allow it) becomes the session's id.
 */
export function setStreamAndUserHeaders(headers: Record<string, string>, request: ChatRequest): void {
  const { target } = request;
  setHeader(headers, 'Content-Type', 'application/json');
  setHeader(headers, 'Accept', 'text/event-stream');
  for (const [name, value] of Object.entries(target.extraHeaders ?? {})) setHeader(headers, name, value);
  for (const [name, value] of Object.entries(target.generationConfig.customHeaders ?? {})) {
    setHeader(headers, name, value.replaceAll(sessionIdPlaceholder, request.sessionId ?? ''));
  }
}

function withoutTrailingSlashes(url: string): string {
  // A loop, not a regex: every request runs this once, and a regex's first use compiles it.
  let end = url.trimEnd().length;
  while (end > 0 && url.charCodeAt(end - 1) === 47) end -= 1; // '/'
  return url.slice(0, end).trimStart();
}

/**
 * A base URL apart: `base`, which paths are added to (without trailing slashes; the protocol's default when
 * none is configured), and the query it carries (Azure's `?api-version=...`), which must follow the path.
 * A fragment is dropped: it is never sent.
 */
export function baseUrlParts(configured: string, defaultBaseUrl = ''): { base: string; query: string } {
  const trimmed = configured.trim();
  const fragmentStart = trimmed.indexOf('#');
  const url = fragmentStart < 0 ? trimmed : trimmed.slice(0, fragmentStart);
  const queryStart = url.indexOf('?');
  const base = withoutTrailingSlashes(queryStart < 0 ? url : url.slice(0, queryStart));
  return { base: base || defaultBaseUrl, query: queryStart < 0 ? '' : url.slice(queryStart + 1) };
}

/** The request URL with the base URL's query added to its own (`...?alt=sse&api-version=1`). */
export function withQuery(url: string, query: string): string {
  if (query === '') return url;
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

/** `stop` may be one string or a list; protocols other than OpenAI only take a non-empty list. */
export function stopSequencesOf(stop: string | string[] | undefined): string[] | undefined {
  const list = typeof stop === 'string' ? [stop] : stop;
  return Array.isArray(list) && list.length > 0 ? list : undefined;
}

export interface Turn {
  role: 'user' | 'assistant';
  content: string;
  /** The reply as the provider sent it (signed reasoning), when this request goes to that provider. */
  signedParts?: readonly JsonObject[];
}

/**
 * For protocols that take system text apart and want user and assistant to alternate (Anthropic, Gemini):
 * system messages are joined into one text, consecutive turns of one role are joined, and empty messages
 * are dropped because those APIs reject empty text. A reply with signed reasoning keeps it for the provider
 * that made it (`target`), unless it was joined with another: the joined text is no reply it signed.
 */
export function alternatingTurns(
  messages: Message[],
  target: ResolvedModel,
): { system: string | undefined; turns: Turn[] } {
  const systemParts: string[] = [];
  const turns: Turn[] = [];
  for (const message of messages) {
    if (message.role === 'system') {
      if (message.content !== '') systemParts.push(message.content);
      continue;
    }
    if (message.content === '') continue;
    const previous = turns.at(-1);
    if (previous !== undefined && previous.role === message.role) {
      previous.content = `${previous.content}\n\n${message.content}`;
      delete previous.signedParts;
    } else {
      const turn: Turn = { role: message.role, content: message.content };
      const signedParts = signedPartsFor(message, target);
      if (signedParts !== undefined) turn.signedParts = signedParts;
      turns.push(turn);
    }
  }
  return { system: systemParts.length > 0 ? systemParts.join('\n\n') : undefined, turns };
}

/**
 * Tool-call arguments streamed as JSON pieces, as the object a tool takes; none at all means no arguments.
 * Arguments that are no JSON object (cut short when max_tokens hit mid-JSON, or malformed) are `{}`, as Qwen
 * Code reads them: a JSON consumer's `.input.<name>` finds nothing instead of failing on a string.
 */
export function parsedArguments(pieces: string[]): Record<string, unknown> {
  const text = pieces.join('');
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : {};
  } catch {
    return {};
  }
}

export function doneEvent(finishReason: string | undefined): StreamEvent {
  return finishReason === undefined ? { type: 'done' } : { type: 'done', finishReason };
}

/**
 * The failure for a data line that is not JSON (a frame cut short, a stray log line): the providers' SDKs
 * stop there, and so does the turn, rather than pass an answer with a piece missing for a whole one. The
 * line is quoted whole: it is cut to length only once secrets are masked (cli/turn.ts), or a key cut in
 * two would no longer be recognised.
 */
export function notJsonFailure(data: string): StreamFailure {
  return { message: `an event is not valid JSON: ${data}` };
}

/**
 * The byte stream ended before the protocol said the answer was complete (no finish or stop reason, no
 * terminator): the connection was cut, and a cut-off answer must not pass for a whole one.
 */
export function endedEarlyFailure(missing: string): StreamFailure {
  return { message: `the stream ended before the answer was complete (${missing})`, missing };
}

/**
 * The events that end a stream in failure: the usage counted so far first, so that a failed run still
 * reports the tokens the server said it spent (a filter's cut, an error after message_start).
 */
export function failureEvents(failure: StreamFailure, usage: Usage | undefined): StreamEvent[] {
  const error: StreamEvent = { type: 'error', error: failure };
  return usage === undefined ? [error] : [{ type: 'usage', usage }, error];
}

/** The message of an `event: error` whose data is not JSON: its text is all the server said. */
export function messageOfErrorEvent(data: string): string {
  const text = data.trim();
  return text === '' ? 'The server reported an error.' : text;
}

/** Error messages longer than this are cut: an HTML error page is not a one-line diagnostic. */
const maximumMessageLength = 500;

export function capped(text: string): string {
  if (text.length <= maximumMessageLength) return text;
  // Cut between characters: half an emoji left alone would make the JSON result unreadable to jq.
  let end = maximumMessageLength - 3;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}...`;
}

/** Turns an HTML error page (a proxy's 502, Google's front-end 404) into its title or its visible text. */
function textOfHtml(html: string): string {
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1];
  const text = title ?? html.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ');
  return text.replace(/\s+/g, ' ').trim();
}

/** The message of an error body that is not JSON, on one line; undefined when it says nothing. */
export function messageOfTextBody(body: string): string | undefined {
  const trimmed = body.trim();
  const text = trimmed.startsWith('<') ? textOfHtml(trimmed) : trimmed;
  return text === '' ? undefined : text;
}

/** What stands for the message of an error that came with none: the bare status. */
export function statusOnlyMessage(status: number): string {
  return `HTTP ${status}`;
}

/** The server's message, or the bare status when it gave none worth showing. */
export function messageOrStatus(message: string | undefined, status: number): string {
  const fallback = statusOnlyMessage(status);
  return (message ?? fallback).trim() || fallback;
}

/**
 * A streamed JSON text learned to be `prefix + <body of one JSON string> + suffix`, where only the body
 * changes from one chunk to the next (a server repeats the same envelope around every text delta). A later
 * text that starts with the prefix and ends with the suffix then parses to the learned object with only
 * that string replaced, so the string alone needs reading (json-bytes.ts reads it from the bytes); see
 * findStringSlot for why that is exact.
 */
export interface StringSlot {
  /** Ends with the string's opening quote. */
  prefix: string;
  /** Starts with the string's closing quote. */
  suffix: string;
}

/** The distinct bodies findStringSlot tries in the slot: neither is a key on any path it could read. */
const slotProbes = ['x', 'y'] as const;

/**
 * Finds where the string that `read` returns sits in `text` (a JSON text already parsed successfully),
 * trying the places where `"<key>":"` appears; undefined when no candidate passes the check.
 *
 * Why the check proves the slot right: JSON is read left to right, so every text `prefix + body + suffix`
 * whose body is a valid string body (no unescaped quote or control character, no broken escape) is read in
 * the same way outside the body, and differs from the others in one string token only. `read` must follow
 * a fixed path through objects and arrays only. If putting two different probes in the body makes `read`
 * return exactly each probe, the token is the whole string that `read` returns: a token elsewhere (a
 * value, or a key: renaming one to `x` or `y` changes nothing on the path) would leave `read` the same for
 * both probes, and a token holding more than the body would not equal the probe.
 */
export function findStringSlot(
  text: string,
  key: string,
  read: (parsed: unknown) => unknown,
): StringSlot | undefined {
  const opening = new RegExp(`"${key}"\\s*:\\s*"`, 'g');
  for (let match = opening.exec(text); match !== null; match = opening.exec(text)) {
    const bodyStart = match.index + match[0].length;
    const bodyEnd = closingQuoteIndex(text, bodyStart);
    if (bodyEnd < 0) return undefined;
    const slot = { prefix: text.slice(0, bodyStart), suffix: text.slice(bodyEnd) };
    if (slotProbes.every((probe) => read(parseJson(slot.prefix + probe + slot.suffix)) === probe)) {
      return slot;
    }
  }
  return undefined;
}

/** The index of the quote that closes a JSON string whose body starts at `start`; -1 when none does. */
function closingQuoteIndex(text: string, start: number): number {
  for (let quote = text.indexOf('"', start); quote >= 0; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (quote - backslashes - 1 >= start && text.charCodeAt(quote - backslashes - 1) === 92) {
      backslashes += 1;
    }
    if (backslashes % 2 === 0) return quote;
  }
  return -1;
}
