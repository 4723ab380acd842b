import type { Renderer, Write } from './renderer.ts';

/** Only the answer, streamed as it arrives; reasoning and tool calls never reach stdout here. */
export function createTextRenderer(write: Write): Renderer {
  let endsWithNewline = true;
  let wroteText = false;
  const closeLine = () => {
    if (wroteText && !endsWithNewline) write('\n');
  };
  return {
    start() {},
    event(event) {
      if (event.type !== 'text-delta' || event.text === '') return;
      write(event.text);
      wroteText = true;
      endsWithNewline = event.text.endsWith('\n');
    },
    finish: closeLine,
    fail: closeLine,
  };
}
