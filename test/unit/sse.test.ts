import { describe, expect, test } from 'bun:test';
import { createSseParser, type SseMessage } from '../../src/core/sse.ts';
import { sliceBytes } from '../fakes/replay.ts';

const encoder = new TextEncoder();

type PlainMessage = { event: string; data: string; id?: string; strayJson?: string };

/** What a message says, as a plain object to compare. */
function plain(messages: SseMessage[]): PlainMessage[] {
  return messages.map((message) => {
    const { event, data, id, strayJson } = message;
    const said: PlainMessage = { event, data };
    if (id !== undefined) said.id = id;
    if (strayJson !== undefined) said.strayJson = strayJson;
    return said;
  });
}

function parseChunks(chunks: Uint8Array[]): PlainMessage[] {
  const parser = createSseParser();
  const messages: SseMessage[] = [];
  for (const chunk of chunks) messages.push(...parser.push(chunk));
  messages.push(...parser.end());
  return plain(messages);
}

function parseWhole(text: string): PlainMessage[] {
  return parseChunks([encoder.encode(text)]);
}

/** Seeded, so that a failure can be replayed; slices of 1 to `maximum` bytes. */
function randomSlices(bytes: Uint8Array, seed: number, maximum: number): Uint8Array[] {
  return sliceBytes(bytes, { seed, minSize: 1, maxSize: maximum });
}

/** Checks one stream at every single split point, every pair of split points, one byte at a time, randomly. */
function expectStableUnderSplitting(text: string, expected: PlainMessage[]): void {
  const bytes = encoder.encode(text);
  expect(parseChunks([bytes])).toEqual(expected);
  for (let first = 0; first <= bytes.length; first++) {
    expect(parseChunks([bytes.subarray(0, first), bytes.subarray(first)])).toEqual(expected);
    for (let second = first; second <= bytes.length; second++) {
      const chunks = [bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)];
      const actual = parseChunks(chunks);
      if (!Bun.deepEquals(actual, expected)) {
        throw new Error(`split at ${first}/${second} gave ${JSON.stringify(actual)}`);
      }
    }
  }
  expect(parseChunks(Array.from(bytes, (byte) => Uint8Array.of(byte)))).toEqual(expected);
  for (let seed = 1; seed <= 50; seed++) expect(parseChunks(randomSlices(bytes, seed, 7))).toEqual(expected);
}

const message = (data: string, extra: Partial<PlainMessage> = {}): PlainMessage => ({
  event: 'message',
  data,
  ...extra,
});

describe('createSseParser', () => {
  test('LF-separated events with multi-line data', () => {
    expectStableUnderSplitting('data: {"a":1}\n\ndata: first\ndata: second\n\ndata: [DONE]\n\n', [
      message('{"a":1}'),
      message('first\nsecond'),
      message('[DONE]'),
    ]);
  });

  test('CRLF line ends, as Gemini sends them', () => {
    expectStableUnderSplitting('data: one\r\n\r\ndata: two\r\ndata: three\r\n\r\n', [
      message('one'),
      message('two\nthree'),
    ]);
  });

  test('lone CR line ends, and a CR at a chunk end followed by LF is one line end', () => {
    expectStableUnderSplitting('data: one\r\rdata: two\r\r', [message('one'), message('two')]);
    // CR LF CR LF must be one blank line, not two: the second event must not be cut short.
    expect(
      parseChunks([encoder.encode('data: a\r'), encoder.encode('\ndata: b\r'), encoder.encode('\n\r\n')]),
    ).toEqual([message('a\nb')]);
  });

  test('mixed line ends in one stream', () => {
    expectStableUnderSplitting('data: a\r\ndata: b\n\rdata: c\r\r\n', [message('a\nb'), message('c')]);
  });

  test('multi-byte UTF-8 characters split across reads', () => {
    expectStableUnderSplitting('data: 思考中…\n\ndata: 😀 é ß\n\n', [message('思考中…'), message('😀 é ß')]);
  });

  test('comments, keep-alives and events without data are skipped', () => {
    expectStableUnderSplitting(': OPENROUTER PROCESSING\n\n:\n\nevent: ping\n\ndata: real\n\n', [
      message('real'),
    ]);
  });

  test('event and id fields; retry and unknown fields ignored; the last id carries over', () => {
    expectStableUnderSplitting(
      'retry: 3000\nevent: content_block_delta\nid: 7\ndata: {"x":1}\n\nfoo: bar\ndata: next\n\n',
      [message('{"x":1}', { event: 'content_block_delta', id: '7' }), message('next', { id: '7' })],
    );
  });

  test('the optional space after the colon: only one is removed, and none is required', () => {
    expect(parseWhole('data:tight\n\ndata:  two spaces\n\ndata\n\n')).toEqual([
      message('tight'),
      message(' two spaces'),
      message(''),
    ]);
  });

  test('only the field named exactly `data` is data: empty values, look-alike fields, blank data lines', () => {
    expectStableUnderSplitting(
      'data:\n\ndata: \n\ndataX: no\ndatum: no\n data: no\nDATA: no\n\ndata: a\ndata:\ndata: b\n\n',
      [message(''), message(''), message('a\n\nb')],
    );
  });

  test('bare JSON after data (a Gemini error without `data:`) comes as strayJson, with empty data', () => {
    const error = '{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}';
    // At the very end, without a line end: as the QA recording has it.
    expectStableUnderSplitting(`data: {"a":1}\r\n\r\n${error}`, [
      message('{"a":1}'),
      message('', { strayJson: error }),
    ]);
    // Inside an event that has data too (a message of its own after it), and as an event of its own.
    expectStableUnderSplitting(`data: one\n${error}\n\n[${error}]\n\ndata: two\n\n`, [
      message('one'),
      message('', { strayJson: error }),
      message('', { strayJson: `[${error}]` }),
      message('two'),
    ]);
  });

  test('pretty-printed bare JSON is kept whole, up to the blank line', () => {
    const pretty = '[{\n  "error": {\n    "code": 503,\n    "status": "UNAVAILABLE"\n  }\n}\n]';
    expectStableUnderSplitting(`data: x\r\n\r\n${pretty.replaceAll('\n', '\r\n')}\r\n\r\nfoo: bar\n\n`, [
      message('x'),
      message('', { strayJson: pretty }),
    ]);
  });

  test('no strayJson before any data (a body that is no event stream), nor for other unknown lines', () => {
    expectStableUnderSplitting('{"error":{"code":500}}\n\n[1]\n', []);
    expectStableUnderSplitting('data: a\n\nnot json\nfoo: {"x":1}\n :{}\n\n', [message('a')]);
  });

  test('a last event without a trailing blank line is flushed by end()', () => {
    expectStableUnderSplitting('data: one\n\ndata: last', [message('one'), message('last')]);
    expectStableUnderSplitting('data: one\n\ndata: last\n', [message('one'), message('last')]);
    expectStableUnderSplitting('data: last\r', [message('last')]);
  });

  test('a byte order mark at the start is dropped; later, it is part of the line', () => {
    expectStableUnderSplitting('\uFEFFdata: one\n\n', [message('one')]);
    expectStableUnderSplitting('\uFEFF\ndata: one\n\n', [message('one')]);
    expectStableUnderSplitting('data: one\n\n\uFEFFdata: two\n\ndata: \uFEFF\n\n', [
      message('one'),
      message('\uFEFF'),
    ]);
    expect(parseChunks([Uint8Array.of(0xef, 0xbb)])).toEqual([]);
  });

  test('data keeps the bytes as they came; its text replaces what is not UTF-8', () => {
    const parser = createSseParser();
    const bytes = Uint8Array.of(...encoder.encode('data: a'), 0xff, 0xe2, 0x82, ...encoder.encode('é\n\n'));
    const [received] = parser.push(bytes);
    expect(received?.bytes).toEqual(bytes.subarray(6, -2));
    expect(received?.data).toBe('a\uFFFD\uFFFDé');
  });

  test('events are returned as soon as their blank line arrives', () => {
    const parser = createSseParser();
    expect(plain(parser.push(encoder.encode('data: a\n')))).toEqual([]);
    expect(plain(parser.push(encoder.encode('\ndata: b\n\ndata: c')))).toEqual([message('a'), message('b')]);
    expect(plain(parser.end())).toEqual([message('c')]);
  });

  test('an empty stream and a stream of only comments give nothing', () => {
    expect(parseWhole('')).toEqual([]);
    expect(parseWhole(': hello\n: world\n')).toEqual([]);
  });

  test('20 MB in 64 KiB reads passes quickly and intact', () => {
    const piece = 'x'.repeat(200);
    const frame = `data: {"choices":[{"delta":{"content":"${piece}"}}]}\n\n`;
    const count = Math.ceil((20 * 1024 * 1024) / frame.length);
    const bytes = encoder.encode(frame.repeat(count));
    const started = performance.now();
    const parser = createSseParser();
    let received = 0;
    let dataLength = 0;
    for (let offset = 0; offset < bytes.length; offset += 65536) {
      for (const parsed of parser.push(bytes.subarray(offset, offset + 65536))) {
        received += 1;
        dataLength += parsed.data.length;
      }
    }
    received += parser.end().length;
    const elapsed = performance.now() - started;
    expect(received).toBe(count);
    expect(dataLength).toBe(count * (frame.length - 8));
    expect(elapsed).toBeLessThan(2000);
  });

  test('one long line delivered in small reads costs linear time', () => {
    const long = 'y'.repeat(4 * 1024 * 1024);
    const bytes = encoder.encode(`data: ${long}\n\n`);
    const started = performance.now();
    const parser = createSseParser();
    const messages: SseMessage[] = [];
    for (let offset = 0; offset < bytes.length; offset += 256) {
      messages.push(...parser.push(bytes.subarray(offset, offset + 256)));
    }
    messages.push(...parser.end());
    expect(plain(messages)).toEqual([message(long)]);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
