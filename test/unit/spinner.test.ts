import { expect, test } from 'bun:test';
import { createSpinner } from '../../src/cli/spinner.ts';

function drawn(columns: number | undefined): string[] {
  const writes: string[] = [];
  const spinner = createSpinner({
    write: (text) => writes.push(text),
    enabled: true,
    columns: () => columns,
  });
  spinner.start();
  spinner.stop();
  return writes;
}

test('each frame is drawn over the last on one line, and erased at the end', () => {
  const [frame, erase] = drawn(80);
  expect(frame).toBe('\r⠋ Thinking… (Ctrl+C to cancel)');
  expect(erase).toBe('\r\x1b[K');
});

test('a terminal narrower than the text gets it cut, so a frame never wraps onto a new line', () => {
  expect(drawn(25)[0]).toBe('\r⠋ Thinking… (Ctrl+C to c');
  expect(drawn(12)[0]).toBe('\r⠋ Thinking…');
  expect(drawn(2)[0]).toBe('\r⠋');
  expect(drawn(undefined)[0]).toBe('\r⠋ Thinking… (Ctrl+C to cancel)');
});
