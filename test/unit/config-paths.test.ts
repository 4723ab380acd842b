import { expect, test } from 'bun:test';
import { configPaths } from '../../src/config/paths.ts';

const linux = { cwd: '/home/user/project', home: '/home/user', platform: 'linux' as const };

test('defaults live under ~/.qwen and /etc/qwen-code', () => {
  const paths = configPaths({ ...linux, env: {} });
  expect(paths).toEqual({
    qwenHome: '/home/user/.qwen',
    userSettings: '/home/user/.qwen/settings.json',
    workspaceSettings: '/home/user/project/.qwen/settings.json',
    systemSettings: '/etc/qwen-code/settings.json',
    systemDefaults: '/etc/qwen-code/system-defaults.json',
    oauthCreds: '/home/user/.qwen/oauth_creds.json',
    oauthLock: '/home/user/.qwen/oauth_creds.lock',
    history: '/home/user/.qwen/history',
  });
});

test('QWEN_HOME moves the user files; ~ and relative values are made absolute', () => {
  expect(configPaths({ ...linux, env: { QWEN_HOME: '/opt/q' } }).userSettings).toBe('/opt/q/settings.json');
  expect(configPaths({ ...linux, env: { QWEN_HOME: '~/alt' } }).oauthCreds).toBe(
    '/home/user/alt/oauth_creds.json',
  );
  expect(configPaths({ ...linux, env: { QWEN_HOME: 'conf' } }).qwenHome).toBe('/home/user/project/conf');
  expect(configPaths({ ...linux, env: { QWEN_HOME: '' } }).qwenHome).toBe('/home/user/.qwen');
});

test('no workspace file when cwd is home, or when it would be the user file', () => {
  expect(configPaths({ ...linux, cwd: '/home/user', env: {} }).workspaceSettings).toBeUndefined();
  expect(configPaths({ ...linux, cwd: '/home/user/', env: {} }).workspaceSettings).toBeUndefined();
  const sameAsUser = configPaths({ ...linux, env: { QWEN_HOME: '/home/user/project/.qwen' } });
  expect(sameAsUser.workspaceSettings).toBeUndefined();
});

test('home or QWEN_HOME reached through a symlink is recognised: real paths are compared', () => {
  // HOME=/links/user -> /home/user, and QWEN_HOME=/links/conf -> /home/user/project/.qwen.
  const links: Record<string, string> = {
    '/links/user': '/home/user',
    '/links/conf': '/home/user/project/.qwen',
  };
  const looked: string[] = [];
  const realPath = (path: string) => {
    looked.push(path);
    return links[path] ?? path;
  };
  const throughLink = configPaths({ ...linux, cwd: '/home/user', home: '/links/user', env: {}, realPath });
  expect(throughLink.workspaceSettings).toBeUndefined();
  const userThroughLink = configPaths({ ...linux, env: { QWEN_HOME: '/links/conf' }, realPath });
  expect(userThroughLink.workspaceSettings).toBeUndefined();
  // An ordinary project is still a workspace; without QWEN_HOME only home is looked up (cwd comes from
  // process.cwd(), already real).
  looked.length = 0;
  expect(configPaths({ ...linux, env: {}, realPath }).workspaceSettings).toBe(
    '/home/user/project/.qwen/settings.json',
  );
  expect(looked).toEqual(['/home/user']);
  // Equal as text: no look-up at all.
  looked.length = 0;
  configPaths({ ...linux, cwd: '/home/user', env: {}, realPath });
  expect(looked).toEqual([]);
});

test('system settings per platform and from the override variables', () => {
  expect(configPaths({ ...linux, platform: 'darwin', env: {} }).systemSettings).toBe(
    '/Library/Application Support/QwenCode/settings.json',
  );
  const windows = configPaths({ cwd: 'C:\\work', home: 'C:\\Users\\u', platform: 'win32', env: {} });
  expect(windows.systemSettings).toBe('C:\\ProgramData\\qwen-code\\settings.json');
  expect(windows.systemDefaults).toBe('C:\\ProgramData\\qwen-code\\system-defaults.json');
  expect(windows.userSettings).toBe('C:\\Users\\u\\.qwen\\settings.json');

  const overridden = configPaths({
    ...linux,
    env: { QWEN_CODE_SYSTEM_SETTINGS_PATH: '/srv/qwen/system.json' },
  });
  expect(overridden.systemSettings).toBe('/srv/qwen/system.json');
  expect(overridden.systemDefaults).toBe('/srv/qwen/system-defaults.json');
  const defaults = configPaths({ ...linux, env: { QWEN_CODE_SYSTEM_DEFAULTS_PATH: '/srv/defaults.json' } });
  expect(defaults.systemDefaults).toBe('/srv/defaults.json');
});
