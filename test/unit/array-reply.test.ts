import { expect, test } from 'bun:test';
import { createArrayReply } from '../../src/cli/array-reply.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

test('elements before the first answer are held, then delivered with it; later ones as they complete', () => {
  const reply = createArrayReply((element) => element.includes('candidates'));
  expect(reply.push(bytes('[{"usageMetadata":{}},'))).toEqual([]);
  expect(reply.isStream()).toBe(false);
  expect(reply.push(bytes('{"candidates":[1]},{"cand'))).toEqual([
    '{"usageMetadata":{}}',
    '{"candidates":[1]}',
  ]);
  expect(reply.isStream()).toBe(true);
  expect(reply.push(bytes('idates":[2]},{"other":3}]'))).toEqual(['{"candidates":[2]}', '{"other":3}']);
});

test('an array with no answer in it delivers nothing: the caller judges it whole', () => {
  const reply = createArrayReply(() => false);
  expect(reply.push(bytes('[{"a":1},{"b":2}]'))).toEqual([]);
  expect(reply.isStream()).toBe(false);
});
