// Bytes -> server-sent events, following the WHATWG event-stream rules, written by hand so that core/
// depends on nothing. Providers chunk their streams arbitrarily (proxies re-chunk them again), so nothing
// here may assume that a read ends on a line, an event or even a character boundary.
// Lines are found in the bytes as they arrive and an event's data stays bytes until someone reads it as
// text: a decoder that can take what it needs from the bytes (the OpenAI one, for its text deltas) then
// never pays for decoding the whole stream.

import { concatBytes } from './bytes.ts';

/** One server-sent event: `event` defaults to "message", several data lines are joined with "\n". */
export interface SseMessage {
  readonly event: string;
  /** The data as text (UTF-8 decoded, invalid bytes replaced), decoded on first read. */
  readonly data: string;
  /** The data as the UTF-8 bytes that arrived. */
  readonly bytes: Uint8Array;
  readonly id?: string;
  /**
   * Bare JSON an event held outside any field, its lines joined with "\n": a line that starts with `{` or
   * `[` once the stream has carried data, and the lines after it up to the blank line (pretty-printed JSON).
   * The spec ignores such lines, and so do the decoders but Gemini's: js-genai reads a bare error object
   * written without `data:`, whose message would otherwise be lost. It comes as a message of its own, after
   * the event's data if it had some, with empty data, which every decoder already skips.
   */
  readonly strayJson?: string;
}

export interface SseParser {
  /**
   * Feeds the next bytes; returns the events they completed (often none, sometimes several). The messages
   * may keep views of `chunk`: as with any stream's chunks, the caller must not refill it afterwards.
   */
  push(chunk: Uint8Array): SseMessage[];
  /** The stream ended: returns the last event even when the server sent no blank line after it. */
  end(): SseMessage[];
}

// A byte order mark is dropped at the start of the stream only (see processLine); inside it is text.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const utf8Encoder = new TextEncoder();

class ReceivedMessage implements SseMessage {
  private text: string | undefined;
  readonly id?: string;

  constructor(
    readonly event: string,
    readonly bytes: Uint8Array,
    id: string,
  ) {
    if (id !== '') this.id = id;
  }

  get data(): string {
    this.text ??= utf8.decode(this.bytes);
    return this.text;
  }
}

const noBytes = new Uint8Array(0);

/** Bare JSON outside any field (SseMessage.strayJson): a class of its own, off the way of ordinary events. */
class StrayJsonMessage implements SseMessage {
  readonly data = '';
  readonly bytes = noBytes;
  readonly id?: string;

  constructor(
    readonly event: string,
    readonly strayJson: string,
    id: string,
  ) {
    if (id !== '') this.id = id;
  }
}

/** A message from text: for callers (and tests) that have the data already decoded. */
export function sseMessage(event: string, data: string, id = ''): SseMessage {
  return new ReceivedMessage(event, utf8Encoder.encode(data), id);
}

const lineFeed = 10;
const carriageReturn = 13;
const space = 32;
const colon = 58;
const byteOrderMark = [0xef, 0xbb, 0xbf] as const;
const newline = Uint8Array.of(lineFeed);
const openingBrace = 123;
const openingBracket = 91;

/** Whether a line (or a reply) that starts with this byte starts bare JSON: `{` or `[`. */
export function startsJson(byte: number | undefined): boolean {
  return byte === openingBrace || byte === openingBracket;
}

/** Where a field's value starts after its colon: one space after the colon is not part of it. */
function valueStart(line: Uint8Array, colonIndex: number): number {
  return line[colonIndex + 1] === space ? colonIndex + 2 : colonIndex + 1;
}

/** `data:` at `position`: the field nearly every line of a stream has. */
function isDataField(bytes: Uint8Array, position: number): boolean {
  return (
    bytes[position] === 100 && // d
    bytes[position + 1] === 97 && // a
    bytes[position + 2] === 116 && // t
    bytes[position + 3] === 97 && // a
    bytes[position + 4] === colon
  );
}

/** The first line of a stream without the byte order mark the spec drops there. */
function withoutByteOrderMark(line: Uint8Array): Uint8Array {
  const marked = line[0] === byteOrderMark[0] && line[1] === byteOrderMark[1] && line[2] === byteOrderMark[2];
  return marked ? line.subarray(byteOrderMark.length) : line;
}

export function createSseParser(): SseParser {
  // No line has ended yet: the next one is the first, where a byte order mark is dropped. A line that
  // starts with one is never a blank or a data line, so only processLine needs to look.
  let atStreamStart = true;
  // Pieces of a line whose end has not arrived yet; joined once, when it does, so that a long line
  // delivered in many small reads costs linear time rather than quadratic.
  let partialLine: Uint8Array[] = [];
  // A `\r` ended the previous read: a `\n` starting the next one belongs to the same line end.
  let skipLeadingLineFeed = false;

  // The data of the event so far: nearly always one line, kept without a list; later lines go to
  // `moreData`, each after the "\n" that joins it, as the spec says.
  let data: Uint8Array | undefined;
  let moreData: Uint8Array[] | undefined;
  let eventType = '';
  // Per spec the last event id survives from one event to the next until a new `id:` replaces it.
  let lastEventId = '';
  // Some event came with data: from then on, bare JSON lines are kept (see SseMessage.strayJson). Not
  // before, so that a body that is no event stream at all still yields no event.
  let sawData = false;
  // The bare JSON lines of the event so far; rare, and never on the way of an ordinary event.
  let strayLines: string[] | undefined;

  function dispatch(into: SseMessage[]): void {
    if (data !== undefined) {
      const bytes = moreData === undefined ? data : concatBytes([data, ...moreData]);
      into.push(new ReceivedMessage(eventType === '' ? 'message' : eventType, bytes, lastEventId));
      sawData = true;
    }
    if (strayLines !== undefined) dispatchStrayJson(strayLines, into);
    data = undefined;
    moreData = undefined;
    eventType = '';
  }

  function dispatchStrayJson(lines: string[], into: SseMessage[]): void {
    into.push(new StrayJsonMessage(eventType === '' ? 'message' : eventType, lines.join('\n'), lastEventId));
    strayLines = undefined;
  }

  /** A line that is no field the spec knows: kept when it starts bare JSON, or continues it. */
  function keepIfStrayJson(line: Uint8Array): void {
    if (strayLines !== undefined) strayLines.push(utf8.decode(line));
    else if ((sawData || data !== undefined) && startsJson(line[0])) {
      strayLines = [utf8.decode(line)];
    }
  }

  function addData(value: Uint8Array): void {
    if (data === undefined) {
      data = value;
      return;
    }
    moreData ??= [];
    moreData.push(newline, value);
  }

  /** Any line, whole: the rare ones (comments, `event:`, `id:`, lines that arrived in pieces). */
  function processLine(whole: Uint8Array, into: SseMessage[]): void {
    const line = atStreamStart ? withoutByteOrderMark(whole) : whole;
    if (line.length === 0) {
      dispatch(into);
      return;
    }
    if (isDataField(line, 0)) {
      addData(line.subarray(valueStart(line, 4)));
      return;
    }
    const colonIndex = line.indexOf(colon);
    if (colonIndex === 0) return; // a comment: keep-alives such as ": OPENROUTER PROCESSING"
    const field = utf8.decode(colonIndex < 0 ? line : line.subarray(0, colonIndex));
    const value = colonIndex < 0 ? '' : utf8.decode(line.subarray(valueStart(line, colonIndex)));
    switch (field) {
      case 'data':
        // Only a line that is exactly `data` (no colon) gets here: an empty data line.
        addData(new Uint8Array(0));
        break;
      case 'event':
        eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) lastEventId = value;
        break;
      case 'retry':
        // Only matters to a reconnecting EventSource.
        break;
      default:
        // Unknown fields are ignored by spec; a bare JSON object that landed here is kept for the decoder.
        keepIfStrayJson(line);
        break;
    }
  }

  function processBytes(bytes: Uint8Array, into: SseMessage[]): void {
    let position = 0;
    if (skipLeadingLineFeed && bytes.length > 0) {
      if (bytes[0] === lineFeed) position = 1;
      skipLeadingLineFeed = false;
    }
    // Both searches are cached so that a read with many `\n` and no `\r` (the usual case) is scanned once,
    // not once per line.
    let nextLineFeed = bytes.indexOf(lineFeed, position);
    let nextCarriageReturn = bytes.indexOf(carriageReturn, position);
    while (true) {
      // A blank line, after nearly every data line: no search needed to find it.
      if (nextLineFeed >= 0 && nextLineFeed < position) {
        nextLineFeed = bytes[position] === lineFeed ? position : bytes.indexOf(lineFeed, position);
      }
      if (nextCarriageReturn >= 0 && nextCarriageReturn < position) {
        nextCarriageReturn = bytes.indexOf(carriageReturn, position);
      }
      let lineEnd: number;
      if (nextLineFeed < 0) lineEnd = nextCarriageReturn;
      else if (nextCarriageReturn < 0) lineEnd = nextLineFeed;
      else lineEnd = Math.min(nextLineFeed, nextCarriageReturn);
      if (lineEnd < 0) break;

      if (partialLine.length > 0) {
        partialLine.push(bytes.subarray(position, lineEnd));
        const line = concatBytes(partialLine);
        partialLine = [];
        processLine(line, into);
      } else if (lineEnd === position) {
        dispatch(into);
      } else if (isDataField(bytes, position)) {
        // Most lines are data lines and blank lines: both are read where they are, without a copy.
        addData(bytes.subarray(valueStart(bytes, position + 4), lineEnd));
      } else {
        processLine(bytes.subarray(position, lineEnd), into);
      }

      atStreamStart = false;
      position = lineEnd + 1;
      if (bytes[lineEnd] === carriageReturn) {
        if (position === bytes.length) skipLeadingLineFeed = true;
        else if (bytes[position] === lineFeed) position += 1;
      }
    }
    if (position < bytes.length) partialLine.push(position === 0 ? bytes : bytes.subarray(position));
  }

  return {
    push(chunk: Uint8Array): SseMessage[] {
      const messages: SseMessage[] = [];
      processBytes(chunk, messages);
      return messages;
    },
    end(): SseMessage[] {
      const messages: SseMessage[] = [];
      if (partialLine.length > 0) {
        const line = concatBytes(partialLine);
        partialLine = [];
        processLine(line, messages);
      }
      // The spec drops an unterminated last event; servers that forget the final blank line exist, and
      // losing their last chunk (often the usage or the finish reason) would be worse.
      dispatch(messages);
      return messages;
    },
  };
}
