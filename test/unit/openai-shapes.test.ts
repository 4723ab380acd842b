// The OpenAI decoder parses only the text of a chunk whose envelope repeats the last one-delta chunk's
// (src/protocols/wire.ts, findStringSlot). That must never change a single event: these tests decode many
// generated streams both ways, with envelopes that repeat, change midway or try to mislead the slot search
// (`"content":"` inside other strings and keys, duplicate keys, a second choice), texts full of quotes,
// backslashes, escapes, control characters and multi-byte characters, and lines damaged on purpose.

import { describe, expect, spyOn, test } from 'bun:test';
import type { StreamEvent } from '../../src/core/events.ts';
import { type SseMessage, sseMessage } from '../../src/core/sse.ts';
import { byteSlotOf, stringBytesInSlot } from '../../src/protocols/json-bytes.ts';
import { createOpenAiDecoder, defaultChunksBeforeLearning } from '../../src/protocols/openai.ts';
import { findStringSlot, type StringSlot } from '../../src/protocols/wire.ts';
import { seededRandom } from '../fakes/replay.ts';
import { plainEvents } from './helpers.ts';

type Random = () => number;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

const textPieces = [
  'Hello',
  ' world',
  ' ',
  '"',
  '\\',
  '\n',
  '\r\n',
  '\t',
  '\u0000',
  '\u001f',
  '\u007f',
  'é',
  '中文',
  '😀',
  '\ud800',
  '"content":"',
  'x\\"content',
  '\\u0041',
  '\\n',
  '/',
  '</s>',
  '{"a":1}',
  '\u2028',
  'x',
  'y',
] as const;

function randomText(random: Random): string {
  const length = Math.floor(random() * 6);
  let text = '';
  for (let index = 0; index < length; index += 1) text += pick(random, textPieces);
  return text;
}

/**
 * A JSON string literal, escaping what must be escaped in one of its allowed spellings, and sometimes more;
 * now and then a control character is left raw, as some servers do (parseJson forgives it).
 */
function jsonString(random: Random, text: string, escapeRate: number): string {
  let literal = '"';
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    const mustEscape = character === '"' || character === '\\' || code < 0x20;
    if (code < 0x20 && random() < 0.2) {
      literal += character;
    } else if (code <= 0xffff && (mustEscape || random() < escapeRate) && random() < 0.5) {
      const hex = code.toString(16).padStart(4, '0');
      literal += `\\u${random() < 0.5 ? hex : hex.toUpperCase()}`;
    } else if (mustEscape) {
      literal += JSON.stringify(character).slice(1, -1);
    } else if (character === '/' && random() < 0.5) {
      literal += '\\/';
    } else {
      literal += character;
    }
  }
  return `${literal}"`;
}

/** How one server writes its JSON: the same for every chunk of an envelope, so that it can repeat. */
interface Style {
  colon: string;
  comma: string;
  escapeRate: number;
}

function randomStyle(random: Random): Style {
  return {
    colon: pick(random, [':', ':', ': ', ' : ']),
    comma: pick(random, [',', ',', ', ']),
    escapeRate: pick(random, [0, 0, 0.2]),
  };
}

/** JSON.stringify with a style; `text` is written with its own random escapes (it changes every chunk). */
function write(random: Random, style: Style, value: unknown, text: string): string {
  if (value === textMarker) return jsonString(random, text, 0.1);
  if (typeof value === 'string') return jsonString(seededRandom(value.length), value, style.escapeRate);
  if (Array.isArray(value))
    return `[${value.map((item) => write(random, style, item, text)).join(style.comma)}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value).map(
      ([key, item]) =>
        `${jsonString(seededRandom(key.length), key, style.escapeRate)}${style.colon}${write(random, style, item, text)}`,
    );
    return `{${members.join(style.comma)}}`;
  }
  return JSON.stringify(value);
}

/** Where a chunk's text goes. */
const textMarker = Symbol('text');

/** Chunk bodies as servers send them; textMarker is replaced by the chunk's text. */
function randomEnvelope(random: Random, id: string): unknown {
  const choice = (delta: unknown, finish: unknown = null) => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  const header = { id, object: 'chat.completion.chunk', created: 1764200000, model: 'm' };
  switch (Math.floor(random() * 18)) {
    case 0:
      return { ...header, choices: [choice({ role: 'assistant', content: textMarker })] };
    case 1:
      return { ...header, choices: [choice({ reasoning_content: textMarker })] };
    case 2:
      return { ...header, choices: [choice({ reasoning: 'thinking', content: textMarker })] };
    case 3:
      return {
        ...header,
        choices: [choice({ tool_calls: [{ index: 0, function: { arguments: textMarker } }] })],
      };
    case 4:
      return {
        ...header,
        choices: [choice({ content: textMarker }, pick(random, ['stop', 'length', 'error']))],
      };
    case 5:
      return { ...header, choices: [], usage: { prompt_tokens: 3, completion_tokens: 5 } };
    case 6:
      return { ...header, choices: [{ ...choice({ content: textMarker }), usage: { prompt_tokens: 1 } }] };
    case 7:
      return pick(random, [
        { error: { message: textMarker } },
        { object: 'error', message: 'x' },
        { error: 'busy' },
      ]);
    case 8:
      return { ...header, note: { content: textMarker }, choices: [choice({ content: 'fixed' })] };
    case 9:
      return { ...header, choices: [choice({ content: textMarker }), choice({ content: 'second' })] };
    case 10:
      return pick(random, [
        { choices: 'text' },
        { choices: [{ delta: textMarker }] },
        { choices: [{ delta: { content: 7 } }] },
      ]);
    case 11:
      // An empty first reasoning field gives the word to the next one.
      return { ...header, choices: [choice({ reasoning_content: textMarker, reasoning: 'fallback' })] };
    case 12:
      return {
        ...header,
        choices: [choice({ reasoning_content: null, reasoning: textMarker, content: '' })],
      };
    case 13:
      return { ...header, choices: [choice({ reasoning_content: '', reasoning_text: textMarker })] };
    default:
      return { ...header, system_fingerprint: 'fp', choices: [choice({ content: textMarker })], usage: null };
  }
}

/** Hand-written chunks that put `"content":"` where the slot search could be fooled by it. */
const misleadingTemplates = [
  '{"id":"a\\"content\\":\\"b","choices":[{"delta":{"content":TEXT}}]}',
  '{"x\\"content":"v","choices":[{"delta":{"content":TEXT}}]}',
  '{"\\"content":"v","choices":[{"delta":{"content":TEXT}}]}',
  '{"choices":[{"delta":{"content":"x","x":"hello","content":TEXT}}]}',
  '{"choices":[{"delta":{"content":TEXT,"x":"hello","content":"x"}}]}',
  '{"choices":[{"delta":{"content":"x","content":TEXT}}]}',
  '{"content":TEXT,"choices":[{"delta":{"content":TEXT}}]}',
  '{"choices":[{"delta":{"content":TEXT}}],"content":TEXT}',
  '{"choices":[{"delta":{"content":TEXT}}],"usage":{"content":TEXT}}',
  '{"choices":[{"delta":{TEXT:"v","content":"w"}}]}',
  '{"choices":[{"delta":{"content":TEXT}},{"delta":{"content":TEXT}}]}',
  '{"choices":[{"delta":{"content":TEXT}}]}  ',
  ' {"choices":[{"delta":{"content" :TEXT}}]}',
] as const;

/** What a broken proxy or a cut frame does to a line: the decoder must read it exactly as a full parse would. */
function damaged(random: Random, line: string): string {
  const at = Math.floor(random() * (line.length + 1));
  const insert = pick(random, ['"', '\\', '\n', '\u0001', '"}', '\\u12', 'x', ' ']);
  return pick(random, [
    line.slice(0, at) + insert + line.slice(at),
    line.slice(0, at),
    line.slice(0, at) + line.slice(at + 1),
    `${line}x`,
  ]);
}

/** One generated stream: runs of chunks that share an envelope, with the odd damaged or foreign message. */
function randomStream(seed: number): SseMessage[] {
  const random = seededRandom(seed);
  const messages: SseMessage[] = [];
  let id = 'chatcmpl-1';
  const runs = 1 + Math.floor(random() * 6);
  for (let run = 0; run < runs; run += 1) {
    if (random() < 0.3) id = pick(random, ['chatcmpl-1', 'chatcmpl-2', 'x"content":"']);
    const style = randomStyle(random);
    const template = random() < 0.25 ? pick(random, misleadingTemplates) : undefined;
    const envelope = randomEnvelope(random, id);
    const length = 1 + Math.floor(random() * 8);
    for (let index = 0; index < length; index += 1) {
      const text = randomText(random);
      let data =
        template === undefined
          ? write(random, style, envelope, text)
          : template.replaceAll('TEXT', () => jsonString(random, text, 0.1));
      const roll = random();
      if (roll < 0.1) data = damaged(random, data);
      else if (roll < 0.12) data = pick(random, ['[DONE]', 'not json', '', '42', 'null']);
      messages.push(
        sseMessage(random() < 0.03 ? 'error' : pick(random, ['message', 'message', 'delta']), data),
      );
    }
  }
  if (random() < 0.8) messages.push(sseMessage('message', '[DONE]'));
  return messages;
}

/** Learning from the first chunk on, unlike the product (defaultChunksBeforeLearning), to test it on short streams. */
function decodeAll(
  messages: SseMessage[],
  reuseDeltaShapes: boolean,
  chunksBeforeLearning = 0,
): StreamEvent[] {
  const decoder = createOpenAiDecoder({ reuseDeltaShapes, chunksBeforeLearning });
  const events: StreamEvent[] = [];
  for (const message of messages) events.push(...decoder.decode(message));
  events.push(...decoder.finish());
  return plainEvents(events);
}

describe('OpenAI decoder: reused envelopes', () => {
  test('gives exactly the events of a full parse on 3,000 generated streams', () => {
    for (let seed = 1; seed <= 3000; seed += 1) {
      const messages = randomStream(seed);
      // Learning from the first chunk, or after a few whole parses (as the product does after more).
      const fast = decodeAll(messages, true, seed % 4);
      const full = decodeAll(messages, false);
      if (!Bun.deepEquals(fast, full, true)) {
        // The seed and the stream, to replay the failure.
        expect({ seed, messages, events: fast }).toEqual({ seed, messages, events: full });
      }
    }
  });

  test('n > 1: only choice 0 is the answer, whether each choice has chunks of its own or they share one', () => {
    const choice = (index: number, delta: object, finish: string | null = null) => ({
      index,
      delta,
      finish_reason: finish,
    });
    const chunk = (...choices: object[]) =>
      sseMessage('message', JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices }));
    const messages = [
      chunk(choice(0, { role: 'assistant', content: '' }), choice(1, { role: 'assistant', content: '' })),
      ...['Pa', 'r', 'is'].flatMap((text, step) => [
        chunk(choice(0, { content: text })),
        chunk(choice(1, { content: `Lyon${step}` })),
      ]),
      chunk(choice(1, { content: ' too' }), choice(0, { content: '.' })),
      chunk(choice(1, {}, 'length')),
      chunk(choice(0, {}, 'stop')),
      sseMessage('message', '[DONE]'),
    ];
    for (const [reuse, after] of [
      [false, 0],
      [true, 0],
      [true, 2],
    ] as const) {
      const events = decodeAll(messages, reuse, after);
      const text = events.flatMap((event) => (event.type === 'text-delta' ? [event.text] : [])).join('');
      expect(text).toBe('Paris.');
      expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'stop' });
    }
  });

  test('a stream whose only choice has index 1 is the answer (Qwen Code reads choices[0])', () => {
    const chunk = (delta: object, finish: string | null = null) =>
      sseMessage('message', JSON.stringify({ choices: [{ index: 1, delta, finish_reason: finish }] }));
    const messages = [
      chunk({ role: 'assistant', content: 'the' }),
      ...[' ans', 'wer', '.'].map((text) => chunk({ content: text })),
      chunk({}, 'stop'),
      sseMessage('message', '[DONE]'),
    ];
    for (const [reuse, after] of [
      [false, 0],
      [true, 0],
      [true, 1],
    ] as const) {
      const events = decodeAll(messages, reuse, after);
      const text = events.flatMap((event) => (event.type === 'text-delta' ? [event.text] : [])).join('');
      expect(text).toBe('the answer.');
      expect(events.at(-1)).toEqual({ type: 'done', finishReason: 'stop' });
    }
  });

  test('a repeated envelope is parsed whole once; later chunks have only their text parsed', () => {
    const line = (text: string) =>
      `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}],"usage":null}`;
    const texts = ['Hel', 'lo "q"', '\\ back', '\n', 'é😀', ''];
    const parse = spyOn(JSON, 'parse');
    try {
      const events = decodeAll(
        texts.map((text) => sseMessage('message', line(text))),
        true,
      );
      const wholeChunks = parse.mock.calls.filter(([text]) => String(text).startsWith('{"id"'));
      // The first chunk, and the two probes that check where its text sits.
      expect(wholeChunks.length).toBe(3);
      expect(events.filter((event) => event.type === 'text-delta').map((event) => event.text)).toEqual(
        texts.filter((text) => text !== ''),
      );
    } finally {
      parse.mockRestore();
    }
  });

  test('the product learns only once a stream has shown defaultChunksBeforeLearning plain chunks', () => {
    const line = (index: number) =>
      `{"id":"c1","choices":[{"index":0,"delta":{"content":"t${index}"},"finish_reason":null}]}`;
    const wholeParses = (count: number) => {
      const parse = spyOn(JSON, 'parse');
      try {
        const decoder = createOpenAiDecoder();
        const texts: string[] = [];
        for (let index = 0; index < count; index += 1) {
          for (const event of decoder.decode(sseMessage('message', line(index)))) {
            if (event.type === 'text-delta') texts.push(event.text);
          }
        }
        expect(texts).toEqual(Array.from({ length: count }, (_, index) => `t${index}`));
        return parse.mock.calls.filter(([text]) => String(text).startsWith('{"id"')).length;
      } finally {
        parse.mockRestore();
      }
    };
    // A short answer: every chunk parsed whole, no probes.
    expect(wholeParses(defaultChunksBeforeLearning)).toBe(defaultChunksBeforeLearning);
    // The next chunk is learned (a whole parse and two probes); the five after it are read from their bytes.
    expect(wholeParses(defaultChunksBeforeLearning + 6)).toBe(defaultChunksBeforeLearning + 1 + 2);
  });

  test('a chunk that repeats the last finish reason is not a plain text chunk: another may come between', () => {
    const chunk = (text: string, reason: string) =>
      `{"choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":"${reason}"}]}`;
    const data = [
      chunk('a', 'stop'),
      chunk('b', 'stop'),
      '{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}',
      chunk('d', 'stop'),
      '[DONE]',
    ];
    const messages = data.map((item) => sseMessage('message', item));
    expect(decodeAll(messages, true)).toEqual(decodeAll(messages, false));
    expect(decodeAll(messages, true).at(-1)).toEqual({ type: 'done', finishReason: 'stop' });
  });

  test('an envelope that changes on every chunk stops being learned', () => {
    const parse = spyOn(JSON, 'parse');
    try {
      const messages = Array.from({ length: 20 }, (_, index) =>
        sseMessage('message', `{"obfuscation":"${index}","choices":[{"delta":{"content":"t${index}"}}]}`),
      );
      decodeAll(messages, true);
      // 20 whole parses, plus two probes for each of the first three shapes only.
      expect(parse.mock.calls.length).toBe(20 + 2 * 3);
    } finally {
      parse.mockRestore();
    }
  });
});

/** The string in a slot as the decoder reads it: from the text's UTF-8 bytes. */
function readSlot(slot: StringSlot, text: string): string | undefined {
  const pieces = stringBytesInSlot(byteSlotOf(slot), new TextEncoder().encode(text));
  return pieces === undefined ? undefined : pieces.map((piece) => new TextDecoder().decode(piece)).join('');
}

describe('findStringSlot and stringBytesInSlot', () => {
  const contentOf = (value: unknown) =>
    (value as { choices?: { delta?: { content?: unknown } }[] } | undefined)?.choices?.[0]?.delta?.content;

  test('finds the text of a plain chunk, with or without spaces around the colon', () => {
    for (const text of [
      '{"choices":[{"delta":{"content":"ab"}}]}',
      '{"choices": [{"delta": {"content" : "ab"}}]}',
    ]) {
      const slot = findStringSlot(text, 'content', contentOf);
      expect(slot).toBeDefined();
      if (slot === undefined) continue;
      expect(readSlot(slot, text)).toBe('ab');
      expect(readSlot(slot, text.replace('"ab"', '"\\"x\\u00e9\\ud83d\\ude00\\/\\t"'))).toBe('"xé😀/\t');
    }
  });

  test('is not fooled by `"content":"` in other strings, keys or duplicate members', () => {
    const misleading = [
      '{"choices":[{"delta":{"content":"x","x":"hello","content":"hello"}}]}',
      '{"choices":[{"delta":{"content":"hello","content":"x"}}]}',
      '{"\\"content":"v","choices":[{"delta":{"content":"w"}}]}',
      '{"id":"\\"content\\":\\"","choices":[{"delta":{"content":"w"}}]}',
    ];
    for (const text of misleading) {
      const slot = findStringSlot(text, 'content', contentOf);
      expect(slot).toBeDefined();
      if (slot === undefined) continue;
      // Whatever body the slot holds, it must read what a full parse of the whole text reads.
      for (const body of ['x', 'y', 'hello', 'content', '\\"', 'é']) {
        const variant = `${slot.prefix}${body}${slot.suffix}`;
        expect(readSlot(slot, variant)).toBe(contentOf(JSON.parse(variant)) as string);
      }
    }
  });

  test('a body that is not a valid string body is refused, never misread', () => {
    const slot = findStringSlot('{"choices":[{"delta":{"content":"ab"}}]}', 'content', contentOf);
    expect(slot).toBeDefined();
    if (slot === undefined) return;
    for (const body of ['a"b', 'a\\', '\\x', '\\u12', '\\u12g4', '"},{"delta":{"content":"z', '\\\u0001']) {
      expect(readSlot(slot, `${slot.prefix}${body}${slot.suffix}`)).toBeUndefined();
    }
  });

  test('a raw control character is read as parseJson reads it; a lone surrogate or bad UTF-8 is left to it', () => {
    const slot = findStringSlot('{"choices":[{"delta":{"content":"ab"}}]}', 'content', contentOf);
    if (slot === undefined) throw new Error('no slot');
    expect(readSlot(slot, `${slot.prefix}a\tb\u0001${slot.suffix}`)).toBe('a\tb\u0001');
    for (const body of ['\\ud800', '\\udc00x', '\\ud800\\u0041']) {
      expect(readSlot(slot, `${slot.prefix}${body}${slot.suffix}`)).toBeUndefined();
    }
    const encoded = new TextEncoder().encode(`${slot.prefix}ab${slot.suffix}`);
    const invalid = Uint8Array.of(
      ...encoded.subarray(0, slot.prefix.length),
      0xff,
      ...encoded.subarray(-slot.suffix.length),
    );
    expect(stringBytesInSlot(byteSlotOf(slot), invalid)).toBeUndefined();
  });
});
