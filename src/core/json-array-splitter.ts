// The elements of a JSON array that arrives piecemeal, each one as soon as its last byte has come: how
// streamGenerateContent sends its chunks when the request's `alt=sse` was lost on the way (a proxy that
// drops the query), one array delivered over the whole answer. Reading the array whole would hold the
// answer back until its end, and lose all of it when the connection closes before the `]`.
//
// It reads bytes, not text: every byte that gives JSON its shape (brackets, braces, quotes, backslashes,
// commas, blanks) is ASCII, never part of a multi-byte UTF-8 character, so an element's bytes always hold
// whole characters however the reply was cut. Elements are not checked: the caller parses them.
import { concatBytes } from './bytes.ts';

export interface JsonArraySplitter {
  /** The text of each element these bytes complete, in order. */
  push(bytes: Uint8Array): string[];
}

const quote = 0x22;
const backslash = 0x5c;
const comma = 0x2c;
export const openingBracket = 0x5b;
const closingBracket = 0x5d;
const openingBrace = 0x7b;
const closingBrace = 0x7d;

function isBlank(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * A splitter for one reply that starts with `[` (blanks before it allowed). Bytes after the closing `]`,
 * and a reply that starts with anything else, give no element.
 */
export function createJsonArraySplitter(): JsonArraySplitter {
  const decoder = new TextDecoder();
  // Before the `[`, between elements, inside one, or past the `]` (or not an array at all).
  let state: 'before' | 'between' | 'inside' | 'after' = 'before';
  // Inside an element: open brackets and braces, whether in a string (and just after its backslash), and
  // whether it is a bare number or literal, which only the next comma, `]` or blank ends.
  let depth = 0;
  let inString = false;
  let escaped = false;
  let bare = false;
  // The element's bytes from earlier pushes.
  let pieces: Uint8Array[] = [];

  return {
    push(bytes: Uint8Array): string[] {
      const elements: string[] = [];
      // Where the current element starts in these bytes (0 when it began in an earlier push).
      let start = 0;
      const complete = (end: number) => {
        pieces.push(bytes.subarray(start, end));
        elements.push(decoder.decode(concatBytes(pieces)));
        pieces = [];
        state = 'between';
      };
      for (let index = 0; index < bytes.length; index++) {
        const byte = bytes[index] as number;
        if (state === 'inside') {
          if (inString) {
            if (escaped) escaped = false;
            else if (byte === backslash) escaped = true;
            else if (byte === quote) {
              inString = false;
              if (depth === 0) complete(index + 1);
            }
            continue;
          }
          if (bare) {
            if (byte !== comma && byte !== closingBracket && !isBlank(byte)) continue;
            // The byte that ended it is the array's: read on as between elements.
            complete(index);
          } else {
            if (byte === quote) inString = true;
            else if (byte === openingBrace || byte === openingBracket) depth += 1;
            else if ((byte === closingBrace || byte === closingBracket) && --depth === 0) complete(index + 1);
            continue;
          }
        }
        if (state === 'after' || isBlank(byte)) continue;
        if (state === 'before') {
          state = byte === openingBracket ? 'between' : 'after';
          continue;
        }
        if (byte === comma) continue;
        if (byte === closingBracket) {
          state = 'after';
          continue;
        }
        state = 'inside';
        start = index;
        inString = byte === quote;
        escaped = false;
        bare = !inString && byte !== openingBrace && byte !== openingBracket;
        depth = inString || bare ? 0 : 1;
      }
      // A copy: the caller may reuse its buffer for the next bytes.
      if (state === 'inside') pieces.push(bytes.slice(start));
      return elements;
    },
  };
}
