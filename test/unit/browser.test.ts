import { expect, test } from 'bun:test';
import {
  browserCommand,
  browserUnavailableReason,
  canOpenBrowser,
  openBrowser,
} from '../../src/auth/browser.ts';

const withOpener = { commandExists: () => true };
const desktopLinux = { env: { DISPLAY: ':0' }, platform: 'linux' as const, ...withOpener };

test('a browser is opened only where one can appear', () => {
  expect(canOpenBrowser(desktopLinux)).toBe(true);
  expect(canOpenBrowser({ env: { WAYLAND_DISPLAY: 'wayland-0' }, platform: 'linux', ...withOpener })).toBe(
    true,
  );
  expect(canOpenBrowser({ env: {}, platform: 'darwin' })).toBe(true);
  expect(canOpenBrowser({ env: {}, platform: 'win32' })).toBe(true);

  expect(browserUnavailableReason({ env: {}, platform: 'linux' })).toContain('no graphical display');
  expect(browserUnavailableReason({ env: { DISPLAY: ':0', NO_BROWSER: '1' }, platform: 'linux' })).toBe(
    'NO_BROWSER is set',
  );
  expect(browserUnavailableReason({ env: { CI: 'true' }, platform: 'darwin' })).toBe('running in CI');
  expect(browserUnavailableReason({ env: { SSH_CONNECTION: '1 2 3 4' }, platform: 'darwin' })).toBe(
    'connected over SSH',
  );
  expect(browserUnavailableReason({ env: { DISPLAY: ':0', SSH_TTY: '/dev/pts/1' }, platform: 'linux' })).toBe(
    'connected over SSH',
  );
  // An empty variable is an unset one (`NO_BROWSER= qwen ...`).
  expect(
    canOpenBrowser({ env: { DISPLAY: ':0', NO_BROWSER: '', CI: '' }, platform: 'linux', ...withOpener }),
  ).toBe(true);
  // A desktop without xdg-open: nothing would open, so nothing is said to have opened.
  expect(browserUnavailableReason({ env: { DISPLAY: ':0', PATH: '/nonexistent' }, platform: 'linux' })).toBe(
    'xdg-open is not installed',
  );
  expect(
    browserUnavailableReason({ env: { DISPLAY: ':0' }, platform: 'linux', commandExists: () => false }),
  ).toBe('xdg-open is not installed');
});

test('the platform opener: xdg-open, open, start', () => {
  expect(browserCommand('https://x.test/a', 'linux')).toEqual({
    command: 'xdg-open',
    args: ['https://x.test/a'],
  });
  expect(browserCommand('https://x.test/a', 'darwin')).toEqual({
    command: 'open',
    args: ['https://x.test/a'],
  });
  expect(browserCommand('https://x.test/a?b=1&c=2', 'win32').args.at(-1)).toBe(
    'start "" "https://x.test/a?b=1&c=2"',
  );
});

test('openBrowser launches detached where allowed, never throws, and refuses odd URLs', () => {
  const launched: string[][] = [];
  const launch = (command: string, args: string[]) => {
    launched.push([command, ...args]);
  };
  expect(openBrowser('https://chat.qwen.ai/authorize?user_code=A"B', desktopLinux, launch)).toBe(true);
  expect(launched).toEqual([['xdg-open', 'https://chat.qwen.ai/authorize?user_code=A%22B']]);

  expect(openBrowser('https://x.test', { env: {}, platform: 'linux' }, launch)).toBe(false);
  expect(openBrowser('file:///etc/passwd', desktopLinux, launch)).toBe(false);
  expect(openBrowser('not a url', desktopLinux, launch)).toBe(false);
  expect(launched).toHaveLength(1);

  const failing = () => {
    throw new Error('spawn ENOENT');
  };
  expect(openBrowser('https://x.test', desktopLinux, failing)).toBe(false);
});
