// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about ${VAR} inside settings strings
import { expect, test } from 'bun:test';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigPaths } from '../../src/config/paths.ts';
import { validateSettings } from '../../src/config/schema.ts';
import { loadSettings, parseSettingsText, readTextFileIfPresent } from '../../src/config/settings.ts';
import { CliError, oneLine } from '../../src/core/errors.ts';
import { errorOf, testConfigPaths } from './helpers.ts';

const paths: ConfigPaths = testConfigPaths;

function load(files: Record<string, string>, env: Record<string, string | undefined> = {}) {
  return loadSettings(paths, { readFile: (path) => files[path], env });
}

test('no files: empty settings, no files listed', () => {
  expect(load({})).toEqual({ merged: {}, files: [], envSources: {} });
});

test('comments, trailing commas and a BOM are accepted; empty files are {}', () => {
  const loaded = load({
    [paths.userSettings]: '\uFEFF// user\n{\n  /* block */ "model": { "name": "m1", },\n}\n',
    [paths.systemDefaults!]: '   \n',
  });
  expect(loaded.merged).toEqual({ model: { name: 'm1' } });
  expect(loaded.files.map((file) => file.scope)).toEqual(['system-defaults', 'user']);
  expect(loaded.files.every((file) => file.exists)).toBe(true);
});

test('scope order: system defaults < user < workspace < system, deep merge', () => {
  const loaded = load({
    [paths.systemDefaults!]: '{ "model": { "name": "defaults", "baseUrl": "d" }, "proxy": "p0" }',
    [paths.userSettings]:
      '{ "model": { "name": "user" }, "security": { "auth": { "selectedType": "openai" } } }',
    [paths.workspaceSettings!]:
      '{ "model": { "name": "workspace" }, "security": { "auth": { "apiKey": "k" } } }',
    [paths.systemSettings]: '{ "proxy": "p-system" }',
  });
  expect(loaded.merged.model).toEqual({ name: 'workspace', baseUrl: 'd' });
  expect(loaded.merged.security).toEqual({ auth: { selectedType: 'openai', apiKey: 'k' } });
  expect(loaded.merged.proxy).toBe('p-system');
  expect(loaded.files.map((file) => file.path)).toEqual([
    paths.systemDefaults!,
    paths.userSettings,
    paths.workspaceSettings!,
    paths.systemSettings,
  ]);
});

test('modelProviders: a higher scope replaces the whole object; env merges shallowly', () => {
  const loaded = load({
    [paths.userSettings]: JSON.stringify({
      modelProviders: { openai: [{ id: 'a' }], anthropic: [{ id: 'c' }] },
      env: { A: 'user', B: 'user' },
    }),
    [paths.workspaceSettings!]: JSON.stringify({
      modelProviders: { openai: [{ id: 'b' }] },
      env: { B: 'ws', C: 'ws' },
    }),
  });
  expect(loaded.merged.modelProviders).toEqual({ openai: [{ id: 'b' }] });
  expect(loaded.merged.env).toEqual({ A: 'user', B: 'ws', C: 'ws' });
  expect(loaded.envSources).toEqual({
    A: paths.userSettings,
    B: paths.workspaceSettings!,
    C: paths.workspaceSettings!,
  });
});

test('arrays are replaced, except advanced.excludedEnvVars which is unioned', () => {
  const loaded = load({
    [paths.userSettings]: '{ "advanced": { "excludedEnvVars": ["DEBUG"] }, "list": [1, 2] }',
    [paths.workspaceSettings!]: '{ "advanced": { "excludedEnvVars": ["DEBUG", "FOO"] }, "list": [3] }',
  });
  expect(loaded.merged.advanced?.excludedEnvVars).toEqual(['DEBUG', 'FOO']);
  expect(loaded.merged['list']).toEqual([3]);
});

test('unknown keys are kept and never an error', () => {
  const loaded = load({
    [paths.userSettings]: JSON.stringify({
      ui: { theme: 'dark' },
      modelProviders: {
        openai: [{ id: 'x', wireApi: 'chat-completions', generationConfig: { contextWindowSize: 9 } }],
      },
      model: { name: 'x', somethingNew: true },
    }),
  });
  expect(loaded.merged['ui']).toEqual({ theme: 'dark' });
  expect(loaded.merged.modelProviders?.['openai']?.[0]?.['wireApi']).toBe('chat-completions');
  expect(loaded.merged.modelProviders?.['openai']?.[0]?.generationConfig?.['contextWindowSize']).toBe(9);
  expect(loaded.merged.model?.['somethingNew']).toBe(true);
});

test('$VAR and ${VAR} are expanded in string values; unset ones stay as written', () => {
  const loaded = load(
    {
      [paths.userSettings]: JSON.stringify({
        model: { baseUrl: 'https://$HOST/${PREFIX}/v1' },
        env: { KEY: '${SECRET}', KEEP: '$UNSET and ${ALSO_UNSET}', EMPTY: 'a${BLANK}b' },
        $HOST: 'keys are not expanded',
      }),
    },
    { HOST: 'example.com', PREFIX: 'api', SECRET: 's3', BLANK: '' },
  );
  expect(loaded.merged.model?.baseUrl).toBe('https://example.com/api/v1');
  expect(loaded.merged.env).toEqual({ KEY: 's3', KEEP: '$UNSET and ${ALSO_UNSET}', EMPTY: 'ab' });
  expect(loaded.merged['$HOST']).toBe('keys are not expanded');
});

test('a syntax error names the file, line and column; exit code 52', () => {
  const error = errorOf(() =>
    load({ [paths.userSettings]: '{\n  "model": {\n    "name": "x"\n    "baseUrl": "y"\n  }\n}' }),
  );
  expect(error.kind).toBe('config');
  expect(error.exitCode).toBe(52);
  expect(error.message).toBe('/h/.qwen/settings.json:4:5: expected a comma between values');

  const crlf = errorOf(() => load({ [paths.workspaceSettings!]: '\uFEFF{\r\n  "a": 1,\r\n  oops\r\n}' }));
  expect(crlf.message).toStartWith('/w/.qwen/settings.json:3:3: ');
  // Old Mac line endings: a lone \r ends a line too.
  const cr = errorOf(() => load({ [paths.userSettings]: '{\r  "a": 1\r  "b": 2}' }));
  expect(cr.message).toStartWith('/h/.qwen/settings.json:3:3: ');
});

test("Qwen Code's flat layout is read where its keys are: model, selectedAuthType, excludedProjectEnvVars, ...", () => {
  const loaded = load(
    {
      [paths.userSettings]: JSON.stringify({
        model: 'm-flat',
        selectedAuthType: 'openai',
        enforcedAuthType: 'openai',
        useExternalAuth: false,
        contentGenerator: { timeout: 1000 },
        excludedProjectEnvVars: ['FOO'],
        theme: 'Default',
        env: { KEY: '$FOO' },
      }),
    },
    { FOO: 'from-env' },
  );
  expect(loaded.merged.model).toEqual({ name: 'm-flat', generationConfig: { timeout: 1000 } });
  expect(loaded.merged.security).toEqual({
    auth: { selectedType: 'openai', enforcedType: 'openai', useExternal: false },
  });
  expect(loaded.merged.advanced).toEqual({ excludedEnvVars: ['FOO'] });
  expect(loaded.merged['theme']).toBe('Default');
  expect(loaded.merged['selectedAuthType']).toBeUndefined();

  // A nested value beside a flat one wins (the file was edited since); `$version` 3 or more: nothing is flat.
  const both = load({
    [paths.userSettings]: JSON.stringify({
      selectedAuthType: 'gemini',
      security: { auth: { selectedType: 'openai' } },
    }),
  });
  expect(both.merged.security?.auth?.selectedType).toBe('openai');
  const versioned = load({
    [paths.userSettings]: JSON.stringify({ $version: 3, selectedAuthType: 'gemini' }),
  });
  expect(versioned.merged.security).toBeUndefined();
  expect(versioned.merged['selectedAuthType']).toBe('gemini');
  // A lower scope's nested model.name is overridden by a higher scope's flat model, as Qwen Code merges them.
  const scopes = load({
    [paths.userSettings]: '{ "model": { "name": "user", "baseUrl": "b" } }',
    [paths.workspaceSettings!]: '{ "model": "workspace" }',
  });
  expect(scopes.merged.model).toEqual({ name: 'workspace', baseUrl: 'b' });
});

test('a wrong type under a flat key names the key the file has', () => {
  const message = (value: unknown) =>
    errorOf(() => load({ [paths.userSettings]: JSON.stringify(value) })).message;
  expect(message({ model: 7 })).toBe('/h/.qwen/settings.json: model: expected a string; found 7');
  expect(message({ selectedAuthType: 'openai-chat' })).toContain(
    'selectedAuthType: expected one of openai, anthropic, gemini, vertex-ai, qwen-oauth, openai-responses',
  );
  expect(message({ contentGenerator: { timeout: '30s' } })).toContain(
    'contentGenerator.timeout: expected a whole number of milliseconds (0 for none); found "30s"',
  );
});

test('each kind of syntax error is said in words (jsonc-parser error codes mapped by number)', () => {
  const said = (text: string) =>
    errorOf(() => load({ [paths.userSettings]: text })).message.replace(/^.*settings\.json:\d+:\d+: /, '');
  expect(said('{"a": }')).toBe('expected a value');
  expect(said('{"a" 1}')).toBe('expected a colon after the property name');
  expect(said('{a: 1}')).toBe('unexpected character');
  expect(said('{1: 2}')).toBe('expected a property name in double quotes');
  expect(said('{"a": 1.}')).toBe('number is not complete');
  expect(said('{"a": "\\u12"}')).toBe('invalid unicode escape');
  expect(said('{"a": "x\ty"}')).toBe('invalid character in a string');
  expect(said('{"a": "open')).toBe('string is not closed');
  expect(said('{"a": 1 /* open')).toBe('comment is not closed');
  expect(said('{"a": [1, 2')).toBe('expected a closing bracket "]"');
  expect(said('{"a": 1')).toBe('expected a closing brace "}"');
  expect(said('{"a": 1} 2')).toBe('unexpected text after the end of the JSON value');
  expect(said('{"a": "\\q"}')).toBe('invalid escape character');
});

test('a modelProviders entry without id names the JSON path and what was expected', () => {
  const text = JSON.stringify({ modelProviders: { openai: [{ id: 'ok' }, { name: 'no id' }] } });
  const error = errorOf(() => load({ [paths.userSettings]: text }));
  expect(error.exitCode).toBe(52);
  expect(error.message).toBe(
    '/h/.qwen/settings.json: modelProviders.openai[1].id: expected a string (every model entry needs an "id"); it is missing',
  );
});

test('wrong types name the path: numbers, records, arrays, enums', () => {
  const message = (value: unknown) =>
    errorOf(() => load({ [paths.userSettings]: JSON.stringify(value) })).message;
  expect(
    message({ modelProviders: { 'vertex-ai': [{ id: 'g', generationConfig: { timeout: '30s' } }] } }),
  ).toBe(
    '/h/.qwen/settings.json: modelProviders.vertex-ai[0].generationConfig.timeout: expected a whole number of milliseconds (0 for none); found "30s"',
  );
  expect(message({ modelProviders: { openai: { protocol: 'openai' } } })).toContain(
    'modelProviders.openai: expected an array of model entries (or the old { "protocol", "models": [ … ] } form); found an object',
  );
  expect(message({ model: { name: [] } })).toContain('model.name: expected a string; found an empty array');
  expect(message({ env: { PORT: 8080 } })).toContain('env.PORT: expected a string; found 8080');
  expect(message({ security: { auth: { selectedType: 'openai-chat' } } })).toContain(
    'security.auth.selectedType: expected one of openai, anthropic, gemini, vertex-ai, qwen-oauth, openai-responses',
  );
  expect(message({ modelProviders: { openai: [{ id: 'x', wireApi: 'chat' }] } })).toContain(
    'modelProviders.openai[0].wireApi: expected one of chat-completions, responses',
  );
  expect(
    message({ modelProviders: { openai: [{ id: 'x', generationConfig: { customHeaders: { 'X-A': 1 } } }] } }),
  ).toContain('modelProviders.openai[0].generationConfig.customHeaders.X-A: expected a string');
  expect(message([1, 2])).toContain('(top level): expected a JSON object at the top level');
  expect(message(null)).toBe(
    '/h/.qwen/settings.json: (top level): expected a JSON object at the top level; found null',
  );
  expect(message({ a: 1, proxy: 1, model: 2 })).toContain('(and 1 more problem)');
});

test('a string where an object was expected is never quoted back: it may be a key pasted in the wrong place', () => {
  const message = (value: unknown) =>
    errorOf(() => load({ [paths.userSettings]: JSON.stringify(value) })).message;
  const key = 'sk-proj-REALSECRETabcdef1234567890';
  const header = {
    modelProviders: {
      openai: [{ id: 'x', generationConfig: { customHeaders: `Authorization: Bearer ${key}` } }],
    },
  };
  for (const [settings, said] of [
    [{ env: `OPENAI_API_KEY=${key}` }, 'env: expected an object of strings; found a string'],
    [{ security: { auth: key } }, 'security.auth: expected an object; found a string'],
    [
      header,
      'modelProviders.openai[0].generationConfig.customHeaders: expected an object of strings; found a string',
    ],
    [{ security: { auth: { selectedType: key } } }, 'found a string'],
    [{ env: '' }, 'env: expected an object of strings; found an empty string'],
  ] as const) {
    const text = message(settings);
    expect(text).toContain(said);
    expect(text).not.toContain('REALSECRET');
  }
  // A short misspelt name or number is worth seeing.
  expect(message({ security: { auth: { selectedType: 'openAI' } } })).toContain('; found "openAI"');
});

test('an array where an object of keys goes (extra_body, customHeaders, env) is refused, not read as {"0": ...}', () => {
  const generation = (config: object) => ({
    modelProviders: { openai: [{ id: 'x', generationConfig: config }] },
  });
  const problems = (value: object) => {
    const result = validateSettings(value);
    return result.success ? [] : result.problems;
  };
  expect(problems(generation({ extra_body: [1] }))).toEqual([
    'modelProviders.openai[0].generationConfig.extra_body: expected an object; found an array',
  ]);
  expect(problems(generation({ customHeaders: ['X-A: b'] }))).toEqual([
    'modelProviders.openai[0].generationConfig.customHeaders: expected an object of strings; found an array',
  ]);
  expect(problems({ env: ['OPENAI_API_KEY=k'] })).toEqual([
    'env: expected an object of strings; found an array',
  ]);
  expect(problems(generation({ extra_body: { enable_thinking: true } }))).toEqual([]);
});

/** The exit-52 message of a user settings file whose one openai entry has this generationConfig. */
function generationConfigMessage(generationConfig: object): string {
  return errorOf(() =>
    load({
      [paths.userSettings]: JSON.stringify({
        modelProviders: { openai: [{ id: 'x', generationConfig }] },
      }),
    }),
  ).message;
}

function acceptsGenerationConfig(generationConfig: object): boolean {
  return validateSettings({ modelProviders: { openai: [{ id: 'x', generationConfig }] } }).success;
}

test('maxRetries is a count up to 100: a fraction, a negative number or an endless one names the path', () => {
  const message = (maxRetries: unknown) => generationConfigMessage({ maxRetries });
  const path = 'modelProviders.openai[0].generationConfig.maxRetries: expected a whole number from 0 to 100';
  expect(message(1.5)).toContain(`${path}; found 1.5`);
  expect(message(-1)).toContain(`${path}; found -1`);
  expect(message('3')).toContain(`${path}; found "3"`);
  expect(message(1_000_000_000)).toBe(`${paths.userSettings}: ${path}; found 1000000000`);
  expect(acceptsGenerationConfig({ maxRetries: 0 })).toBe(true);
  expect(acceptsGenerationConfig({ maxRetries: 100 })).toBe(true);
  expect(acceptsGenerationConfig({ maxRetries: 101 })).toBe(false);
});

test('timeout is whole milliseconds (0 or less: none, as in Qwen Code); a fraction names the path', () => {
  expect(generationConfigMessage({ timeout: 1.5 })).toBe(
    `${paths.userSettings}: modelProviders.openai[0].generationConfig.timeout: expected a whole number of milliseconds (0 for none); found 1.5`,
  );
  expect(generationConfigMessage({ timeout: '30s' })).toContain('found "30s"');
  // Qwen Code reads -1 as no timeout: a file written for it still loads (resolve says so in a note).
  for (const timeout of [0, -1, 120000]) expect(acceptsGenerationConfig({ timeout })).toBe(true);
});

test('samplingParams.max_tokens is a whole number of tokens; the other parameters are left to the server', () => {
  const path = 'modelProviders.openai[0].generationConfig.samplingParams.max_tokens';
  for (const max_tokens of [-5, 0, 10.5]) {
    expect(generationConfigMessage({ samplingParams: { max_tokens } })).toBe(
      `${paths.userSettings}: ${path}: expected a whole number of tokens, 1 or more; found ${max_tokens}`,
    );
  }
  // Domains differ between providers (temperature up to 1 or 2, vLLM's top_k -1 for "off").
  expect(
    acceptsGenerationConfig({ samplingParams: { max_tokens: 8192, temperature: 1.7, top_k: -1, top_p: 0 } }),
  ).toBe(true);
  const model = validateSettings({ model: { generationConfig: { samplingParams: { max_tokens: -5 } } } });
  expect(model.success ? [] : model.problems).toEqual([
    'model.generationConfig.samplingParams.max_tokens: expected a whole number of tokens, 1 or more; found -5',
  ]);
});

test('every auth type Qwen Code accepts loads, openai-responses and wireApi included', () => {
  for (const type of ['openai', 'openai-responses', 'anthropic', 'qwen-oauth', 'gemini', 'vertex-ai']) {
    const result = validateSettings({
      security: { auth: { selectedType: type, enforcedType: type } },
      modelProviders: {
        openai: [
          { id: 'a', wireApi: 'responses' },
          { id: 'b', wireApi: 'chat-completions' },
        ],
      },
    });
    expect(result.success).toBe(true);
  }
});

test('the old { protocol, models } modelProviders wrapper reads as the entries it wraps', () => {
  const entries = [{ id: 'gpt-4o', envKey: 'K', baseUrl: 'http://x/v1', custom: true }];
  const text = JSON.stringify({
    modelProviders: { openai: { protocol: 'openai', models: entries }, anthropic: [{ id: 'c' }] },
  });
  const loaded = load({ [paths.userSettings]: text });
  expect(loaded.merged.modelProviders).toEqual({ openai: entries, anthropic: [{ id: 'c' }] });
  // A broken entry inside the wrapper still names what is wrong.
  expect(
    errorOf(() =>
      load({ [paths.userSettings]: JSON.stringify({ modelProviders: { openai: { models: [{}] } } }) }),
    ).message,
  ).toContain('modelProviders.openai.models[0].id: expected a string');
  // The path is the one written in the file, past a good entry and inside the entry too.
  const wrapped = { modelProviders: { openai: { protocol: 'openai', models: [{ id: 'ok' }, { id: 3 }] } } };
  expect(errorOf(() => load({ [paths.userSettings]: JSON.stringify(wrapped) })).message).toContain(
    'modelProviders.openai.models[1].id: expected a string',
  );
  const badTimeout = {
    modelProviders: { openai: { models: [{ id: 'a', generationConfig: { timeout: 'x' } }] } },
  };
  expect(errorOf(() => load({ [paths.userSettings]: JSON.stringify(badTimeout) })).message).toContain(
    'modelProviders.openai.models[0].generationConfig.timeout: expected a whole number of milliseconds',
  );
  // The array form keeps its path.
  const array = { modelProviders: { openai: [{ id: 'ok' }, { id: 3 }] } };
  expect(errorOf(() => load({ [paths.userSettings]: JSON.stringify(array) })).message).toContain(
    'modelProviders.openai[1].id: expected a string',
  );
});

test('validateSettings returns every problem', () => {
  const result = validateSettings({ model: { name: 3 }, proxy: false });
  expect(result.success).toBe(false);
  if (!result.success) expect(result.problems).toHaveLength(2);
});

test('a file nested deeper than the parser can go is a config error naming it, not a crash', () => {
  const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
  expect(errorOf(() => parseSettingsText(deep, '/p/settings.json'))).toMatchObject({
    exitCode: 52,
    message: '/p/settings.json: nested too deeply to read (objects or arrays inside each other).',
  });
});

test('real files: missing is undefined, a directory is a config error, nothing is renamed', () => {
  const directory = mkdtempSync(join(tmpdir(), 'qwen-settings-'));
  expect(readTextFileIfPresent(join(directory, 'missing.json'))).toBeUndefined();
  expect(readTextFileIfPresent(join(directory, 'missing', 'deeper.json'))).toBeUndefined();
  // A path no file can have (a name too long): as absent, not an error.
  expect(readTextFileIfPresent(join(directory, 'x'.repeat(300), 'settings.json'))).toBeUndefined();
  const asDirectory = join(directory, 'settings.json');
  mkdirSync(asDirectory);
  expect(oneLine(errorOf(() => readTextFileIfPresent(asDirectory)))).toBe(
    `${asDirectory}: cannot read the file (it is a directory). Move or rename that directory (${asDirectory} must be a file), then try again.`,
  );
  // A link that leads back to itself (a dotfile manager's mistake): said in words, with what to do.
  const looping = join(directory, 'looping.json');
  symlinkSync(looping, looping);
  expect(oneLine(errorOf(() => readTextFileIfPresent(looping)))).toBe(
    `${looping}: cannot read the file (a symbolic link on its path leads in a loop). Point the link at a real file, or remove it (ls -l ${looping} shows where it leads), then try again.`,
  );
  rmSync(looping);
  // A pipe would block the read for good (no writer ever comes): refused without opening it.
  const fifo = join(directory, 'fifo.json');
  if (Bun.spawnSync(['mkfifo', fifo]).exitCode === 0) {
    expect(errorOf(() => readTextFileIfPresent(fifo))).toMatchObject({
      exitCode: 52,
      message: `${fifo}: not a regular file (a pipe or a device); settings must be a file.`,
    });
    rmSync(fifo);
  }

  const broken = join(directory, 'broken.json');
  writeFileSync(broken, '{ "a": ');
  const realPaths = { ...paths, userSettings: broken, workspaceSettings: undefined };
  expect(() => loadSettings(realPaths, { env: {} })).toThrow(CliError);
  expect(readFileSync(broken, 'utf8')).toBe('{ "a": ');
  expect(readdirSync(directory).sort()).toEqual(['broken.json', 'settings.json']);
});
