import { expect, test } from 'bun:test';
import { runAuthCommand, showAuthorization } from '../../src/cli/auth-command.ts';
import type { RunContext } from '../../src/cli/context.ts';

const authorization = {
  deviceCode: 'd',
  userCode: 'WXYZ-0001',
  verificationUri: 'https://chat.qwen.ai/authorize',
  verificationUriComplete: 'https://chat.qwen.ai/authorize?user_code=WXYZ-0001&client=qwen-code',
  expiresInSeconds: 600,
};

function shown(
  stderrIsTerminal: boolean,
  env: Record<string, string> = { NO_BROWSER: '1' },
  columns?: number,
): string {
  const lines: string[] = [];
  showAuthorization(
    authorization,
    { env, writeError: (line) => lines.push(line) },
    { platform: 'linux', stderrIsTerminal, columns },
  );
  return lines.join('\n');
}

test('URL and code always; the QR code only when stderr is a terminal', () => {
  const piped = shown(false);
  expect(piped).toContain(authorization.verificationUriComplete);
  expect(piped).toContain('Code: WXYZ-0001 (valid for about 10 min)');
  expect(piped).not.toContain('▀');
  expect(piped).toContain('No browser opened: NO_BROWSER is set');

  const terminal = shown(true);
  expect(terminal).toContain('Scan this QR code');
  expect(terminal).toContain('\u001b[30;107m');
  // NO_COLOR: the same code without escape sequences.
  expect(shown(true, { NO_BROWSER: '1', NO_COLOR: '1' })).not.toContain('\u001b[');
});

test('a terminal narrower than the QR code gets a note instead of rows that wrap into noise', () => {
  const wide = shown(true, { NO_BROWSER: '1' }, 80);
  expect(wide).toContain('Scan this QR code');
  const width = (wide.split('\n').find((line) => line.includes('▀')) ?? '').replace(
    /\u001b\[[0-9;]*m/g,
    '',
  ).length;
  expect(shown(true, { NO_BROWSER: '1' }, width)).toContain('Scan this QR code');
  const narrow = shown(true, { NO_BROWSER: '1' }, width - 1);
  expect(narrow).not.toContain('▀');
  expect(narrow).toContain(
    `(The QR code is left out: it needs ${width} columns and the terminal has ${width - 1}.)`,
  );
  // The link and the code are there either way.
  expect(narrow).toContain(authorization.verificationUriComplete);
  expect(narrow).toContain('Code: WXYZ-0001');
});

test('the URL and the code come after the QR code: a screen too low for it still shows them', () => {
  const lines = shown(true, { NO_BROWSER: '1' }, 120).split('\n');
  const lastQrRow = lines.findLastIndex((line) => line.includes('▀'));
  expect(lines.findIndex((line) => line.includes(authorization.verificationUriComplete))).toBeGreaterThan(
    lastQrRow,
  );
  expect(lines.slice(-3)).toEqual([
    'Code: WXYZ-0001 (valid for about 10 min)',
    '(No browser opened: NO_BROWSER is set.)',
    'Waiting for approval... (Ctrl+C to cancel)',
  ]);
});

test('over SSH the reason for not opening a browser is said', () => {
  expect(shown(false, { SSH_CONNECTION: '10.0.0.1 1 10.0.0.2 22', DISPLAY: ':0' })).toContain(
    'No browser opened: connected over SSH',
  );
});

test('-o json is for `qwen auth status` only; any other format or action is exit 42 before anything runs', async () => {
  const untouched = {} as RunContext;
  for (const [action, outputFormat] of [
    ['logout', 'json'],
    ['qwen-oauth', 'json'],
    ['status', 'stream-json'],
    ['status', 'yaml'],
  ] as const) {
    await expect(runAuthCommand(action, { outputFormat }, untouched)).rejects.toMatchObject({
      exitCode: 42,
      message: expect.stringContaining(`only \`qwen auth status\` also prints json, not "${outputFormat}"`),
    });
  }
});
