import { expect, test } from 'bun:test';
import { createSurrogateJoiner, type StreamEvent, utf8Delta } from '../../src/core/events.ts';

/** The events the joiner hands on, deltas as plain type and text. */
function joined(events: StreamEvent[]): unknown[] {
  const joiner = createSurrogateJoiner();
  const out = events.flatMap((event) => (joiner.wants(event) ? joiner.join(event) : [event]));
  return out.map((event) =>
    event.type === 'text-delta' || event.type === 'reasoning-delta' ? [event.type, event.text] : event.type,
  );
}

test('a surrogate pair split across two deltas is joined; whole deltas pass as they are', () => {
  expect(
    joined([
      { type: 'text-delta', text: 'A\ud83d' },
      { type: 'text-delta', text: '\ude00B' },
      { type: 'done' },
    ]),
  ).toEqual([['text-delta', 'A'], ['text-delta', '\ud83d\ude00B'], 'done']);
  // A delta that is the high half alone, and reasoning alike.
  expect(
    joined([
      { type: 'reasoning-delta', text: '\ud83d' },
      { type: 'reasoning-delta', text: '\ude00' },
    ]),
  ).toEqual([['reasoning-delta', '\ud83d\ude00']]);
});

test('a held half is never lost: it goes out before any other event, alone if nothing completes it', () => {
  expect(
    joined([
      { type: 'text-delta', text: 'x\ud83d' },
      { type: 'reasoning-delta', text: 'think' },
      { type: 'text-delta', text: 'y\ud83d' },
      { type: 'usage', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } },
    ]),
  ).toEqual([
    ['text-delta', 'x'],
    ['text-delta', '\ud83d'],
    ['reasoning-delta', 'think'],
    ['text-delta', 'y'],
    ['text-delta', '\ud83d'],
    'usage',
  ]);
  // Byte deltas are well-formed UTF-8: never held, never decoded to look.
  const bytes = utf8Delta('text-delta', [new TextEncoder().encode('ok')]);
  expect(createSurrogateJoiner().wants(bytes)).toBe(false);
});
