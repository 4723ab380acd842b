import { expect, test } from 'bun:test';
import { parseDotEnv } from '../../src/config/dotenv.ts';

test('plain, exported and spaced assignments', () => {
  expect(parseDotEnv('A=1\nexport B=two\n  C = three  \nexport   D=4')).toEqual({
    A: '1',
    B: 'two',
    C: 'three',
    D: '4',
  });
});

test('comments: full line, after whitespace, and a # inside a value is kept', () => {
  const text = '# comment\n  # indented comment\nA=value # note\nB=abc#123\nC=#only-comment\nD=x\t# tab note';
  expect(parseDotEnv(text)).toEqual({ A: 'value', B: 'abc#123', C: '', D: 'x' });
});

test('quotes: double quotes expand escapes, single and backticks are literal', () => {
  const text = [
    'A="line1\\nline2"',
    "B='raw\\nvalue'",
    'C=`tick # not a comment`',
    'D="has # hash" # trailing comment',
    'E="say \\"hi\\""',
    "F='  spaced  '",
    'G="tab\\there"',
  ].join('\n');
  expect(parseDotEnv(text)).toEqual({
    A: 'line1\nline2',
    B: 'raw\\nvalue',
    C: 'tick # not a comment',
    D: 'has # hash',
    E: 'say "hi"',
    F: '  spaced  ',
    G: 'tab\there',
  });
});

test('multi-line double-quoted values', () => {
  expect(parseDotEnv('KEY="-----BEGIN\nabc\n-----END"\nNEXT=1')).toEqual({
    KEY: '-----BEGIN\nabc\n-----END',
    NEXT: '1',
  });
});

test('empty values, CRLF, BOM and junk lines', () => {
  const text = '\uFEFFEMPTY=\r\nQUOTED=""\r\nA=1\r\nnot an assignment\r\n=nokey\r\n1BAD=x\r\n';
  expect(parseDotEnv(text)).toEqual({ EMPTY: '', QUOTED: '', A: '1' });
});

test('an unclosed quote keeps the rest of the line; the last duplicate wins', () => {
  expect(parseDotEnv('A="open\nB=2\nB=3')).toEqual({ A: '"open', B: '3' });
});
