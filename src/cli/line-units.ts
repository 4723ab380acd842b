// The prompt's line edited by whole units: a paste placeholder (`[Pasted text #1 +4 lines]`) and a grapheme
// cluster (👨‍👩‍👧, or e + U+0301). Readline edits code points; each key's edit is checked afterwards and
// widened to whole units, so a placeholder is never left half there (it would be sent as literal text and
// its paste lost) and Backspace leaves no stray zero-width joiner.
import type { EventEmitter } from 'node:events';
import type { Interface } from 'node:readline';
import { placeholderPattern } from './key-router.ts';

export interface LineState {
  line: string;
  cursor: number;
}

export interface Span {
  start: number;
  end: number;
}

const placeholderAt = new RegExp(placeholderPattern.source, 'y');
const graphemes =
  typeof Intl.Segmenter === 'function'
    ? new Intl.Segmenter(undefined, { granularity: 'grapheme' })
    : undefined;

/** The placeholder or grapheme cluster that `index` falls strictly inside, if any. */
export function unitAround(line: string, index: number): Span | undefined {
  if (index <= 0 || index >= line.length) return undefined;
  const open = line.lastIndexOf('[Pasted text #', index - 1);
  if (open >= 0) {
    placeholderAt.lastIndex = open;
    const end = open + (placeholderAt.exec(line)?.[0].length ?? 0);
    if (end > index) return { start: open, end };
  }
  const cluster = graphemes?.segment(line).containing(index);
  if (cluster === undefined || cluster.index === index) return undefined;
  return { start: cluster.index, end: cluster.index + cluster.segment.length };
}

/**
 * The line as it should be after one key took it from `before` to `after`, or undefined when the edit left
 * units whole. A deletion that cuts into a unit takes all of it; text typed inside one goes after it; a
 * cursor that stops inside one moves on to its edge. Any other change (history, transposing) is left alone.
 */
export function keepUnitsWhole(before: LineState, after: LineState): LineState | undefined {
  const grown = after.line.length - before.line.length;
  if (grown < 0) {
    // Every deleting key leaves the cursor where the deleted text began.
    const start = after.cursor;
    const end = start - grown;
    if (before.line.slice(0, start) + before.line.slice(end) !== after.line) return undefined;
    const from = unitAround(before.line, start)?.start ?? start;
    const to = unitAround(before.line, end)?.end ?? end;
    if (from === start && to === end) return undefined;
    return { line: before.line.slice(0, from) + before.line.slice(to), cursor: from };
  }
  if (grown > 0) {
    // Typing at the end, the usual case, cannot fall inside a unit.
    if (before.cursor === before.line.length) return undefined;
    const start = after.cursor - grown;
    if (after.line.slice(0, start) + after.line.slice(after.cursor) !== before.line) return undefined;
    const unit = unitAround(before.line, start);
    if (unit === undefined) return undefined;
    const typed = after.line.slice(start, after.cursor);
    return {
      line: before.line.slice(0, unit.end) + typed + before.line.slice(unit.end),
      cursor: unit.end + typed.length,
    };
  }
  if (after.line !== before.line || after.cursor === before.cursor) return undefined;
  const unit = unitAround(after.line, after.cursor);
  if (unit === undefined) return undefined;
  return { line: after.line, cursor: after.cursor < before.cursor ? unit.start : unit.end };
}

/**
 * Where Up (-1) or Down (+1) takes the cursor in a line of several lines (a recalled or continued message):
 * the same column of the line above or below, or its end when that line is shorter. Undefined on the first
 * line going up or the last going down, where the key walks the history instead.
 */
export function verticalMove(state: LineState, direction: -1 | 1): LineState | undefined {
  const lines = state.line.split('\n');
  let start = 0;
  let row = 0;
  while (row < lines.length - 1 && state.cursor > start + (lines[row] as string).length) {
    start += (lines[row] as string).length + 1;
    row += 1;
  }
  const target = row + direction;
  if (target < 0 || target >= lines.length) return undefined;
  const column = state.cursor - start;
  const targetStart =
    direction === 1
      ? start + (lines[row] as string).length + 1
      : start - (lines[target] as string).length - 1;
  return { line: state.line, cursor: targetStart + Math.min(column, (lines[target] as string).length) };
}

/**
 * Checks every key readline reads from `keys` (its input) and redraws the line when it had to widen an edit,
 * or when readline drew an edit wrong (see below).
 */
export function editByUnits(rl: Interface, keys: EventEmitter): void {
  // Read-only in @types/node; plain properties in Node's, Bun's and Deno's readline, which redraw from them.
  // `prevRows`: how many rows above the cursor the line starts, where the next redraw goes up to.
  const editable = rl as unknown as LineState & { isCompletionEnabled?: boolean; prevRows?: number };
  let previous: LineState = { line: rl.line, cursor: rl.cursor };
  // Readline writes a character that is not the last of its read as if typed at the end of the line (a
  // shortcut for pastes): typed inside the line, it overwrites what follows on the screen, not in the line.
  // The line is redrawn once the read is done, or before an Enter in it, so the line sent is the one shown.
  let misdrawn = false;
  const redraw = () => {
    misdrawn = false;
    rl.prompt(true);
  };
  keys.prependListener('keypress', (_text: string | undefined, key: { name?: string } | undefined) => {
    if (misdrawn && (key?.name === 'return' || key?.name === 'enter')) redraw();
  });
  // Registered after readline's own listener, so it sees each key's result.
  keys.on('keypress', (_text: string | undefined, key: { name?: string } | undefined) => {
    let current = { line: rl.line, cursor: rl.cursor };
    // Readline's own move between the lines of a multi-line entry counts the first line's columns as if the
    // prompt were its two-character "| ": with a longer prompt, Down from the first line moved the cursor
    // left within it, and then nowhere (stuck before the history's newer entries). The move is made here.
    const direction = key?.name === 'down' ? 1 : key?.name === 'up' ? -1 : undefined;
    const moved =
      direction !== undefined && current.line === previous.line
        ? verticalMove(previous, direction)
        : undefined;
    if (moved !== undefined && moved.cursor !== current.cursor) {
      editable.cursor = moved.cursor;
      current = moved;
      redraw();
    }
    // A burst's characters are written as they come, without the redraw that counts the rows a wrapped
    // line takes: the next redraw (a Backspace after a long paste) would start a row too low, and leave
    // the line's first row on the screen twice. The terminal's cursor is where the line's cursor is.
    if (editable.isCompletionEnabled === false && current.line !== previous.line) {
      editable.prevRows = rl.getCursorPos().rows;
    }
    const whole = keepUnitsWhole(previous, current);
    if (whole !== undefined) {
      editable.line = whole.line;
      editable.cursor = whole.cursor;
      redraw();
    } else if (
      editable.isCompletionEnabled === false &&
      current.line.length > previous.line.length &&
      previous.cursor < previous.line.length &&
      !misdrawn
    ) {
      misdrawn = true;
      queueMicrotask(() => {
        if (misdrawn) redraw();
      });
    }
    previous = { line: rl.line, cursor: rl.cursor };
  });
}
