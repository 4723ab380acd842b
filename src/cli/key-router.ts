// The keys of the interactive session on their way from the terminal: bracketed paste turned into
// placeholders, and a small router that gives them to readline while a prompt waits, keeps them while an
// answer streams (Ctrl+C excepted), and lets go of the terminal while a @clack/prompts dialog owns it.
import { PassThrough, type Readable, type Writable } from 'node:stream';

/** A terminal's input: process.stdin, or a stream that pretends to be one in tests. */
export type TerminalInput = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };

const pasteStart = '\x1b[200~';
const pasteEnd = '\x1b[201~';
const placeholderPattern = /\[Pasted text #(\d+) \+\d+ lines?\]/g;

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

export type InputMode = 'line' | 'busy' | 'detached';

export interface KeyRouter {
  /** What readline reads. */
  lines: PassThrough & { isTTY: boolean; setRawMode: (mode: boolean) => void };
  paste: PasteFilter;
  /** `line` hands readline the keys typed while busy: call it once a prompt listens. */
  setMode(mode: InputMode): void;
  /** Ctrl+C while busy. */
  onInterrupt?: () => void;
  /** Hands the real terminal to a @clack/prompts dialog, then takes it back. */
  detachedDuring<T>(task: () => Promise<T>): Promise<T>;
  close(): void;
}

export function createKeyRouter(input: TerminalInput, output: Writable & { isTTY?: boolean }): KeyRouter {
  const setRaw = (mode: boolean) => {
    if (input.isTTY === true) input.setRawMode?.(mode);
  };
  const lines = Object.assign(new PassThrough(), { isTTY: true, setRawMode: setRaw });
  const paste = createPasteFilter();
  const bracketedPaste = (on: boolean) => {
    if (output.isTTY === true) output.write(on ? '\x1b[?2004h' : '\x1b[?2004l');
  };
  let mode: InputMode = 'busy';
  // Keys typed while an answer streams: given to readline afterwards, as a shell does with type-ahead.
  let typedAhead = '';
  const forward = (keys: string) => {
    const forwarded = paste.push(keys);
    if (forwarded !== '') lines.write(forwarded);
  };
  const router: KeyRouter = {
    lines,
    paste,
    setMode(next) {
      mode = next;
      if (mode === 'line' && typedAhead !== '') {
        const keys = typedAhead;
        typedAhead = '';
        forward(keys);
      }
    },
    async detachedDuring(task) {
      const previous = mode;
      mode = 'detached';
      input.off('data', onData);
      bracketedPaste(false);
      try {
        return await task();
      } finally {
        // clack pauses the input and leaves cooked mode when it closes its own readline.
        bracketedPaste(true);
        input.on('data', onData);
        setRaw(true);
        input.resume();
        mode = previous;
      }
    },
    close() {
      input.off('data', onData);
      bracketedPaste(false);
      setRaw(false);
      input.pause();
    },
  };
  const onData = (chunk: Buffer | string) => {
    const keys = chunk.toString();
    if (mode === 'line') {
      forward(keys);
    } else if (mode === 'busy') {
      if (keys.includes('\x03')) {
        typedAhead = '';
        router.onInterrupt?.();
      } else {
        typedAhead += keys;
      }
    }
  };
  input.on('data', onData);
  setRaw(true);
  input.resume();
  bracketedPaste(true);
  return router;
}
