// A JSON string read from bytes (src/protocols/json-bytes.ts) must read exactly what decoding the bytes and
// parsing them does, or step aside; and parseJson forgives raw control characters in strings, nothing else.

import { describe, expect, test } from 'bun:test';
import { utf8Delta } from '../../src/core/events.ts';
import { jsonStringBody } from '../../src/protocols/json-bytes.ts';
import { parseJson } from '../../src/protocols/wire.ts';
import { createTextRenderer } from '../../src/render/text.ts';
import { seededRandom } from '../fakes/replay.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Pieces of string bodies as servers write them, and as broken ones do. */
const bodyPieces: (string | number[])[] = [
  'plain',
  ' ',
  '\\n',
  '\\"',
  '\\\\',
  '\\/',
  '\\b\\f\\r\\t',
  '\\u00e9',
  '\\u00E9',
  '\\u4e2d',
  '\\ud83d\\ude00',
  '\\uD83D\\uDE00',
  '\\ud800',
  '\\udc00',
  '\\ud83dx',
  '\\u12',
  '\\x',
  '\\',
  '"',
  '\t',
  '\u0001',
  'é',
  '中文',
  '😀',
  [0xff],
  [0xe2, 0x82],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
];

function randomBody(seed: number): Uint8Array {
  const random = seededRandom(seed);
  const bytes: number[] = [];
  const length = Math.floor(random() * 7);
  for (let index = 0; index < length; index += 1) {
    const piece = bodyPieces[Math.floor(random() * bodyPieces.length)] as string | number[];
    bytes.push(...(typeof piece === 'string' ? encoder.encode(piece) : piece));
  }
  return Uint8Array.from(bytes);
}

/** What the long way gives: decode the whole text, parse it; undefined when that is not a plain string. */
function readTheLongWay(body: Uint8Array): string | undefined {
  const decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let text: string;
  try {
    text = decoded.decode(body);
  } catch {
    return undefined; // not UTF-8: the long way replaces bytes, which the short way must leave to it
  }
  const parsed = parseJson(`"${text}"`);
  // A lone surrogate has no UTF-8 form: the short way must leave that string to the long way too.
  return typeof parsed === 'string' && !/[\ud800-\udfff]/u.test(parsed) ? parsed : undefined;
}

describe('jsonStringBody', () => {
  test('reads what decoding and parsing read, or nothing, for 20,000 generated bodies', () => {
    let read = 0;
    for (let seed = 1; seed <= 20_000; seed += 1) {
      const body = randomBody(seed);
      // The closing quote follows the body, as it does in a chunk.
      const text = Uint8Array.of(...body, 0x22);
      const pieces = jsonStringBody(text, 0, body.length);
      const expected = readTheLongWay(body);
      const actual = pieces === undefined ? undefined : decoder.decode(Buffer.concat(pieces));
      if (actual !== expected)
        expect({ seed, body: [...body], actual }).toEqual({ seed, body: [...body], actual: expected });
      if (pieces !== undefined) {
        read += 1;
        expect(pieces.every((piece) => piece.length > 0)).toBe(true);
      }
    }
    // Both outcomes are well represented.
    expect(read).toBeGreaterThan(3_000);
    expect(read).toBeLessThan(17_000);
  });

  test('a body without escapes is a view of the bytes, not a copy', () => {
    const text = encoder.encode('{"content":"hello"}');
    const pieces = jsonStringBody(text, 12, 17);
    expect(pieces).toHaveLength(1);
    expect(pieces?.[0]?.buffer).toBe(text.buffer);
  });
});

describe('parseJson', () => {
  test('forgives raw control characters inside strings', () => {
    expect(parseJson('{"a":"x\ty\u0001"}')).toEqual({ a: 'x\ty\u0001' });
    expect(parseJson('{"a\u0002":"\\"\u0003\\\\"}')).toEqual({ 'a\u0002': '"\u0003\\' });
  });

  test('mends nothing else: control characters outside strings, after a backslash, or other errors', () => {
    expect(parseJson('{"a":1}\u0001')).toBeUndefined();
    expect(parseJson('{"a":"\\\u0001"}')).toBeUndefined();
    expect(parseJson('{"a":"\t"')).toBeUndefined();
    expect(parseJson('{"a":\t"b"}')).toEqual({ a: 'b' });
    expect(parseJson('not json')).toBeUndefined();
  });
});

describe('text renderer', () => {
  test('writes bytes and text deltas of one tick in one write, reasoning never, and ends the line', async () => {
    const writes: (string | Uint8Array)[] = [];
    const renderer = createTextRenderer((output) => writes.push(output));
    renderer.event({ type: 'text-delta', text: 'Hé' });
    renderer.event(utf8Delta('text-delta', [encoder.encode('llo '), encoder.encode('wörld')]));
    renderer.event({ type: 'reasoning-delta', text: 'hidden' });
    renderer.event(utf8Delta('reasoning-delta', [encoder.encode('hidden too')]));
    await Promise.resolve();
    const written = () =>
      writes.map((output) => (typeof output === 'string' ? output : decoder.decode(output)));
    expect(written()).toEqual(['Héllo wörld']);
    renderer.event(utf8Delta('text-delta', [encoder.encode('!\n')]));
    renderer.finish({ durationMs: 0, apiDurationMs: 0 });
    expect(written()).toEqual(['Héllo wörld', '!\n']);
  });

  test('to a terminal, escape sequences in the answer are removed (split ones too); elsewhere the bytes pass as sent', async () => {
    const answer = ['Clear\x1b[2', 'J\x1b[Hed, ', 'titled\x1b]0;PWNED\x07.\n'];
    const rendered = async (terminal: boolean) => {
      const writes: string[] = [];
      const renderer = createTextRenderer(
        (output) => writes.push(typeof output === 'string' ? output : decoder.decode(output)),
        { terminal },
      );
      for (const piece of answer) renderer.event(utf8Delta('text-delta', [encoder.encode(piece)]));
      await Promise.resolve();
      renderer.finish({ durationMs: 0, apiDurationMs: 0 });
      return writes.join('');
    };
    expect(await rendered(true)).toBe('Cleared, titled.\n');
    expect(await rendered(false)).toBe(answer.join(''));
  });

  test('adds a newline at the end only when the answer has none', () => {
    const writes: string[] = [];
    const renderer = createTextRenderer((output) =>
      writes.push(typeof output === 'string' ? output : decoder.decode(output)),
    );
    renderer.event(utf8Delta('text-delta', [encoder.encode('no newline')]));
    renderer.finish({ durationMs: 0, apiDurationMs: 0 });
    expect(writes.join('')).toBe('no newline\n');
  });
});
