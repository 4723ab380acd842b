import { describe, expect, test } from 'bun:test';
import { createJsonArraySplitter } from '../../src/core/json-array-splitter.ts';

const encoder = new TextEncoder();

function split(pieces: Uint8Array[]): string[] {
  const splitter = createJsonArraySplitter();
  return pieces.flatMap((piece) => splitter.push(piece));
}

/** Checks one reply whole, at every split point, at every pair of split points, and one byte at a time. */
function expectStableUnderSplitting(text: string, expected: string[]): void {
  const bytes = encoder.encode(text);
  expect(split([bytes])).toEqual(expected);
  for (let first = 0; first <= bytes.length; first++) {
    for (let second = first; second <= bytes.length; second++) {
      const pieces = [bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)];
      const actual = split(pieces);
      if (!Bun.deepEquals(actual, expected)) {
        throw new Error(`split at ${first}/${second} gave ${JSON.stringify(actual)}`);
      }
    }
  }
  expect(split(Array.from(bytes, (byte) => Uint8Array.of(byte)))).toEqual(expected);
}

describe('JSON array splitter', () => {
  test("Gemini's array without alt=sse: each element, CRLF between them", () => {
    const first = '{"candidates":[{"content":{"parts":[{"text":"Hel"}]}}]}';
    const second = '{"candidates":[{"content":{"parts":[{"text":"lo"}]},"finishReason":"STOP"}]}';
    expectStableUnderSplitting(`[${first}\r\n,\r\n${second}]`, [first, second]);
  });

  test('brackets, braces, quotes and backslashes inside strings do not end an element', () => {
    const tricky = String.raw`{"text":"] } [ { \" \\ \\\" ,","n":[1,[2,{"a":"]"}]]}`;
    const unicode = '{"text":"é😀 中文 \\u00e9"}';
    expectStableUnderSplitting(` \n[ ${tricky} , ${unicode} ] `, [tricky, unicode]);
  });

  test('elements that are no objects: strings, numbers, literals, arrays', () => {
    expectStableUnderSplitting('["a\\"]b", 12.5e3 ,true,null,[1,["x"]],-1]', [
      '"a\\"]b"',
      '12.5e3',
      'true',
      'null',
      '[1,["x"]]',
      '-1',
    ]);
  });

  test('an array cut short gives the elements it completed; nothing after the `]`; no array, nothing', () => {
    expectStableUnderSplitting('[{"a":1},{"b":"cut', ['{"a":1}']);
    expectStableUnderSplitting('[{"a":1}]{"b":2}', ['{"a":1}']);
    expectStableUnderSplitting('[]', []);
    expectStableUnderSplitting('{"a":[1,2]}', []);
  });
});
