// Bytes -> server-sent events, following the WHATWG event-stream rules, written by hand so that core/
// depends on nothing. Providers chunk their streams arbitrarily (proxies re-chunk them again), so nothing
// here may assume that a read ends on a line, an event or even a character boundary.

/** One server-sent event: `event` defaults to "message", several data lines are joined with "\n". */
export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

export interface SseParser {
  /** Feeds the next bytes; returns the events they completed (often none, sometimes several). */
  push(chunk: Uint8Array): SseMessage[];
  /** The stream ended: returns the last event even when the server sent no blank line after it. */
  end(): SseMessage[];
}

const lineFeed = 10;
const carriageReturn = 13;
const space = 32;

/** Where a field's value starts after its colon: one space after the colon is not part of it. */
function valueStart(text: string, colon: number): number {
  return text.charCodeAt(colon + 1) === space ? colon + 2 : colon + 1;
}

export function createSseParser(): SseParser {
  // The streaming decoder keeps the first bytes of a character split across reads, and (ignoreBOM false,
  // the default) drops a byte order mark at the start of the stream, as the spec asks.
  const decoder = new TextDecoder('utf-8');
  // Pieces of a line whose end has not arrived yet; joined once, when it does, so that a long line
  // delivered in many small reads costs linear time rather than quadratic.
  let partialLine: string[] = [];
  // A `\r` ended the previous read: a `\n` starting the next one belongs to the same line end.
  let skipLeadingLineFeed = false;

  // The data lines of the event so far, joined with "\n" as they come (events have one data line but rarely).
  let data: string | undefined;
  let eventType = '';
  // Per spec the last event id survives from one event to the next until a new `id:` replaces it.
  let lastEventId = '';

  function dispatch(into: SseMessage[]): void {
    if (data !== undefined) {
      const message: SseMessage = { event: eventType === '' ? 'message' : eventType, data };
      if (lastEventId !== '') message.id = lastEventId;
      into.push(message);
    }
    data = undefined;
    eventType = '';
  }

  function addData(value: string): void {
    data = data === undefined ? value : `${data}\n${value}`;
  }

  function processLine(line: string, into: SseMessage[]): void {
    if (line === '') {
      dispatch(into);
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // a comment: keep-alives such as ": OPENROUTER PROCESSING"
    let field: string;
    let value: string;
    if (colon < 0) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.slice(valueStart(line, colon));
    }
    switch (field) {
      case 'data':
        addData(value);
        break;
      case 'event':
        eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) lastEventId = value;
        break;
      default:
        // `retry:` only matters to a reconnecting EventSource, and unknown fields are ignored by spec.
        break;
    }
  }

  function processText(text: string, into: SseMessage[]): void {
    let position = 0;
    if (skipLeadingLineFeed && text.length > 0) {
      if (text.charCodeAt(0) === lineFeed) position = 1;
      skipLeadingLineFeed = false;
    }
    // Both searches are cached so that a text with many `\n` and no `\r` (the usual case) is scanned once,
    // not once per line.
    let nextLineFeed = text.indexOf('\n', position);
    let nextCarriageReturn = text.indexOf('\r', position);
    while (true) {
      if (nextLineFeed >= 0 && nextLineFeed < position) nextLineFeed = text.indexOf('\n', position);
      if (nextCarriageReturn >= 0 && nextCarriageReturn < position) {
        nextCarriageReturn = text.indexOf('\r', position);
      }
      let lineEnd: number;
      if (nextLineFeed < 0) lineEnd = nextCarriageReturn;
      else if (nextCarriageReturn < 0) lineEnd = nextLineFeed;
      else lineEnd = Math.min(nextLineFeed, nextCarriageReturn);
      if (lineEnd < 0) break;

      if (partialLine.length > 0) {
        partialLine.push(text.slice(position, lineEnd));
        const line = partialLine.join('');
        partialLine = [];
        processLine(line, into);
      } else if (lineEnd === position) {
        dispatch(into);
      } else if (text.startsWith('data:', position)) {
        // Most lines are data lines and blank lines: both are read from the text where they are,
        // without slicing the line, then its field name (a third of the parser's time on long streams).
        addData(text.slice(valueStart(text, position + 4), lineEnd));
      } else {
        processLine(text.slice(position, lineEnd), into);
      }

      position = lineEnd + 1;
      if (text.charCodeAt(lineEnd) === carriageReturn) {
        if (position === text.length) skipLeadingLineFeed = true;
        else if (text.charCodeAt(position) === lineFeed) position += 1;
      }
    }
    if (position < text.length) partialLine.push(position === 0 ? text : text.slice(position));
  }

  return {
    push(chunk: Uint8Array): SseMessage[] {
      const messages: SseMessage[] = [];
      processText(decoder.decode(chunk, { stream: true }), messages);
      return messages;
    },
    end(): SseMessage[] {
      const messages: SseMessage[] = [];
      processText(decoder.decode(), messages);
      if (partialLine.length > 0) {
        const line = partialLine.join('');
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
