import type { Renderer, Write } from './renderer.ts';

/**
 * Only the answer, streamed as it arrives; reasoning and tool calls never reach stdout here.
 * Deltas decoded from one network read arrive in the same tick; they are written together (one write per
 * read instead of one per delta: a long answer otherwise spends most of its time in stdout writes).
 */
export function createTextRenderer(write: Write): Renderer {
  let endsWithNewline = true;
  let wroteText = false;
  let pending = '';
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    write(text);
  };
  const closeLine = () => {
    flush();
    if (wroteText && !endsWithNewline) write('\n');
  };
  return {
    start() {},
    event(event) {
      if (event.type !== 'text-delta' || event.text === '') return;
      pending += event.text;
      wroteText = true;
      endsWithNewline = event.text.endsWith('\n');
      if (!flushQueued) {
        flushQueued = true;
        queueMicrotask(flush);
      }
    },
    finish: closeLine,
    fail: closeLine,
  };
}
