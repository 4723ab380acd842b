// A JSON string read straight from the UTF-8 bytes of a JSON text, without decoding or parsing the rest:
// how the OpenAI decoder takes the text out of a chunk whose envelope it has already learned (see
// findStringSlot in wire.ts). A long answer is then written to stdout as the bytes that arrived, never
// decoded to a string and encoded back. Whatever is read here must be exactly what decoding the whole text
// and parsing it (leniently, as parseJson does) would give; anything in doubt returns undefined and the
// caller takes that longer way.
import { Buffer, isUtf8 } from 'node:buffer';
import type { StringSlot } from './wire.ts';

/** A StringSlot as bytes: the prefix ends with the string's opening quote, the suffix starts with its closing one. */
export interface ByteSlot {
  prefix: Buffer;
  suffix: Buffer;
}

export function byteSlotOf(slot: StringSlot): ByteSlot {
  return { prefix: Buffer.from(slot.prefix, 'utf8'), suffix: Buffer.from(slot.suffix, 'utf8') };
}

/**
 * The UTF-8 bytes of the string in the slot, in pieces (see jsonStringBody), when `bytes` has the slot's
 * shape and the string is one that needs no replacing; undefined when not (the caller then decodes and
 * parses the whole text).
 */
export function stringBytesInSlot(slot: ByteSlot, bytes: Uint8Array): Uint8Array[] | undefined {
  const { prefix, suffix } = slot;
  const end = bytes.length - suffix.length;
  if (end < prefix.length) return undefined;
  // Buffer.compare over ranges is native: no view objects, no byte loop in JavaScript.
  if (prefix.compare(bytes, 0, prefix.length) !== 0) return undefined;
  if (suffix.compare(bytes, end, bytes.length) !== 0) return undefined;
  return jsonStringBody(bytes, prefix.length, end);
}

const quote = 0x22;
const backslash = 0x5c;

/** The byte each one-byte escape stands for, by the byte after its backslash. */
const singleByteEscapes = new Map<number, Uint8Array>([
  [0x22, Uint8Array.of(0x22)], // \"
  [0x5c, Uint8Array.of(0x5c)], // \\
  [0x2f, Uint8Array.of(0x2f)], // \/
  [0x62, Uint8Array.of(0x08)], // \b
  [0x66, Uint8Array.of(0x0c)], // \f
  [0x6e, Uint8Array.of(0x0a)], // \n
  [0x72, Uint8Array.of(0x0d)], // \r
  [0x74, Uint8Array.of(0x09)], // \t
]);

/**
 * The UTF-8 bytes of the string whose body (between its quotes) is `bytes[start..end)`, as pieces: views of
 * the runs between escapes, and the bytes each escape stands for. Nothing is copied: a long answer is
 * mostly views of the network reads, written out as they are. Undefined when the body is not a string body
 * (an unescaped quote, a broken escape), has bytes that are not UTF-8, or has a `\u` escape of a lone
 * surrogate (its string has no UTF-8 form). Raw control characters are kept, as parseJson keeps them.
 * Escapes are found with native searches, so a body is never walked byte by byte in JavaScript.
 */
export function jsonStringBody(bytes: Uint8Array, start: number, end: number): Uint8Array[] | undefined {
  const pieces: Uint8Array[] = [];
  // The closing quote at `end` bounds both searches within the text.
  let nextQuote = bytes.indexOf(quote, start);
  let nextBackslash = bytes.indexOf(backslash, start);
  let position = start;
  for (;;) {
    const runEnd = nextBackslash < 0 || nextBackslash >= end ? end : nextBackslash;
    if (nextQuote < runEnd) return undefined;
    if (runEnd > position) {
      // Escapes stand for whole characters, so each run must be UTF-8 by itself.
      const run = bytes.subarray(position, runEnd);
      if (!isUtf8(run)) return undefined;
      pieces.push(run);
    }
    if (runEnd === end) return pieces;
    const escaped = bytes[runEnd + 1];
    if (runEnd + 1 >= end || escaped === undefined) return undefined;
    const single = singleByteEscapes.get(escaped);
    if (single !== undefined) {
      pieces.push(single);
      position = runEnd + 2;
    } else if (escaped === 0x75) {
      const decoded = unicodeEscape(bytes, runEnd, end);
      if (decoded === undefined) return undefined;
      pieces.push(utf8Of(decoded.codePoint));
      position = decoded.next;
    } else {
      return undefined;
    }
    if (position === end) return pieces;
    if (nextQuote < position) nextQuote = bytes.indexOf(quote, position);
    nextBackslash = bytes.indexOf(backslash, position);
  }
}

/** `\uXXXX`, or a surrogate pair of two, at `at`; undefined for a malformed escape or a lone surrogate. */
function unicodeEscape(
  bytes: Uint8Array,
  at: number,
  end: number,
): { codePoint: number; next: number } | undefined {
  const unit = hexQuad(bytes, at + 2, end);
  if (unit === undefined || (unit >= 0xdc00 && unit <= 0xdfff)) return undefined;
  if (unit < 0xd800 || unit > 0xdbff) return { codePoint: unit, next: at + 6 };
  if (bytes[at + 6] !== backslash || bytes[at + 7] !== 0x75) return undefined;
  const low = hexQuad(bytes, at + 8, end);
  if (low === undefined || low < 0xdc00 || low > 0xdfff) return undefined;
  return { codePoint: 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00), next: at + 12 };
}

/** Four hex digits at `at`, all before `end`. */
function hexQuad(bytes: Uint8Array, at: number, end: number): number | undefined {
  if (at + 4 > end) return undefined;
  let value = 0;
  for (let index = at; index < at + 4; index += 1) {
    const digit = hexValue(bytes[index] as number);
    if (digit < 0) return undefined;
    value = value * 16 + digit;
  }
  return value;
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** A code point (never a surrogate) as UTF-8. */
function utf8Of(codePoint: number): Uint8Array {
  if (codePoint < 0x80) return Uint8Array.of(codePoint);
  if (codePoint < 0x800) return Uint8Array.of(0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f));
  if (codePoint < 0x10000) {
    return Uint8Array.of(
      0xe0 | (codePoint >> 12),
      0x80 | ((codePoint >> 6) & 0x3f),
      0x80 | (codePoint & 0x3f),
    );
  }
  return Uint8Array.of(
    0xf0 | (codePoint >> 18),
    0x80 | ((codePoint >> 12) & 0x3f),
    0x80 | ((codePoint >> 6) & 0x3f),
    0x80 | (codePoint & 0x3f),
  );
}
