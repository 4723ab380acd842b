// The keys of the interactive session on their way from the terminal: bracketed paste turned into
// placeholders, and a small router that gives them to readline while a prompt waits, keeps them while an
// answer streams (Ctrl+C excepted) as the messages they will be, passes them to a @clack/prompts dialog
// through dialog-terminal.ts, suspends on Ctrl+Z, and gives the terminal back however the process ends.
import process from 'node:process';
import { PassThrough, type Readable, Writable } from 'node:stream';
import {
  createDialogTerminal,
  type DialogTerminal,
  type PromptStreams,
  showCursor,
} from './dialog-terminal.ts';

/** A terminal's input: process.stdin, or a stream that pretends to be one in tests. */
export type TerminalInput = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };

const pasteStart = '\x1b[200~';
const bracketedPasteOn = '\x1b[?2004h';
const bracketedPasteOff = '\x1b[?2004l';
const pasteEnd = '\x1b[201~';
export const placeholderPattern = /\[Pasted text #(\d+) \+\d+ lines?\]/g;

export interface PasteFilter {
  /** Keys in, keys for readline out: a multi-line paste becomes one placeholder readline can edit. */
  push(chunk: string): string;
  /** The submitted line with each placeholder replaced by its pasted text. */
  expand(line: string): string;
}

/**
 * Bracketed paste (enabled with `\x1b[?2004h`): the terminal wraps pasted text in `\x1b[200~` and
 * `\x1b[201~`. Readline would submit a pasted block line by line; here it becomes one placeholder that
 * the whole block replaces on Enter, so the block is one message.
 */
export function createPasteFilter(): PasteFilter {
  const pastes: string[] = [];
  let pasting = false;
  let pasted = '';
  let carry = '';
  const finishPaste = (): string => {
    const textPasted = pasted.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
    pasted = '';
    if (!textPasted.includes('\n')) return textPasted;
    pastes.push(textPasted);
    const lines = textPasted.split('\n').length;
    return `[Pasted text #${pastes.length} +${lines} lines]`;
  };
  return {
    push(chunk) {
      let rest = carry + chunk;
      carry = '';
      let out = '';
      while (rest !== '') {
        const marker = pasting ? pasteEnd : pasteStart;
        const index = rest.indexOf(marker);
        if (index < 0) {
          // A marker split across reads: keep its beginning for the next chunk.
          const keep = partialMarkerLength(rest, marker, pasting ? 1 : 2);
          const usable = rest.slice(0, rest.length - keep);
          carry = rest.slice(rest.length - keep);
          if (pasting) pasted += usable;
          else out += usable;
          break;
        }
        if (pasting) {
          pasted += rest.slice(0, index);
          out += finishPaste();
        } else {
          out += rest.slice(0, index);
        }
        pasting = !pasting;
        rest = rest.slice(index + marker.length);
      }
      return out;
    },
    expand(line) {
      return line.replace(placeholderPattern, (whole, number: string) => pastes[Number(number) - 1] ?? whole);
    },
  };
}

/**
 * How many characters at the end of `text` could begin `marker`. Outside a paste a lone ESC is the
 * Escape key and must not wait for the next key, so only `ESC [` and longer are held back.
 */
function partialMarkerLength(text: string, marker: string, shortest: number): number {
  for (let length = Math.min(marker.length - 1, text.length); length >= shortest; length -= 1) {
    if (text.endsWith(marker.slice(0, length))) return length;
  }
  return 0;
}

/**
 * Keys this close together arrived in one burst: a paste without bracketed paste, or keys a program sends.
 * Nobody types Enter and another key this fast.
 */
export const burstGapMs = 10;

/** Keys typed while an answer streams, kept as the messages they will be. */
export interface TypeAhead {
  add(keys: string, at: number): void;
  /** The keys of the next message: a line typed on its own, a burst of lines, or an unfinished line. */
  next(): string | undefined;
}

/**
 * A line ended by Enter is a message of its own unless more keys came within `gapMs`: then they belong to
 * the same burst, as at an idle prompt. A bracketed paste is never cut.
 */
export function createTypeAhead(gapMs = burstGapMs): TypeAhead {
  const messages: string[] = [];
  let lastAt = Number.NEGATIVE_INFINITY;
  return {
    add(keys, at) {
      const last = messages.at(-1);
      const ended =
        last !== undefined &&
        /[\r\n]$/.test(last) &&
        last.lastIndexOf(pasteStart) <= last.lastIndexOf(pasteEnd) &&
        at - lastAt > gapMs;
      if (last === undefined || ended) messages.push(keys);
      else messages[messages.length - 1] = last + keys;
      lastAt = at;
    },
    next: () => messages.shift(),
  };
}

export type InputMode = 'line' | 'busy' | 'dialog';

export interface KeyRouter {
  /** What readline reads. */
  lines: PassThrough & { isTTY: boolean; setRawMode: (mode: boolean) => void };
  /**
   * What readline writes to: the terminal, whose resizes reach readline only while a prompt waits. Its
   * redraw on a resize would clear the screen below the prompt it last drew, through an answer.
   */
  screen: Writable & { readonly columns: number | undefined };
  paste: PasteFilter;
  /** `line` hands readline the next message typed while busy: call it once a prompt listens. */
  setMode(mode: InputMode): void;
  /** Milliseconds since keys last arrived (or were handed over from the type-ahead). */
  quietMs(): number;
  /** Ctrl+C while busy. */
  onInterrupt?: () => void;
  /** SIGTERM or SIGHUP ends the session: what the session drew that should not stay (the spinner) goes first. */
  onEnd?: () => void;
  /** Gives the keys to a @clack/prompts dialog drawn on the streams it is handed, then takes them back. */
  dialog<T>(task: (streams: PromptStreams) => Promise<T>): Promise<T>;
  close(): void;
}

export function createKeyRouter(
  input: TerminalInput,
  output: Writable & { isTTY?: boolean; columns?: number },
): KeyRouter {
  const setRaw = (mode: boolean) => {
    if (input.isTTY === true) input.setRawMode?.(mode);
  };
  const lines = Object.assign(new PassThrough(), { isTTY: true, setRawMode: setRaw });
  const screen = Object.defineProperty(
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        // At once, so that readline's writes stay in order with the session's own.
        output.write(chunk);
        done();
      },
    }),
    'columns',
    { get: () => output.columns },
  ) as KeyRouter['screen'];
  // The dialog being shown, if any.
  let dialog: DialogTerminal | undefined;
  const onResize = () => {
    if (mode === 'line') screen.emit('resize');
    dialog?.resize();
  };
  output.on('resize', onResize);
  const paste = createPasteFilter();
  const bracketedPaste = (on: boolean) => {
    if (output.isTTY === true) output.write(on ? bracketedPasteOn : bracketedPasteOff);
  };
  const takeTerminal = () => {
    setRaw(true);
    bracketedPaste(true);
  };
  const releaseTerminal = () => {
    // The cursor too: a @clack/prompts dialog hides it while it asks.
    if (output.isTTY === true) output.write(bracketedPasteOff + showCursor);
    setRaw(false);
  };
  // Ctrl+Z, which raw mode turns into a key: stopped as the shell would stop us, with the terminal as the
  // shell expects it; `fg` (SIGCONT) takes it back and has readline (or the dialog) redraw its prompt with
  // what was typed.
  const suspend = () => {
    if (process.platform === 'win32') return;
    releaseTerminal();
    process.once('SIGCONT', () => {
      if (dialog === undefined) {
        takeTerminal();
        onResize();
      } else {
        setRaw(true);
        dialog.redraw();
      }
    });
    process.kill(process.pid, 'SIGTSTP');
  };
  // A terminal left in raw mode shows no echo and ignores Ctrl+C; `exit` also runs after an uncaught error.
  const onExit = () => releaseTerminal();
  const onEndSignal = (signal: (typeof endSignals)[number]) => {
    try {
      router.onEnd?.();
      releaseTerminal();
      // The prompt or a partial answer is on the cursor's line: the shell's prompt starts a line of its own.
      if (signal === 'SIGTERM' && output.isTTY === true) output.write('\n');
    } catch {
      // The terminal is gone (SIGHUP after its window closed): there is nothing left to restore.
    }
    // Exit, with the status a shell gives a process that signal ended (128 + its number). Re-raising the
    // signal does not end the process: Bun keeps its handler once the listeners are removed, so the session
    // lived on, spinning on a closed terminal.
    process.exit(signal === 'SIGHUP' ? 129 : 143);
  };
  const endSignals = ['SIGTERM', 'SIGHUP'] as const;
  const removeProcessListeners = () => {
    process.off('exit', onExit);
    for (const signal of endSignals) process.off(signal, onEndSignal);
  };
  process.on('exit', onExit);
  for (const signal of endSignals) process.on(signal, onEndSignal);
  let mode: InputMode = 'busy';
  let keysAt = Number.NEGATIVE_INFINITY;
  // Keys typed while an answer streams: each message in turn goes to the next prompt, as a shell does
  // with type-ahead. Given to readline all at once, every line after the first would have no listener.
  const typeAhead = createTypeAhead();
  const forward = (keys: string) => {
    const forwarded = paste.push(keys);
    if (forwarded !== '') lines.write(forwarded);
  };
  const router: KeyRouter = {
    lines,
    screen,
    paste,
    setMode(next) {
      mode = next;
      const keys = mode === 'line' ? typeAhead.next() : undefined;
      if (keys !== undefined) {
        keysAt = performance.now();
        forward(keys);
      }
    },
    quietMs: () => performance.now() - keysAt,
    async dialog(task) {
      const previous = mode;
      const shown = createDialogTerminal(output);
      mode = 'dialog';
      dialog = shown;
      // clack reads keys one by one: a paste is typed, not wrapped in markers.
      bracketedPaste(false);
      try {
        return await task(shown.streams);
      } finally {
        dialog = undefined;
        takeTerminal();
        mode = previous;
      }
    },
    close() {
      input.off('data', onData);
      output.off('resize', onResize);
      removeProcessListeners();
      releaseTerminal();
      input.pause();
    },
  };
  const onData = (chunk: Buffer | string) => {
    const received = chunk.toString();
    keysAt = performance.now();
    // Readline's own Ctrl+Z leaves its input paused after `fg`, and while busy it would wait in the queue.
    const keys = received.replaceAll('\x1a', '');
    if (mode === 'line') {
      forward(keys);
    } else if (mode === 'dialog') {
      dialog?.push(keys);
    } else {
      // Ctrl+C stops the answer; what was typed around it is still the user's next message. A lone Escape
      // (a read of its own: keys such as arrows come with their sequence) is dropped: replayed later in
      // front of the next key, it would make that key Alt+key and eat it.
      const typed = keys === '\x1b' ? '' : keys.replaceAll('\x03', '');
      if (typed !== '') typeAhead.add(typed, keysAt);
      if (typed.length < keys.length) router.onInterrupt?.();
    }
    if (keys.length < received.length) suspend();
  };
  input.on('data', onData);
  takeTerminal();
  input.resume();
  return router;
}
