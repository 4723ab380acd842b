// The JSON renderers' partial messages (--include-partial-messages): Qwen Code's stream_event lines.
import { expect, test } from 'bun:test';
import { CliError } from '../../src/core/errors.ts';
import { createJsonRenderer, type JsonRendererOptions } from '../../src/render/json.ts';

type Line = {
  type: string;
  event?: { type: string; index?: number; delta?: unknown };
  message?: { id: string };
};

function render(mode: 'json' | 'stream-json', options: JsonRendererOptions, failure?: CliError): Line[] {
  let output = '';
  const renderer = createJsonRenderer(
    (chunk) => {
      output += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
    },
    mode,
    options,
  );
  renderer.start({ model: 'm', cwd: '/w', version: '0' });
  renderer.event({ type: 'reasoning-delta', text: 'hmm' });
  renderer.event({ type: 'text-delta', text: 'Hel' });
  renderer.event({ type: 'text-delta', text: '' });
  renderer.event({ type: 'text-delta', text: 'lo' });
  const outcome = { text: 'Hello', durationMs: 1, apiDurationMs: 1 };
  if (failure) renderer.fail(failure, outcome);
  else renderer.finish(outcome);
  if (mode === 'json') return JSON.parse(output) as Line[];
  return output
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line);
}

const kind = (line: Line) => (line.type === 'stream_event' ? line.event?.type : line.type);

test('stream-json with partial messages: the message and each piece of text as stream events', () => {
  const lines = render('stream-json', { partialMessages: true });
  expect(lines.map(kind)).toEqual([
    'system',
    'message_start',
    'content_block_start',
    'content_block_delta',
    'content_block_delta',
    'content_block_stop',
    'message_stop',
    'assistant',
    'result',
  ]);
  expect(
    lines.filter((line) => line.event?.type === 'content_block_delta').map((line) => line.event),
  ).toEqual([
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } },
  ]);
  // The stream's message is the assistant message.
  const started = lines[1]?.event as unknown as { message: { id: string } };
  expect(started.message.id).toBe(lines.at(-2)?.message?.id ?? '');
  expect(lines[1]).toMatchObject({ parent_tool_use_id: null, session_id: expect.any(String) });
});

test('a failure after some text closes the partial message before the error result', () => {
  const lines = render('stream-json', { partialMessages: true }, new CliError('api', 'cut'));
  expect(lines.map(kind).slice(-4)).toEqual(['content_block_stop', 'message_stop', 'assistant', 'result']);
});

test('no stream events without the flag, nor in -o json', () => {
  expect(render('stream-json', {}).map(kind)).toEqual(['system', 'assistant', 'result']);
  expect(render('json', { partialMessages: true }).map(kind)).toEqual(['system', 'assistant', 'result']);
});
