import { expect, test } from 'bun:test';
import { createGatheredText } from '../../src/core/gathered-text.ts';

test('gathered text is every piece in order, read at any time, across the joins', () => {
  const gathered = createGatheredText();
  expect(gathered.text()).toBe('');
  const pieces = Array.from({ length: 10_000 }, (_, index) => String(index % 10));
  for (const [index, piece] of pieces.entries()) {
    gathered.add(piece);
    // Read halfway, as a failure's partial answer is: adding goes on after.
    if (index === 4_999) expect(gathered.text()).toBe(pieces.slice(0, 5_000).join(''));
  }
  expect(gathered.text()).toBe(pieces.join(''));
  expect(gathered.text()).toBe(pieces.join(''));
});
