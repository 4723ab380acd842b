// The JSON renderers: assistant messages of one block type each, and the partial messages
// (--include-partial-messages) as Qwen Code's stream_event lines.
import { expect, test } from 'bun:test';
import { CliError } from '../../src/core/errors.ts';
import type { StreamEvent } from '../../src/core/events.ts';
import { createJsonRenderer, type JsonRendererOptions } from '../../src/render/json.ts';
import type { Renderer } from '../../src/render/renderer.ts';

type Line = {
  type: string;
  event?: {
    type: string;
    index?: number;
    delta?: unknown;
    content_block?: unknown;
    message?: { id: string };
  };
  message?: { id: string; content: unknown[]; stop_reason: string | null; usage: Record<string, number> };
  result?: string;
};

const usage = { inputTokens: 5, outputTokens: 7, totalTokens: 12 };

/** Renders a run whose attempt sends `events`; `steps` may act on the renderer in between (a retry). */
function render(
  mode: 'json' | 'stream-json',
  options: JsonRendererOptions,
  steps: (StreamEvent | ((renderer: Renderer) => void))[],
  failure?: CliError,
): Line[] {
  return parseOutput(mode, renderText(mode, options, steps, failure));
}

function parseOutput(mode: 'json' | 'stream-json', output: string): Line[] {
  if (mode === 'json') return JSON.parse(output) as Line[];
  return output
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line);
}

function renderText(
  mode: 'json' | 'stream-json',
  options: JsonRendererOptions,
  steps: (StreamEvent | ((renderer: Renderer) => void))[],
  failure?: CliError,
): string {
  let output = '';
  const renderer = createJsonRenderer(
    (chunk) => {
      output += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
    },
    mode,
    options,
  );
  renderer.start({ model: 'm', cwd: '/w', version: '0' });
  for (const step of steps) {
    if (typeof step === 'function') step(renderer);
    else renderer.event(step);
  }
  const outcome = { usage, durationMs: 1, apiDurationMs: 1 };
  if (failure) renderer.fail(failure, outcome);
  else renderer.finish(outcome);
  return output;
}

const kind = (line: Line) => (line.type === 'stream_event' ? line.event?.type : line.type);
const assistants = (lines: Line[]) => lines.filter((line) => line.type === 'assistant');

const reasoningThenText: StreamEvent[] = [
  { type: 'reasoning-delta', text: 'hmm' },
  { type: 'text-delta', text: 'Hel' },
  { type: 'text-delta', text: '' },
  { type: 'text-delta', text: 'lo' },
];

test('reasoning, text and tool calls are three assistant messages, in order, as in Qwen Code', () => {
  const lines = render('json', {}, [
    ...reasoningThenText,
    { type: 'tool-call', id: 'call_1', name: 'read_file', arguments: { path: 'a' } },
    { type: 'tool-call', id: 'call_2', name: 'ls', arguments: {} },
  ]);
  expect(lines.map(kind)).toEqual(['system', 'assistant', 'assistant', 'assistant', 'result']);
  const [thinking, text, tools] = assistants(lines);
  expect(thinking?.message?.content).toEqual([{ type: 'thinking', thinking: 'hmm' }]);
  expect(text?.message?.content).toEqual([{ type: 'text', text: 'Hello' }]);
  expect(tools?.message?.content).toEqual([
    { type: 'tool_use', id: 'call_1', name: 'read_file', input: { path: 'a' } },
    { type: 'tool_use', id: 'call_2', name: 'ls', input: {} },
  ]);
  // Qwen Code's stop_reason: tool_use for a message of tool calls, null otherwise; the usage on the last.
  expect(assistants(lines).map((line) => line.message?.stop_reason)).toEqual([null, null, 'tool_use']);
  expect(thinking?.message?.usage).toMatchObject({ input_tokens: 0, output_tokens: 0 });
  expect(tools?.message?.usage).toMatchObject({ input_tokens: 5, output_tokens: 7, total_tokens: 12 });
  expect(new Set(assistants(lines).map((line) => line.message?.id)).size).toBe(3);
  expect(lines.at(-1)?.result).toBe('Hello');
});

test('text split by reasoning (interleaved thinking) is two text messages; the result joins them', () => {
  const lines = render('json', {}, [
    { type: 'text-delta', text: 'One. ' },
    { type: 'reasoning-delta', text: 'and then?' },
    { type: 'text-delta', text: 'Two.' },
  ]);
  expect(assistants(lines).map((line) => line.message?.content)).toEqual([
    [{ type: 'text', text: 'One. ' }],
    [{ type: 'thinking', thinking: 'and then?' }],
    [{ type: 'text', text: 'Two.' }],
  ]);
  expect(lines.at(-1)?.result).toBe('One. Two.');
});

test('an empty answer has no assistant message, as in Qwen Code', () => {
  const lines = render('json', {}, [{ type: 'text-delta', text: '' }]);
  expect(lines.map(kind)).toEqual(['system', 'result']);
  expect(lines.at(-1)?.result).toBe('');
});

test('stream-json with partial messages: one message_start, each block opened, filled and closed', () => {
  const lines = render('stream-json', { partialMessages: true }, [
    ...reasoningThenText,
    { type: 'tool-call', id: 'call_1', name: 'read_file', arguments: { path: 'a' } },
  ]);
  expect(lines.map(kind)).toEqual([
    'system',
    'message_start',
    'content_block_start',
    'content_block_delta',
    'content_block_stop',
    'assistant',
    'content_block_start',
    'content_block_delta',
    'content_block_delta',
    'content_block_stop',
    'assistant',
    'content_block_start',
    'content_block_delta',
    'content_block_stop',
    'assistant',
    'message_stop',
    'result',
  ]);
  const events = lines.filter((line) => line.type === 'stream_event').map((line) => line.event);
  expect(events).toContainEqual({
    type: 'content_block_start',
    index: 0,
    content_block: { type: 'thinking', thinking: '' },
  });
  expect(events).toContainEqual({
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'thinking_delta', thinking: 'hmm' },
  });
  expect(
    events.filter((event) => event?.delta && (event.delta as { type: string }).type === 'text_delta'),
  ).toEqual([
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } },
  ]);
  expect(events).toContainEqual({
    type: 'content_block_start',
    index: 0,
    content_block: { type: 'tool_use', id: 'call_1', name: 'read_file', input: {} },
  });
  expect(events).toContainEqual({
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'input_json_delta', partial_json: '{"path":"a"}' },
  });
  // The stream's message is the turn's first assistant message.
  expect(lines[1]?.event?.message?.id).toBe(assistants(lines)[0]?.message?.id ?? '');
  expect(lines[1]).toMatchObject({ parent_tool_use_id: null, session_id: expect.any(String) });
});

test('a tool-only answer streams its tool call as partial events too', () => {
  const lines = render('stream-json', { partialMessages: true }, [
    { type: 'tool-call', id: 'call_9', name: 'ls', arguments: {} },
  ]);
  expect(lines.map(kind)).toEqual([
    'system',
    'message_start',
    'content_block_start',
    'content_block_delta',
    'content_block_stop',
    'assistant',
    'message_stop',
    'result',
  ]);
});

test('a retried attempt’s reasoning is dropped: only the answering attempt’s is in the messages', () => {
  const retried = [
    { type: 'reasoning-delta', text: 'first try' } as const,
    (renderer: Renderer) => renderer.discardAttempt(),
    ...reasoningThenText,
  ];
  const json = render('json', {}, retried);
  expect(assistants(json).map((line) => line.message?.content)).toEqual([
    [{ type: 'thinking', thinking: 'hmm' }],
    [{ type: 'text', text: 'Hello' }],
  ]);
  // Partial events already out stay out; the dropped block and message are closed, and the answering
  // attempt's message starts anew: its message_start names the message the assistant lines carry.
  const streamed = render('stream-json', { partialMessages: true }, retried);
  expect(streamed.map(kind).slice(0, 8)).toEqual([
    'system',
    'message_start',
    'content_block_start',
    'content_block_delta',
    'content_block_stop',
    'message_stop',
    'message_start',
    'content_block_start',
  ]);
  expect(streamed[6]?.event?.message?.id).toBe(assistants(streamed)[0]?.message?.id ?? '');
});

test('a failure after some text writes the answer so far, then closes the turn, then the error result', () => {
  const lines = render(
    'stream-json',
    { partialMessages: true },
    reasoningThenText,
    new CliError('api', 'cut'),
  );
  expect(lines.map(kind).slice(-4)).toEqual(['content_block_stop', 'assistant', 'message_stop', 'result']);
  expect(lines.at(-1)).toMatchObject({ is_error: true, result: 'Hello', error: { message: 'cut' } });
});

test('no stream events without the flag, nor in -o json', () => {
  expect(render('stream-json', {}, reasoningThenText).map(kind)).toEqual([
    'system',
    'assistant',
    'assistant',
    'result',
  ]);
  expect(render('json', { partialMessages: true }, reasoningThenText).map(kind)).toEqual([
    'system',
    'assistant',
    'assistant',
    'result',
  ]);
});

test('lone surrogates from the server in tool calls and error messages become U+FFFD: jq reads every line', () => {
  const steps: StreamEvent[] = [
    { type: 'tool-call', id: 'call_\ud800', name: 'read\udc00', arguments: { ['p\ud800']: ['x\udfff', 1] } },
  ];
  for (const mode of ['json', 'stream-json'] as const) {
    const output = renderText(
      mode,
      { partialMessages: true },
      steps,
      new CliError('api', 'bad \ud800 thing'),
    );
    expect(output).not.toMatch(/\\ud[89a-f]/i);
    const lines = parseOutput(mode, output);
    expect(assistants(lines)[0]?.message?.content).toEqual([
      { type: 'tool_use', id: 'call_\ufffd', name: 'read\ufffd', input: { ['p\ufffd']: ['x\ufffd', 1] } },
    ]);
    expect(lines.at(-1)).toMatchObject({ error: { message: 'bad \ufffd thing' } });
  }
});
