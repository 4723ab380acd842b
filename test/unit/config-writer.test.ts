import { expect, test } from 'bun:test';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { updateSettingsFile } from '../../src/config/settings-writer.ts';
import { CliError } from '../../src/core/errors.ts';

function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'qwen-writer-'));
}

const modeOf = (path: string): number => statSync(path).mode & 0o777;

test('comments, key order and formatting survive an edit', () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'settings.json');
  const original = [
    '// my settings',
    '{',
    '    "zeta": 1, // keep me',
    '    /* block */',
    '    "model": { "name": "old" },',
    '    "alpha": [1, 2],',
    '}',
    '',
  ].join('\n');
  writeFileSync(path, original);
  updateSettingsFile(path, [
    { path: ['model', 'name'], value: 'new' },
    { path: ['security', 'auth', 'selectedType'], value: 'openai' },
  ]);
  const text = readFileSync(path, 'utf8');
  expect(text).toContain('// my settings');
  expect(text).toContain('"zeta": 1, // keep me');
  expect(text).toContain('/* block */');
  expect(text).toContain('"model": { "name": "new" }');
  expect(text.indexOf('"zeta"')).toBeLessThan(text.indexOf('"model"'));
  expect(text.indexOf('"alpha"')).toBeLessThan(text.indexOf('"security"'));
  expect(readdirSync(directory)).toEqual(['settings.json']);
});

test('a missing file (and directory) starts from {} with 2-space indent and a final newline', () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'nested', '.qwen', 'settings.json');
  updateSettingsFile(path, [{ path: ['model', 'name'], value: 'm' }]);
  expect(readFileSync(path, 'utf8')).toBe('{\n  "model": {\n    "name": "m"\n  }\n}\n');
  expect(modeOf(join(directory, 'nested', '.qwen'))).toBe(0o700);
});

test('QWEN_HOME, written as users write it (~/...), gets the private mode too', () => {
  const directory = temporaryDirectory();
  const saved = { HOME: process.env['HOME'], QWEN_HOME: process.env['QWEN_HOME'] };
  process.env['HOME'] = directory;
  process.env['QWEN_HOME'] = '~/qwen-home';
  try {
    updateSettingsFile(join(directory, 'qwen-home', 'settings.json'), [
      { path: ['model', 'name'], value: 'm' },
    ]);
    expect(modeOf(join(directory, 'qwen-home'))).toBe(0o700);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test('a file where a directory should be: a config error naming it and the fix, nothing written', () => {
  const directory = temporaryDirectory();
  writeFileSync(join(directory, '.qwen'), 'x');
  for (const path of [
    join(directory, '.qwen', 'settings.json'),
    join(directory, '.qwen', 'nested', 'settings.json'),
  ]) {
    let failure: unknown;
    try {
      updateSettingsFile(path, [{ path: ['model', 'name'], value: 'm' }]);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(CliError);
    expect((failure as CliError).kind).toBe('config');
    expect((failure as CliError).message).toBe(
      `Cannot save the settings: ${join(directory, '.qwen')} is a file, not a directory.`,
    );
    expect((failure as CliError).hint).toBe('Move or rename it, then try again.');
  }
  expect(readFileSync(join(directory, '.qwen'), 'utf8')).toBe('x');
});

test('undefined removes a key; removing a missing key is a no-op', () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'settings.json');
  writeFileSync(path, '{\n  "a": 1,\n  "b": { "c": 2 }\n}\n');
  updateSettingsFile(path, [
    { path: ['a'], value: undefined },
    { path: ['x', 'y'], value: undefined },
    { path: ['b', 'missing'], value: undefined },
  ]);
  expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ b: { c: 2 } });
});

test('holdsSecret writes 0600; an existing mode is kept; an existing 0600 stays 0600', () => {
  const directory = temporaryDirectory();
  const secret = join(directory, 'secret.json');
  updateSettingsFile(secret, [{ path: ['env', 'OPENAI_API_KEY'], value: 'sk-1' }], { holdsSecret: true });
  expect(modeOf(secret)).toBe(0o600);

  const shared = join(directory, 'shared.json');
  writeFileSync(shared, '{}');
  chmodSync(shared, 0o640);
  updateSettingsFile(shared, [{ path: ['a'], value: 1 }]);
  expect(modeOf(shared)).toBe(0o640);

  updateSettingsFile(secret, [{ path: ['model', 'name'], value: 'x' }]);
  expect(modeOf(secret)).toBe(0o600);
  expect(JSON.parse(readFileSync(secret, 'utf8'))).toEqual({
    env: { OPENAI_API_KEY: 'sk-1' },
    model: { name: 'x' },
  });
});

test('a broken file is never overwritten: config error with line and column', () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'settings.json');
  const broken = '{\n  "a": 1\n  "b": 2\n}';
  writeFileSync(path, broken);
  let caught: unknown;
  try {
    updateSettingsFile(path, [{ path: ['c'], value: 3 }]);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CliError);
  expect((caught as CliError).exitCode).toBe(52);
  expect((caught as CliError).message).toBe(`${path}:3:3: expected a comma between values`);
  expect(readFileSync(path, 'utf8')).toBe(broken);
  expect(readdirSync(directory)).toEqual(['settings.json']);
});

test('a key on the way that is not an object is a config error, file unchanged', () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'settings.json');
  writeFileSync(path, '{ "security": "gpt", "selectedAuthType": "openai" }');
  expect(() =>
    updateSettingsFile(path, [{ path: ['security', 'auth', 'selectedType'], value: 'x' }]),
  ).toThrow(/security\.auth\.selectedType/);
  expect(readFileSync(path, 'utf8')).toBe('{ "security": "gpt", "selectedAuthType": "openai" }');
  expect(readdirSync(directory)).toEqual(['settings.json']);
});

test('CRLF files keep CRLF, a BOM is kept, a symlink is written through', () => {
  const directory = temporaryDirectory();
  const target = join(directory, 'real.json');
  writeFileSync(target, '\uFEFF{\r\n  "a": 1\r\n}\r\n');
  const link = join(directory, 'settings.json');
  symlinkSync(target, link);
  updateSettingsFile(link, [{ path: ['b'], value: { c: true } }]);
  const text = readFileSync(target, 'utf8');
  expect(text.startsWith('\uFEFF{\r\n')).toBe(true);
  expect(text).not.toMatch(/[^\r]\n/);
  expect(JSON.parse(text.slice(1))).toEqual({ a: 1, b: { c: true } });
  expect(lstatSync(link).isSymbolicLink()).toBe(true);
  expect(readdirSync(directory).sort()).toEqual(['real.json', 'settings.json']);
});

test('array indexes in edit paths', () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'settings.json');
  writeFileSync(path, '{ "modelProviders": { "openai": [ { "id": "a" }, { "id": "b" } ] } }');
  updateSettingsFile(path, [{ path: ['modelProviders', 'openai', 1, 'name'], value: 'B' }]);
  expect(JSON.parse(readFileSync(path, 'utf8')).modelProviders.openai[1]).toEqual({ id: 'b', name: 'B' });
});

// Byte-exact: what an edit does not concern keeps every byte, down to one-line objects and CRLF.
function writeAndEdit(original: string, edits: Parameters<typeof updateSettingsFile>[1]): string {
  const path = join(temporaryDirectory(), 'settings.json');
  writeFileSync(path, original);
  updateSettingsFile(path, edits);
  return readFileSync(path, 'utf8');
}

test('a new provider entry and env key leave one-line neighbours as written (BOM, CRLF, comments)', () => {
  const original = [
    '\uFEFF{',
    '  // my providers',
    '  "modelProviders": {',
    '    "openai": [',
    '      { "id": "old-model", "name": "Old", "envKey": "OLD_KEY", "baseUrl": "http://127.0.0.1:1/v1" },',
    '    ]',
    '  },',
    '  "env": { "OLD_KEY": "x" } /* mine */',
    '}',
    '',
  ].join('\r\n');
  const text = writeAndEdit(original, [
    { path: ['env', 'NEW_KEY'], value: 'sk-new' },
    { path: ['modelProviders', 'openai', -1], value: { id: 'new-model', baseUrl: 'http://h/v1' } },
    { path: ['security', 'auth', 'selectedType'], value: 'openai' },
  ]);
  expect(text).toBe(
    [
      '\uFEFF{',
      '  // my providers',
      '  "modelProviders": {',
      '    "openai": [',
      '      { "id": "old-model", "name": "Old", "envKey": "OLD_KEY", "baseUrl": "http://127.0.0.1:1/v1" },',
      '      {',
      '        "id": "new-model",',
      '        "baseUrl": "http://h/v1"',
      '      },',
      '    ]',
      '  },',
      '  "env": { "OLD_KEY": "x", "NEW_KEY": "sk-new" }, /* mine */',
      '  "security": {',
      '    "auth": {',
      '      "selectedType": "openai"',
      '    }',
      '  }',
      '}',
      '',
    ].join('\r\n'),
  );
});

test('keys appended after a one-line object leave it as written; only a comma is added', () => {
  const text = writeAndEdit('{\n    "ui": {"theme":"dark"}\n}\n', [
    { path: ['env', 'K'], value: 'v' },
    { path: ['model', 'name'], value: 'm' },
  ]);
  expect(text).toBe(
    '{\n    "ui": {"theme":"dark"},\n    "env": {\n        "K": "v"\n    },\n    "model": {\n        "name": "m"\n    }\n}\n',
  );
});

test('inserting first in an array goes before the comment of the old first element', () => {
  const text = writeAndEdit('{\n  "p": [\n    // mine\n    { "id": "a" }\n  ]\n}\n', [
    { path: ['p', 0], value: { id: 'b' }, insert: true },
  ]);
  expect(text).toBe('{\n  "p": [\n    {\n      "id": "b"\n    },\n    // mine\n    { "id": "a" }\n  ]\n}\n');
});

test('a one-line array or object gets the new element on its line, in its spacing', () => {
  expect(writeAndEdit('{"p":[{"id":"a"}]}', [{ path: ['p', -1], value: { id: 'b' } }])).toBe(
    '{"p":[{"id":"a"},{"id":"b"}]}',
  );
  expect(writeAndEdit('{ "env": { "A": "1" } }\n', [{ path: ['env', 'B'], value: '2' }])).toBe(
    '{ "env": { "A": "1", "B": "2" } }\n',
  );
});

test('removals take their own line and comma, and nothing else', () => {
  expect(writeAndEdit('{"p":[{"a":1},{"b":2}]}', [{ path: ['p', 1], value: undefined }])).toBe(
    '{"p":[{"a":1}]}',
  );
  expect(
    writeAndEdit('{\r\n  "p": [\r\n    1,\r\n    2\r\n  ]\r\n}\r\n', [{ path: ['p', 1], value: undefined }]),
  ).toBe('{\r\n  "p": [\r\n    1\r\n  ]\r\n}\r\n');
  expect(writeAndEdit('{\n  "a": 1,\n  "b": { "c": 2 }\n}\n', [{ path: ['a'], value: undefined }])).toBe(
    '{\n  "b": { "c": 2 }\n}\n',
  );
  expect(writeAndEdit('{ "a": 1, "b": 2 }', [{ path: ['b'], value: undefined }])).toBe('{ "a": 1 }');
});

test('setting a value it already has changes nothing', () => {
  const original = '{\n  "model": {"name":"m",   "baseUrl": ""}\n}\n';
  expect(writeAndEdit(original, [{ path: ['model', 'name'], value: 'm' }])).toBe(original);
});

test("a file of Qwen Code's flat layout: the flat keys under an edited key move to their nested homes", () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'settings.json');
  writeFileSync(
    path,
    '{\n  // old layout\n  "model": "old-model",\n  "selectedAuthType": "gemini",\n  "theme": "Default"\n}\n',
  );
  updateSettingsFile(path, [{ path: ['security', 'auth', 'selectedType'], value: 'openai' }]);
  // Only the flat key under `security` moved (and was replaced); `model` is not edited and stays as written.
  expect(JSON.parse(readFileSync(path, 'utf8').replace('// old layout', ''))).toEqual({
    model: 'old-model',
    security: { auth: { selectedType: 'openai' } },
    theme: 'Default',
  });
  updateSettingsFile(path, [{ path: ['model', 'baseUrl'], value: 'https://b' }]);
  const text = readFileSync(path, 'utf8');
  expect(text).toContain('// old layout');
  expect(JSON.parse(text.replace('// old layout', ''))).toEqual({
    model: { name: 'old-model', baseUrl: 'https://b' },
    security: { auth: { selectedType: 'openai' } },
    theme: 'Default',
  });
  // A stale flat key beside the nested value that wins is dropped; with "$version" 3 nothing is flat.
  writeFileSync(
    path,
    '{ "selectedAuthType": "gemini", "security": { "auth": { "selectedType": "anthropic" } } }',
  );
  updateSettingsFile(path, [{ path: ['security', 'auth', 'apiKey'], value: 'k' }]);
  expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
    security: { auth: { selectedType: 'anthropic', apiKey: 'k' } },
  });
  writeFileSync(path, '{ "$version": 3, "selectedAuthType": "gemini" }');
  updateSettingsFile(path, [{ path: ['security', 'auth', 'selectedType'], value: 'openai' }]);
  expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
    $version: 3,
    selectedAuthType: 'gemini',
    security: { auth: { selectedType: 'openai' } },
  });
});

const asRoot = process.getuid?.() === 0;
const nobody = 65534;

function configError(action: () => void): CliError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  }
  throw new Error('expected a config error');
}

test('a read-only file is refused, even for root: exit 52, the file and its mode unchanged', () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'settings.json');
  writeFileSync(path, '{ "a": 1 }\n');
  chmodSync(path, 0o444);
  const error = configError(() =>
    updateSettingsFile(path, [{ path: ['env', 'KEY'], value: 'sk-1' }], { holdsSecret: true }),
  );
  expect(error.exitCode).toBe(52);
  expect(error.message).toBe(`${path}: the file is read-only; it was not changed`);
  expect(error.hint).toContain(`chmod u+w ${path}`);
  expect(readFileSync(path, 'utf8')).toBe('{ "a": 1 }\n');
  expect(modeOf(path)).toBe(0o444);
  expect(readdirSync(directory)).toEqual(['settings.json']);
});

test('a dangling symlink is written through: its target is created and the link stays', () => {
  const directory = temporaryDirectory();
  mkdirSync(join(directory, 'dotfiles'));
  const link = join(directory, 'settings.json');
  symlinkSync('dotfiles/settings.json', link);
  updateSettingsFile(link, [{ path: ['a'], value: 1 }]);
  expect(lstatSync(link).isSymbolicLink()).toBe(true);
  expect(readlinkSync(link)).toBe('dotfiles/settings.json');
  expect(JSON.parse(readFileSync(join(directory, 'dotfiles', 'settings.json'), 'utf8'))).toEqual({ a: 1 });
});

test('a symlink to a missing directory is refused, exit 52, naming the target; the link stays', () => {
  const directory = temporaryDirectory();
  const link = join(directory, 'settings.json');
  const target = join(directory, 'nonexistent', 'dotfiles', 'settings.json');
  symlinkSync(target, link);
  const error = configError(() => updateSettingsFile(link, [{ path: ['a'], value: 1 }]));
  expect(error.exitCode).toBe(52);
  expect(error.message).toBe(
    `${link}: the symlink points to ${target}, whose directory does not exist; nothing was written`,
  );
  expect(error.hint).toBe(
    `Create ${join(directory, 'nonexistent', 'dotfiles')}, or remove the link, then try again.`,
  );
  expect(readlinkSync(link)).toBe(target);
  expect(existsSync(join(directory, 'nonexistent'))).toBe(false);
  expect(readdirSync(directory)).toEqual(['settings.json']);
});

test.skipIf(!asRoot)(
  'root keeps the owner and group of the file it replaces, and gives new files the directory owner',
  () => {
    const home = temporaryDirectory();
    chownSync(home, nobody, nobody);
    const existing = join(home, 'settings.json');
    writeFileSync(existing, '{}');
    chmodSync(existing, 0o640);
    chownSync(existing, nobody, nobody);
    updateSettingsFile(existing, [{ path: ['env', 'KEY'], value: 'sk-1' }], { holdsSecret: true });
    expect(statSync(existing).uid).toBe(nobody);
    expect(statSync(existing).gid).toBe(nobody);
    expect(modeOf(existing)).toBe(0o600);

    // $HOME/.qwen created by root under sudo, and the file in it: both the user's.
    const created = join(home, '.qwen', 'settings.json');
    updateSettingsFile(created, [{ path: ['a'], value: 1 }], { holdsSecret: true });
    expect(statSync(join(home, '.qwen')).uid).toBe(nobody);
    expect(statSync(created).uid).toBe(nobody);
    expect(statSync(created).gid).toBe(nobody);
  },
);

test('a key written twice is edited where readers see it: its last occurrence', () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'settings.json');
  writeFileSync(
    path,
    '{"security":{"auth":{"selectedType":"openai"}},"ui":{},"security":{"auth":{"selectedType":"anthropic"}}}\n',
  );
  updateSettingsFile(path, [{ path: ['security', 'auth', 'selectedType'], value: 'qwen-oauth' }]);
  const text = readFileSync(path, 'utf8');
  expect(JSON.parse(text).security.auth.selectedType).toBe('qwen-oauth');
  // The shadowed copy is left as written: it is not in effect, and it is the user's.
  expect(text).toContain('"selectedType":"openai"');
});

test('removing a key written twice removes both, so the earlier one does not come back into effect', () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'settings.json');
  writeFileSync(path, '{\n  "model": {\n    "name": "a",\n    "baseUrl": "x",\n    "name": "b"\n  }\n}\n');
  updateSettingsFile(path, [{ path: ['model', 'name'], value: undefined }]);
  expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ model: { baseUrl: 'x' } });
});

test('a list inside a key written twice is extended in the copy in effect', () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'settings.json');
  writeFileSync(path, '{"modelProviders":{"openai":[{"id":"a"}]},"modelProviders":{"openai":[{"id":"b"}]}}');
  updateSettingsFile(path, [{ path: ['modelProviders', 'openai', 0], value: { id: 'c' }, insert: true }]);
  const text = readFileSync(path, 'utf8');
  expect(JSON.parse(text).modelProviders.openai).toEqual([{ id: 'c' }, { id: 'b' }]);
  expect(text).toStartWith('{"modelProviders":{"openai":[{"id":"a"}]},');
});

test('removing an array element removes that one only', () => {
  const directory = temporaryDirectory();
  const path = join(directory, 'settings.json');
  writeFileSync(path, '{"list": [1, 2, 3]}');
  updateSettingsFile(path, [{ path: ['list', 0], value: undefined }]);
  expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ list: [2, 3] });
});
