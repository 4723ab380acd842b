// The terminal as a @clack/prompts dialog (the /auth wizard, the /model picker) sees it: keys and drawing
// pass through here instead of clack reading the terminal itself, for two keys its readline mishandles.
// Ctrl+D makes that readline close when its line is empty (a menu's always is): the prompt then never
// ends, spins, and the terminal stays half given back. Ctrl+Z has it stop the process and, after `fg`,
// pause the input for good. Here Ctrl+D cancels like Ctrl+C, except in a text field, where it deletes the
// character under the cursor (readline's other meaning of it) and never ends the wizard; Ctrl+Z is the
// session's to handle (key-router.ts), which calls redraw() after `fg`.
import { PassThrough, type Readable, Writable } from 'node:stream';
import {
  type PasswordOptions,
  password as passwordPrompt,
  type TextOptions,
  text as textPrompt,
} from '@clack/prompts';

/** Where a prompt reads keys and draws; the process's terminal when not given. */
export interface PromptStreams {
  input?: Readable;
  output?: Writable;
}

type DialogInput = PassThrough & { isTTY: true; setRawMode: (mode: boolean) => void };
type DialogOutput = Writable & { isTTY: true; readonly columns: number; readonly rows: number };

export interface DialogTerminal {
  streams: { input: DialogInput; output: DialogOutput };
  /** Keys from the terminal, Ctrl+Z taken out. */
  push(keys: string): void;
  /** Draws the prompt being asked again, from the cursor's line: after `fg` the shell's lines cover it. */
  redraw(): void;
  /** The terminal was resized. */
  resize(): void;
}

const hideCursor = '\x1b[?25l';
export const showCursor = '\x1b[?25h';
const endOfInput = '\x04';
const interrupt = '\x03';
const deleteKey = '\x1b[3~';

/** Dialog inputs whose prompt is a text field now. */
const textFields = new WeakSet<Readable>();

export function createDialogTerminal(
  terminal: Writable & { columns?: number; rows?: number },
): DialogTerminal {
  const input = Object.assign(new PassThrough(), {
    isTTY: true as const,
    // The session keeps the terminal in raw mode for the whole dialog: clack's switches between its
    // prompts would let a key typed in between echo, or Ctrl+C kill the process.
    setRawMode: (_mode: boolean) => undefined,
  });
  // clack draws a prompt between hiding the cursor and showing it again, always relative to where the
  // drawing began: replayed from a fresh line, the same writes draw the same prompt.
  let drawing: string[] | undefined;
  const output = Object.defineProperties(
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        const text = chunk.toString();
        const hidden = text.lastIndexOf(hideCursor);
        if (hidden >= 0) drawing = [text.slice(hidden)];
        else if (text.includes(showCursor)) drawing = undefined;
        else drawing?.push(text);
        terminal.write(chunk);
        done();
      },
    }),
    {
      isTTY: { value: true },
      columns: { get: () => terminal.columns ?? 80 },
      rows: { get: () => terminal.rows ?? 24 },
    },
  ) as DialogOutput;
  return {
    streams: { input, output },
    push(keys) {
      const editing = textFields.has(input);
      const translated = keys.replaceAll(endOfInput, editing ? deleteKey : interrupt);
      if (translated !== '') input.write(translated);
    },
    redraw() {
      if (drawing !== undefined) terminal.write(drawing.join(''));
    },
    resize: () => output.emit('resize'),
  };
}

/** Runs a text field's prompt with Ctrl+D as an editing key. */
async function asTextField<T>(input: Readable | undefined, ask: () => Promise<T>): Promise<T> {
  if (input === undefined) return ask();
  textFields.add(input);
  try {
    return await ask();
  } finally {
    textFields.delete(input);
  }
}

/** clack's text(), Ctrl+D an editing key in it. */
export const textField = (options: TextOptions) => asTextField(options.input, () => textPrompt(options));

/** clack's password(), Ctrl+D an editing key in it. */
export const passwordField = (options: PasswordOptions) =>
  asTextField(options.input, () => passwordPrompt(options));
