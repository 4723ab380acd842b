import { expect, test } from 'bun:test';
import { createControlFilter, terminalSafe } from '../../src/render/terminal-safe.ts';

test('printable text, newlines and tabs pass as they are, Unicode included', () => {
  const text = 'Paris is the capital.\n\tcafé 👨‍👩‍👧 → 東京 \\e[2J as text\n';
  expect(terminalSafe(text)).toBe(text);
});

test('escape sequences go whole: clear screen, cursor moves, colours, window title, clipboard, DCS', () => {
  expect(terminalSafe('a\x1b[2J\x1b[Hb')).toBe('ab');
  expect(terminalSafe('\x1b[1;31mred\x1b[0m \x1b[?25l\x1b[10;20r')).toBe('red ');
  expect(terminalSafe('x\x1b]0;PWNED\x07y')).toBe('xy');
  expect(terminalSafe('x\x1b]52;c;cm0gLXJmIH4=\x1b\\y')).toBe('xy');
  expect(terminalSafe('x\x1bP1$r0m\x1b\\y\x1b_apc\x1b\\z')).toBe('xyz');
  expect(terminalSafe('reset\x1bc, charset\x1b(B, save\x1b7.')).toBe('reset, charset, save.');
});

test('C0 controls (but \\n and \\t), DEL and C1 controls are dropped; 8-bit CSI and OSC go whole', () => {
  expect(terminalSafe('line\r\nover\rwrite\x08\x07\x00\x7f.')).toBe('line\noverwrite.');
  expect(terminalSafe('a\u009b2Jb\u009d0;title\u009cc\u0085d')).toBe('abcd');
});

test('a sequence split anywhere across reads is still removed whole', () => {
  const whole = 'one\x1b[2J two\x1b]0;PWNED\x07 three\x1b]52;c;Zm9v\x1b\\ four\u009b31m five';
  const expected = 'one two three four five';
  for (let split = 0; split <= whole.length; split += 1) {
    for (let second = split; second <= whole.length; second += 3) {
      const filter = createControlFilter();
      const pieces = [whole.slice(0, split), whole.slice(split, second), whole.slice(second)];
      expect(pieces.map((piece) => filter.push(piece)).join('')).toBe(expected);
    }
  }
});

test('a malformed or unterminated sequence never swallows more than its line', () => {
  expect(terminalSafe('a\x1b]0;no end\nstill here')).toBe('a\nstill here');
  expect(terminalSafe('a\x1b[12\nb')).toBe('a\nb');
  expect(terminalSafe('a\x1b\nb')).toBe('a\nb');
  expect(terminalSafe('a\x1b]0;t\x1b[2Jb')).toBe('ab');
});
