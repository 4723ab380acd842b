import { expect, test } from 'bun:test';
import { wholeCharactersEnd } from '../../src/cli/terminal-io.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

test('stdin cut at its limit keeps whole characters only', () => {
  const text = bytes('aé€😀');
  expect(wholeCharactersEnd(text)).toBe(text.length);
  // Cut inside 😀 (4 bytes), inside € (3 bytes), inside é (2 bytes): the partial character goes.
  for (let cut = 1; cut <= 3; cut += 1) expect(wholeCharactersEnd(text.subarray(0, 6 + cut))).toBe(6);
  expect(wholeCharactersEnd(text.subarray(0, 5))).toBe(3);
  expect(wholeCharactersEnd(text.subarray(0, 2))).toBe(1);
  expect(wholeCharactersEnd(new Uint8Array())).toBe(0);
  // Bytes that are not UTF-8 at all are left for the decoder (U+FFFD), not dropped.
  expect(wholeCharactersEnd(Uint8Array.of(0x61, 0x80, 0x80, 0x80, 0x80))).toBe(5);
});
