import { expect, test } from 'bun:test';
import { findDotEnvFile, layerEnvironment } from '../../src/config/env.ts';

const home = '/home/user';
const qwenHome = '/home/user/.qwen';
const cwd = '/home/user/work/project/sub';

function finder(files: string[], overrides: { cwd?: string; qwenHome?: string } = {}) {
  const present = new Set(files);
  return findDotEnvFile({
    cwd: overrides.cwd ?? cwd,
    home,
    qwenHome: overrides.qwenHome ?? qwenHome,
    exists: (path) => present.has(path),
  });
}

test('.env search: .qwen/.env before .env in each directory, nearest directory first', () => {
  expect(finder(['/home/user/work/project/sub/.env', '/home/user/work/project/sub/.qwen/.env'])).toEqual({
    path: '/home/user/work/project/sub/.qwen/.env',
    isProject: true,
  });
  expect(finder(['/home/user/work/project/.qwen/.env', '/home/user/work/project/sub/.env'])).toEqual({
    path: '/home/user/work/project/sub/.env',
    isProject: true,
  });
  expect(finder(['/home/user/work/.env'])).toEqual({ path: '/home/user/work/.env', isProject: true });
});

test('.env search walks up to / (past home) before the home fallbacks', () => {
  expect(finder(['/.env', '/home/user/.qwen/.env'], { cwd: '/srv/app' })).toEqual({
    path: '/.env',
    isProject: true,
  });
  // Met on the way up, home's own files count as the user's, not the project's.
  expect(finder(['/home/user/.env'])).toEqual({ path: '/home/user/.env', isProject: false });
  expect(finder(['/home/user/.qwen/.env', '/home/user/.env'])).toEqual({
    path: '/home/user/.qwen/.env',
    isProject: false,
  });
});

test("home reached through a symlink: its files met on the way up are still the user's", () => {
  const found = findDotEnvFile({
    cwd: '/data/user/work',
    home: '/links/user',
    qwenHome: '/links/user/.qwen',
    exists: (path) => path === '/data/user/.env',
    realPath: (path) => (path === '/links/user' ? '/data/user' : path),
  });
  expect(found).toEqual({ path: '/data/user/.env', isProject: false });
});

test('home fallback: $QWEN_HOME/.env, then ~/.qwen/.env, then ~/.env', () => {
  const outside = { cwd: '/srv/app', qwenHome: '/opt/qwen' };
  expect(finder(['/opt/qwen/.env', '/home/user/.qwen/.env', '/home/user/.env'], outside)).toEqual({
    path: '/opt/qwen/.env',
    isProject: false,
  });
  expect(finder(['/home/user/.qwen/.env', '/home/user/.env'], outside)?.path).toBe('/home/user/.qwen/.env');
  expect(finder(['/home/user/.env'], outside)?.path).toBe('/home/user/.env');
  expect(finder([], outside)).toBeUndefined();
  // The same order from a directory under home, where the walk up meets the home directory first.
  const inside = { cwd: '/home/user/proj', qwenHome: '/opt/qwen' };
  expect(finder(['/opt/qwen/.env', '/home/user/.qwen/.env', '/home/user/.env'], inside)).toEqual({
    path: '/opt/qwen/.env',
    isProject: false,
  });
  expect(finder(['/home/user/proj/.env', '/opt/qwen/.env'], inside)).toEqual({
    path: '/home/user/proj/.env',
    isProject: true,
  });
});

test('each candidate is looked at once, even where the walk passes the home directory', () => {
  const looked: string[] = [];
  findDotEnvFile({
    cwd: '/home/user/proj',
    home: '/home/user',
    qwenHome: '/home/user/.qwen',
    exists: (path) => {
      looked.push(path);
      return false;
    },
    realPath: (path) => path,
  });
  expect(looked.length).toBe(new Set(looked).size);
  expect(looked).toContain('/home/user/.qwen/.env');
});

const noSettings = { values: {}, sources: {} };

test('precedence: flag > process environment > .env > settings env', () => {
  const env = layerEnvironment({
    flags: { OPENAI_API_KEY: 'flag-key' },
    processEnv: { OPENAI_API_KEY: 'process-key', OPENAI_BASE_URL: 'http://process' },
    dotEnv: {
      path: '/p/.env',
      isProject: true,
      values: {
        OPENAI_API_KEY: 'dotenv-key',
        OPENAI_BASE_URL: 'http://dotenv',
        OPENAI_MODEL: 'dotenv-model',
      },
    },
    settingsEnv: {
      values: { OPENAI_MODEL: 'settings-model', QWEN_MODEL: 'settings-qwen' },
      sources: { OPENAI_MODEL: '/u/settings.json', QWEN_MODEL: '/w/settings.json' },
    },
    excludedProjectVariables: ['DEBUG'],
  });
  expect(env.get('OPENAI_API_KEY')).toBe('flag-key');
  expect(env.source('OPENAI_API_KEY')).toEqual({
    description: 'flag --openai-api-key',
    name: 'OPENAI_API_KEY',
  });
  expect(env.get('OPENAI_BASE_URL')).toBe('http://process');
  expect(env.source('OPENAI_BASE_URL')?.description).toBe('environment');
  expect(env.get('OPENAI_MODEL')).toBe('dotenv-model');
  expect(env.source('OPENAI_MODEL')?.description).toBe('/p/.env');
  expect(env.get('QWEN_MODEL')).toBe('settings-qwen');
  expect(env.source('QWEN_MODEL')).toEqual({
    description: 'settings env (/w/settings.json)',
    name: 'QWEN_MODEL',
  });
  expect(env.get('MISSING')).toBeUndefined();
  expect(env.source('MISSING')).toBeUndefined();
});

test('a variable set in the environment, even empty, is never filled from below; an empty flag is no flag', () => {
  const env = layerEnvironment({
    flags: { OPENAI_API_KEY: undefined, OPENAI_BASE_URL: '' },
    processEnv: { OPENAI_API_KEY: '', OPENAI_BASE_URL: 'http://from-env' },
    dotEnv: {
      path: '/p/.env',
      isProject: false,
      values: { OPENAI_API_KEY: 'from-file', OPENAI_MODEL: '', UNSET_ABOVE: 'file' },
    },
    settingsEnv: {
      values: { OPENAI_MODEL: 'from-settings', ONLY_SETTINGS: 's' },
      sources: { OPENAI_MODEL: '/u/settings.json' },
    },
    excludedProjectVariables: [],
  });
  expect(env.get('OPENAI_API_KEY')).toBe('');
  expect(env.source('OPENAI_API_KEY')?.description).toBe('environment');
  expect(env.get('OPENAI_BASE_URL')).toBe('http://from-env');
  expect(env.get('UNSET_ABOVE')).toBe('file');
  // An empty value in the .env file is set too: settings env does not replace it.
  expect(env.get('OPENAI_MODEL')).toBe('');
  expect(env.get('ONLY_SETTINGS')).toBe('s');
});

test('DEBUG and DEBUG_MODE are ignored from a project .env, kept from .qwen/.env and home files', () => {
  const layered = (path: string, isProject: boolean) =>
    layerEnvironment({
      flags: {},
      processEnv: {},
      dotEnv: { path, isProject, values: { DEBUG: '1', DEBUG_MODE: 'true', OTHER: 'x' } },
      settingsEnv: { values: { DEBUG: 'settings' }, sources: { DEBUG: '/u/settings.json' } },
      excludedProjectVariables: ['DEBUG', 'DEBUG_MODE'],
    });
  const project = layered('/p/.env', true);
  expect(project.get('DEBUG')).toBe('settings');
  expect(project.get('DEBUG_MODE')).toBeUndefined();
  expect(project.get('OTHER')).toBe('x');
  expect(layered('/p/.qwen/.env', true).get('DEBUG')).toBe('1');
  expect(layered('/home/user/.env', false).get('DEBUG')).toBe('1');
  expect(layered('/home/user/.qwen/.env', false).get('DEBUG_MODE')).toBe('true');
});

test('a project .env can never set QWEN_HOME, TLS variables or the Qwen OAuth server; home files can', () => {
  const values = {
    QWEN_HOME: '/evil',
    QWEN_TLS_INSECURE: '1',
    NODE_EXTRA_CA_CERTS: '/ca',
    QWEN_OAUTH_BASE_URL: 'http://evil',
    OK: 'yes',
  };
  const layered = (path: string, isProject: boolean) =>
    layerEnvironment({
      flags: {},
      processEnv: {},
      dotEnv: { path, isProject, values },
      settingsEnv: noSettings,
      excludedProjectVariables: [],
    });
  const project = layered('/p/.qwen/.env', true);
  expect(project.get('QWEN_HOME')).toBeUndefined();
  expect(project.get('QWEN_TLS_INSECURE')).toBeUndefined();
  expect(project.get('NODE_EXTRA_CA_CERTS')).toBeUndefined();
  expect(project.get('QWEN_OAUTH_BASE_URL')).toBeUndefined();
  expect(project.get('OK')).toBe('yes');
  expect(layered('/home/user/.qwen/.env', false).get('QWEN_TLS_INSECURE')).toBe('1');
});
