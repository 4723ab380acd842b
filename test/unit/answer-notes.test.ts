import { expect, test } from 'bun:test';
import { toolCallNote } from '../../src/render/answer-notes.ts';

test('names the tool asked for and says qwen-lite runs none', () => {
  expect(toolCallNote(['read_file'])).toBe(
    'The model asked to run a tool (read_file); qwen-lite runs no tools, so none ran (-o json lists the calls with their arguments).',
  );
});

test('each tool once, in order; past five they are counted', () => {
  expect(toolCallNote(['ls', 'read_file', 'ls'])).toStartWith(
    'The model asked to run tools (ls, read_file);',
  );
  const many = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  expect(toolCallNote(many)).toStartWith('The model asked to run tools (a, b, c, d, e and 2 more);');
});

test('one line, without escape sequences, whatever the server named the tool', () => {
  const note = toolCallNote(['evil\x1b]0;PWNED\x07\nname\r\x1b[2J', '', 'x'.repeat(200)]);
  expect(note).not.toContain('\x1b');
  expect(note).not.toMatch(/[\n\r\x07]/);
  expect(note).toContain('(evil name, (unnamed), xxx');
  expect(note).toContain(`${'x'.repeat(57)}...)`);
});
