import { expect, test } from 'bun:test';
import { isHeaderName, keyPasteProblem, unsendableCharacterIn } from '../../src/core/header-text.ts';

test('header names are tokens: no spaces, colons or accents', () => {
  for (const name of ['X-Api-Key', 'authorization', "x!#$%&'*+.^_`|~1"])
    expect(isHeaderName(name)).toBe(true);
  for (const name of ['', 'X Len', 'X:y', 'Clé', 'a\nb']) expect(isHeaderName(name)).toBe(false);
});

test('a value fetch would refuse names its first such character and where, never the rest', () => {
  // Tabs, spaces and Latin-1 pass.
  for (const value of ['sk-abc123', 'a\tb', 'café', 'a b', '']) {
    expect(unsendableCharacterIn(value)).toBeUndefined();
  }
  // An escape sequence a bracketed paste left around a key: named, never written out.
  expect(unsendableCharacterIn('\u001b[200~sk-abc')).toBe('a control character (U+001B) at position 1');
  expect(unsendableCharacterIn('a\u0001b')).toBe('a control character (U+0001) at position 2');
  expect(unsendableCharacterIn('a\u007f')).toBe('a control character (U+007F) at position 2');
  expect(unsendableCharacterIn('sk-SECRET\u201d')).toBe('"\u201d" (U+201D) at position 10');
  expect(unsendableCharacterIn('sk-abc\ndef')).toBe('a line break (U+000A) at position 7');
  expect(unsendableCharacterIn('\rx')).toBe('a line break (U+000D) at position 1');
  expect(unsendableCharacterIn('a\0')).toBe('a control character (U+0000) at position 2');
  // A character beyond the Basic Multilingual Plane is named whole.
  expect(unsendableCharacterIn('key😀')).toBe('"😀" (U+1F600) at position 4');
});

test('a key being set up: what a header cannot carry, and a space or tab inside (a paste that took more than the key)', () => {
  expect(keyPasteProblem('sk-abc123')).toBeUndefined();
  expect(keyPasteProblem('sk-abc\u201d')).toBe('"\u201d" (U+201D) at position 7');
  expect(keyPasteProblem('Bearer sk-abc')).toBe('a space (U+0020) at position 7');
  expect(keyPasteProblem('sk-abc\tsk-def')).toBe('a tab (U+0009) at position 7');
  expect(keyPasteProblem('sk-abc\nsk-def')).toBe('a line break (U+000A) at position 7');
});
