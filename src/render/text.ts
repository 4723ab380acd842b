import { concatBytes } from '../core/bytes.ts';
import { isEmptyDelta } from '../core/events.ts';
import type { Renderer, Write } from './renderer.ts';
import { createControlFilter } from './terminal-safe.ts';

const encoder = new TextEncoder();
const lineFeed = 10;

export interface TextRendererOptions {
  /** stdout is a terminal: escape sequences and controls in the answer are removed (terminal-safe.ts). */
  terminal?: boolean;
}

/**
 * Only the answer, streamed as it arrives; reasoning and tool calls never reach stdout here.
 * Deltas decoded from one network read arrive in the same tick; they are written together (one write per
 * read instead of one per delta: a long answer otherwise spends most of its time in stdout writes). A delta
 * that came as UTF-8 bytes is written as those bytes, unless stdout is a terminal.
 */
export function createTextRenderer(write: Write, options: TextRendererOptions = {}): Renderer {
  const filter = options.terminal === true ? createControlFilter() : undefined;
  let endsWithNewline = true;
  let wroteText = false;
  const pending: Uint8Array[] = [];
  let pendingBytes = 0;
  // Reused from one write to the next (writes are synchronous): one buffer, not one per network read.
  let joined = new Uint8Array(0);
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    if (pending.length === 0) return;
    if (pending.length > 1 && joined.length < pendingBytes) {
      joined = new Uint8Array(Math.max(pendingBytes, joined.length * 2));
    }
    write(concatBytes(pending, joined));
    pending.length = 0;
    pendingBytes = 0;
  };
  const closeLine = () => {
    flush();
    if (wroteText && !endsWithNewline) write('\n');
  };
  return {
    start() {},
    // Text mode prints the answer only, whichever model gives it.
    switchModel() {},
    // Reasoning, all a failed attempt can have sent before a retry, never reaches stdout here.
    discardAttempt() {},
    event(event) {
      if (event.type !== 'text-delta' || isEmptyDelta(event)) return;
      let pieces: readonly Uint8Array[];
      if (filter === undefined) pieces = event.utf8 ?? [encoder.encode(event.text)];
      else {
        const printable = filter.push(event.text);
        if (printable === '') return;
        // Nothing taken out: the bytes that came are the bytes to write.
        pieces =
          printable === event.text && event.utf8 !== undefined ? event.utf8 : [encoder.encode(printable)];
      }
      for (const piece of pieces) {
        pending.push(piece);
        pendingBytes += piece.length;
      }
      const last = pending[pending.length - 1] as Uint8Array;
      endsWithNewline = last[last.length - 1] === lineFeed;
      wroteText = true;
      if (!flushQueued) {
        flushQueued = true;
        queueMicrotask(flush);
      }
    },
    finish: closeLine,
    fail: closeLine,
  };
}
