import { afterEach, beforeEach, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyLimit, isRecordable, loadHistory } from '../../src/cli/history.ts';

let directory: string;
let file: string;
beforeEach(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'history-'));
  file = path.join(directory, 'qwen-home', 'history');
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

test('a missing file is an empty history; the first prompt creates it with mode 0600 (directory 0700)', () => {
  const history = loadHistory(file);
  expect(history.entries).toEqual([]);
  history.add('explain this repo');
  expect(readFileSync(file, 'utf8')).toBe('explain this repo\n');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
});

test('entries come newest first (readline order) and survive a new session', () => {
  const first = loadHistory(file);
  first.add('one');
  first.add('two');
  first.add('three');
  expect(first.entries).toEqual(['three', 'two', 'one']);
  expect(loadHistory(file).entries).toEqual(['three', 'two', 'one']);
});

test('two sessions open at once keep both their prompts in the file, in the order they were entered', () => {
  writeFileSync(path.join(directory, 'shared'), 'old1\nold2\n');
  const shared = path.join(directory, 'shared');
  const first = loadHistory(shared);
  const second = loadHistory(shared);
  first.add('from the first');
  second.add('from the second');
  first.add('again from the first');
  expect(readFileSync(shared, 'utf8')).toBe(
    'old1\nold2\nfrom the first\nfrom the second\nagain from the first\n',
  );
  // Each session recalls its own prompts; the next session recalls all of them.
  expect(second.entries).toEqual(['from the second', 'old2', 'old1']);
  expect(loadHistory(shared).entries[1]).toBe('from the second');
});

test('the same prompt twice in a row is kept once; blank entries are not kept', () => {
  const history = loadHistory(file);
  history.add('same');
  history.add('same');
  history.add('   ');
  history.add('other');
  history.add('same');
  expect(history.entries).toEqual(['same', 'other', 'same']);
  expect(isRecordable('x\r')).toBe(false);
});

test('a multi-line prompt is one entry, written as continued lines (`\\` at the end) and read back whole', () => {
  const history = loadHistory(file);
  const entries = ['aa\nbb', 'one', 'ends in \\\nnext', 'blank\n\nlines inside', 'C:\\dir\\ x'];
  for (const entry of entries) history.add(entry);
  expect(readFileSync(file, 'utf8')).toBe(
    'aa\\\nbb\none\nends in \\\\\nnext\nblank\\\n\\\nlines inside\nC:\\dir\\ x\n',
  );
  expect(loadHistory(file).entries).toEqual([...entries].reverse());
  // A last line ending in `\` would run into the next entry; recalled, it would only continue the line.
  expect(isRecordable('pasted\nends in \\')).toBe(false);
});

test('a file written before multi-line entries: lines continued with `\\` were one prompt, and are again', () => {
  writeFileSync(path.join(directory, 'old'), 'first \\\nsecond\nalone\n');
  expect(loadHistory(path.join(directory, 'old')).entries).toEqual(['alone', 'first \nsecond']);
});

test('capped: only the newest entries stay in memory; the file is cut to them when the next session reads it', () => {
  const history = loadHistory(file, 3);
  for (const entry of ['a', 'b', 'c', 'd', 'e']) history.add(entry);
  expect(history.entries).toEqual(['e', 'd', 'c']);
  expect(loadHistory(file, 3).entries).toEqual(['e', 'd', 'c']);
  expect(readFileSync(file, 'utf8')).toBe('c\nd\ne\n');
  expect(historyLimit).toBe(1000);
});

test('an over-long file from elsewhere is cut to the cap when read', () => {
  writeFileSync(
    path.join(directory, 'long'),
    `${Array.from({ length: 1500 }, (_, index) => `p${index}`).join('\n')}\n`,
  );
  const history = loadHistory(path.join(directory, 'long'));
  expect(history.entries).toHaveLength(1000);
  expect(history.entries[0]).toBe('p1499');
  expect(history.entries.at(-1)).toBe('p500');
});

test('an unwritable place keeps the history in memory and never throws', () => {
  writeFileSync(path.join(directory, 'blocker'), 'a file where a directory should be');
  const history = loadHistory(path.join(directory, 'blocker', 'history'));
  history.add('still works');
  expect(history.entries).toEqual(['still works']);
});
