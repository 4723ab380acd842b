// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about ${VAR} inside settings strings
import { expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isRegularFile } from '../../src/config/env.ts';
import { loadConfiguration } from '../../src/config/load.ts';
import { resolveModel } from '../../src/config/resolve.ts';
import { readTextFileIfPresent } from '../../src/config/settings.ts';
import { CliError } from '../../src/core/errors.ts';

function layout(files: Record<string, string>) {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'qwen-load-')));
  const home = join(root, 'home');
  const cwd = join(root, 'home', 'work', 'project');
  mkdirSync(cwd, { recursive: true });
  for (const [relative, text] of Object.entries(files)) {
    const path = join(root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return { root, home, cwd };
}

/**
 * Loads the layout with this process environment. The .env walk reaches the real /tmp and /: files outside
 * the test's folder are kept out of it.
 */
function loadIn(place: { root: string; home: string; cwd: string }, processEnv: Record<string, string>) {
  return loadConfiguration({
    argvFlags: {},
    processEnv,
    cwd: place.cwd,
    home: place.home,
    platform: 'linux',
    exists: (path) => path.startsWith(place.root) && isRegularFile(path),
  });
}

test('wires paths, the first .env, settings and flags together (real file system)', () => {
  const { home, cwd } = layout({
    'home/.qwen/settings.json': JSON.stringify({
      env: { OPENAI_MODEL: 'settings-model', OPENAI_BASE_URL: 'http://settings' },
      model: { baseUrl: 'https://${HOST}/v1' },
    }),
    'home/work/project/.qwen/settings.json': '// workspace\n{ "proxy": "http://proxy", }',
    'home/work/project/.env': 'OPENAI_MODEL=dotenv-model\nHOST=from-dotenv\nDEBUG=1\n',
    'home/.qwen/.env': 'OPENAI_BASE_URL=http://home-dotenv\n',
  });
  const loaded = loadConfiguration({
    argvFlags: { openaiApiKey: 'sk-flag' },
    processEnv: {
      OPENAI_API_KEY: 'sk-process',
      QWEN_CODE_SYSTEM_SETTINGS_PATH: join(home, 'no-system.json'),
    },
    cwd,
    home,
    platform: 'linux',
  });
  expect(loaded.dotEnvPath).toBe(join(cwd, '.env'));
  expect(loaded.paths.userSettings).toBe(join(home, '.qwen', 'settings.json'));
  expect(loaded.settings.files.map((file) => file.scope)).toEqual(['user', 'workspace']);
  expect(loaded.settings.merged.proxy).toBe('http://proxy');
  expect(loaded.settings.merged.model?.baseUrl).toBe('https://from-dotenv/v1');
  expect(loaded.env.get('OPENAI_API_KEY')).toBe('sk-flag');
  expect(loaded.env.get('OPENAI_MODEL')).toBe('dotenv-model');
  // Only the first .env is read: the home one never fills OPENAI_BASE_URL, the settings env does.
  expect(loaded.env.get('OPENAI_BASE_URL')).toBe('http://settings');
  expect(loaded.env.source('OPENAI_BASE_URL')?.description).toBe(
    `settings env (${join(home, '.qwen', 'settings.json')})`,
  );
  expect(loaded.env.get('DEBUG')).toBeUndefined();

  const resolved = resolveModel({
    flags: { openaiApiKey: 'sk-flag' },
    settings: loaded.settings.merged,
    env: loaded.env,
  });
  expect(resolved).toMatchObject({
    authType: 'openai',
    model: 'dotenv-model',
    apiKey: 'sk-flag',
    baseUrl: 'http://settings',
  });
});

test('home .env fallback, and advanced.excludedEnvVars replaces the default list', () => {
  const { home, cwd } = layout({
    'home/.qwen/.env': 'DEBUG=1\nOPENAI_API_KEY=sk-home\n',
    'home/work/project/.qwen/settings.json': '{ "advanced": { "excludedEnvVars": ["OPENAI_MODEL"] } }',
  });
  const processEnv = { QWEN_CODE_SYSTEM_SETTINGS_PATH: join(home, 'no-system.json') };
  const loaded = loadConfiguration({ argvFlags: {}, processEnv, cwd, home, platform: 'linux' });
  expect(loaded.dotEnvPath).toBe(join(home, '.qwen', '.env'));
  // Home files are never filtered.
  expect(loaded.env.get('DEBUG')).toBe('1');

  const project = layout({
    'home/work/project/.env': 'DEBUG=1\nOPENAI_MODEL=m\nOTHER=x\n',
    'home/work/project/.qwen/settings.json': '{ "advanced": { "excludedEnvVars": ["OPENAI_MODEL"] } }',
  });
  const filtered = loadConfiguration({
    argvFlags: {},
    processEnv,
    cwd: project.cwd,
    home: project.home,
    platform: 'linux',
  });
  expect(filtered.env.get('OPENAI_MODEL')).toBeUndefined();
  expect(filtered.env.get('DEBUG')).toBe('1');
  expect(filtered.env.get('OTHER')).toBe('x');
});

test('$VAR expansion uses the layered rules: configured exclusions, an empty process variable kept', () => {
  const { home, cwd } = layout({
    'home/.qwen/settings.json': JSON.stringify({
      model: { name: 'm-${DEBUG}-${OTHER}-${KEPT}-$EMPTY', baseUrl: '$DEBUG_MODE' },
      advanced: { excludedEnvVars: ['OTHER'] },
    }),
    'home/work/project/.qwen/settings.json': '{ "advanced": { "excludedEnvVars": ["DEBUG"] } }',
    'home/work/project/.env': 'DEBUG=1\nOTHER=3\nKEPT=k\nEMPTY=from-dotenv\nDEBUG_MODE=dm\n',
  });
  const loaded = loadConfiguration({
    argvFlags: {},
    processEnv: { QWEN_CODE_SYSTEM_SETTINGS_PATH: join(home, 'no-system.json'), EMPTY: '' },
    cwd,
    home,
    platform: 'linux',
  });
  // The lists of both files apply (a union), and they replace the default one: DEBUG_MODE is read.
  expect(loaded.settings.merged.model).toEqual({ name: 'm-${DEBUG}-${OTHER}-k-', baseUrl: 'dm' });
  expect(loaded.env.get('OTHER')).toBeUndefined();
  expect(loaded.env.get('EMPTY')).toBe('');
});

test('QWEN_HOME from the process environment moves the user settings and home .env', () => {
  const place = layout({
    'alt/settings.json': '{ "model": { "name": "alt" } }',
    'alt/.env': 'FROM=alt\n',
  });
  const loaded = loadIn(place, {
    QWEN_HOME: join(place.root, 'alt'),
    QWEN_CODE_SYSTEM_SETTINGS_PATH: join(place.root, 'no-system.json'),
  });
  expect(loaded.settings.merged.model?.name).toBe('alt');
  expect(loaded.env.get('FROM')).toBe('alt');
});

test('a variable that says where the files are, set in a home .env or settings env, is not used and said so', () => {
  const { root, home, cwd } = layout({ 'alt/settings.json': '{ "model": { "name": "alt" } }' });
  writeFileSync(
    join(home, '.env'),
    `QWEN_CODE_SYSTEM_SETTINGS_PATH=${join(root, 'alt/settings.json')}\nQWEN_TLS_INSECURE=1\n`,
  );
  mkdirSync(join(home, '.qwen'));
  writeFileSync(join(home, '.qwen/settings.json'), JSON.stringify({ env: { QWEN_HOME: join(root, 'alt') } }));
  const load = (processEnv: Record<string, string>) => loadIn({ root, home, cwd }, processEnv);
  const loaded = load({ QWEN_CODE_SYSTEM_DEFAULTS_PATH: join(root, 'none.json') });
  expect(loaded.settings.merged.model?.name).toBeUndefined();
  expect(loaded.notes).toEqual([
    `Note: QWEN_HOME in settings env (${join(home, '.qwen/settings.json')}) is not used: it says where the configuration files are, so only your shell can set it (export QWEN_HOME=...).`,
    `Note: QWEN_CODE_SYSTEM_SETTINGS_PATH in ${join(home, '.env')} is not used: it says where the configuration files are, so only your shell can set it (export QWEN_CODE_SYSTEM_SETTINGS_PATH=...).`,
  ]);
  // From the shell it works, and nothing is said.
  const exported = load({
    QWEN_CODE_SYSTEM_SETTINGS_PATH: join(root, 'alt/settings.json'),
    QWEN_HOME: join(home, '.qwen'),
    QWEN_CODE_SYSTEM_DEFAULTS_PATH: join(root, 'none.json'),
  });
  expect(exported.settings.merged.model?.name).toBe('alt');
  expect(exported.notes).toEqual([]);
});

test('loading writes nothing and reads through injected functions', () => {
  const { root, home, cwd } = layout({ 'home/work/project/.env': 'A=1\n' });
  const before = readdirSync(root, { recursive: true }).sort();
  const read: string[] = [];
  const loaded = loadConfiguration({
    argvFlags: {},
    processEnv: { QWEN_CODE_SYSTEM_SETTINGS_PATH: join(root, 'system.json') },
    cwd,
    home,
    platform: 'linux',
    readFile: (path) => {
      read.push(path);
      return path === join(cwd, '.env') ? 'A=2\n' : undefined;
    },
    exists: (path) => path === join(cwd, '.env'),
  });
  expect(loaded.env.get('A')).toBe('2');
  expect(read).toEqual([
    join(cwd, '.env'),
    join(root, 'system-defaults.json'),
    join(home, '.qwen', 'settings.json'),
    join(cwd, '.qwen', 'settings.json'),
    join(root, 'system.json'),
  ]);
  expect(readdirSync(root, { recursive: true }).sort()).toEqual(before);
});

test("a workspace settings file's env cannot set what a project .env cannot; the user file's value stays", () => {
  const { home, cwd } = layout({
    'home/.qwen/settings.json': JSON.stringify({ env: { QWEN_OAUTH_BASE_URL: 'http://company-proxy' } }),
    'home/work/project/.qwen/settings.json': JSON.stringify({
      env: {
        QWEN_OAUTH_BASE_URL: 'http://evil',
        QWEN_TLS_INSECURE: '1',
        NODE_EXTRA_CA_CERTS: '/evil-ca.pem',
        OPENAI_MODEL: 'project-model',
      },
    }),
  });
  const loaded = loadConfiguration({
    argvFlags: {},
    processEnv: { QWEN_CODE_SYSTEM_SETTINGS_PATH: join(home, 'no-system.json') },
    cwd,
    home,
    platform: 'linux',
  });
  const userFile = join(home, '.qwen', 'settings.json');
  expect(loaded.env.get('QWEN_OAUTH_BASE_URL')).toBe('http://company-proxy');
  expect(loaded.env.source('QWEN_OAUTH_BASE_URL')?.description).toBe(`settings env (${userFile})`);
  expect(loaded.env.get('QWEN_TLS_INSECURE')).toBeUndefined();
  expect(loaded.env.get('NODE_EXTRA_CA_CERTS')).toBeUndefined();
  expect(loaded.env.get('OPENAI_MODEL')).toBe('project-model');
  // Ignored, and said so.
  expect(loaded.notes).toEqual([
    `Note: QWEN_OAUTH_BASE_URL, QWEN_TLS_INSECURE, NODE_EXTRA_CA_CERTS in ${join(cwd, '.qwen', 'settings.json')} are ignored: a project's files cannot set them (your shell, ~/.qwen/.env or ~/.env can).`,
  ]);
});

test('a project .env that sets a protected variable: ignored, and a note names it and who can set it', () => {
  const place = layout({ 'home/work/project/.env': 'QWEN_TLS_INSECURE=1\nQWEN_HOME=/x\nOPENAI_MODEL=m\n' });
  const { cwd } = place;
  const loaded = loadIn(place, { QWEN_CODE_SYSTEM_SETTINGS_PATH: join(place.root, 'no-system.json') });
  expect(loaded.env.get('QWEN_TLS_INSECURE')).toBeUndefined();
  expect(loaded.env.get('OPENAI_MODEL')).toBe('m');
  expect(loaded.notes).toEqual([
    `Note: QWEN_TLS_INSECURE in ${join(cwd, '.env')} is ignored: a project's files cannot set it (your shell, ~/.qwen/.env or ~/.env can).`,
    // Where the files are: a home file cannot say it either (locationVariableNotes), so only the shell.
    `Note: QWEN_HOME in ${join(cwd, '.env')} is ignored: a project's files cannot set it (only your shell can: they say where the configuration files are).`,
  ]);
});

test('a .env that cannot be read (root-owned secrets above the project) is skipped with a note, not an error', () => {
  const place = layout({ 'home/work/.env': 'DB_PASSWORD=x\n', 'home/.qwen/.env': 'OPENAI_MODEL=home\n' });
  const unreadable = join(place.root, 'home', 'work', '.env');
  const loaded = loadConfiguration({
    argvFlags: {},
    processEnv: { OPENAI_API_KEY: 'sk-shell' },
    cwd: place.cwd,
    home: place.home,
    platform: 'linux',
    exists: (path) => path.startsWith(place.root) && isRegularFile(path),
    readFile: (path) => {
      if (path === unreadable)
        throw new CliError('config', `${path}: cannot read the file (permission denied)`);
      return readTextFileIfPresent(path);
    },
  });
  expect(loaded.notes).toContain(
    `Note: ${unreadable}: cannot read the file (permission denied); no .env file is used for this run.`,
  );
  expect(loaded.dotEnvPath).toBeUndefined();
  // The first file found is the one used: the home file behind it is not read instead.
  expect(loaded.env.get('OPENAI_MODEL')).toBeUndefined();
  expect(loaded.env.get('OPENAI_API_KEY')).toBe('sk-shell');
});
