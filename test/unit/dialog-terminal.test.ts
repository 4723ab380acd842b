// The terminal of a @clack/prompts dialog: real clack prompts on its streams, keys pushed as the session's
// key router pushes them, the drawing read from the terminal's side.
import { expect, test } from 'bun:test';
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { isCancel, select } from '@clack/prompts';
import { createDialogTerminal, passwordField, textField } from '../../src/cli/dialog-terminal.ts';

const keys = { enter: '\r', left: '\x1b[D', down: '\x1b[B', ctrlD: '\x04' } as const;

/** A dialog on a fake terminal: what was drawn, and a wait for a text to be drawn. */
function createDialog() {
  const terminal = new PassThrough();
  let drawn = '';
  terminal.on('data', (chunk: Buffer) => {
    drawn += chunk.toString();
  });
  const dialog = createDialogTerminal(terminal);
  return {
    dialog,
    drawn: () => drawn,
    async waitFor(text: string): Promise<void> {
      const deadline = Date.now() + 5_000;
      while (!stripVTControlCharacters(drawn).includes(text)) {
        if (Date.now() > deadline) throw new Error(`"${text}" never appeared:\n${drawn}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // clack draws a prompt before it listens.
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

test('Ctrl+D in a menu cancels it, as Ctrl+C does', async () => {
  const { dialog, waitFor } = createDialog();
  const answer = select({
    message: 'Pick one',
    options: [{ value: 'a' }, { value: 'b' }],
    ...dialog.streams,
  });
  await waitFor('Pick one');
  dialog.push(keys.ctrlD);
  expect(isCancel(await answer)).toBe(true);
});

test('Ctrl+D in a text field deletes the character under the cursor; in an empty one it does nothing', async () => {
  const { dialog, waitFor } = createDialog();
  const answer = textField({ message: 'Base URL', ...dialog.streams });
  await waitFor('Base URL');
  dialog.push(keys.ctrlD);
  dialog.push('http://hostx/v1');
  for (let count = 0; count < 4; count += 1) dialog.push(keys.left);
  dialog.push(keys.ctrlD);
  dialog.push(keys.enter);
  expect(await answer).toBe('http://host/v1');

  const secret = passwordField({ message: 'API key', ...dialog.streams });
  await waitFor('API key');
  dialog.push(keys.ctrlD);
  dialog.push(`sk-typed${keys.enter}`);
  expect(await secret).toBe('sk-typed');

  // After the text fields, a menu again: Ctrl+D cancels it.
  const menu = select({ message: 'Then a menu', options: [{ value: 'a' }], ...dialog.streams });
  await waitFor('Then a menu');
  dialog.push(keys.ctrlD);
  expect(isCancel(await menu)).toBe(true);
});

test('redraw draws the prompt being asked again, as it stands; once answered, nothing', async () => {
  const { dialog, drawn, waitFor } = createDialog();
  const answer = select({
    message: 'Pick one',
    options: [{ value: 'first' }, { value: 'second' }],
    ...dialog.streams,
  });
  await waitFor('Pick one');
  const before = drawn().length;
  dialog.push(keys.down);
  while (drawn().length === before) await new Promise((resolve) => setTimeout(resolve, 10));
  // The whole prompt since clack hid the cursor for it: its first drawing, then the move down.
  const prompt = drawn().slice(drawn().lastIndexOf('\x1b[?25l'));
  expect(stripVTControlCharacters(prompt)).toContain('Pick one');
  expect(prompt).toEndWith(drawn().slice(before));
  const shown = drawn().length;
  dialog.redraw();
  expect(drawn().slice(shown)).toBe(prompt);
  dialog.push(keys.enter);
  expect(await answer).toBe('second');
  const answered = drawn().length;
  dialog.redraw();
  expect(drawn().length).toBe(answered);
});
