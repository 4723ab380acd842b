// Where Qwen Code keeps its files, computed from the environment so that both tools read the same ones.
// Callers decide which of these files to read; the only file-system access is resolving symlinks when
// the working directory is compared with home (injectable, for tests).
import { posix, win32 } from 'node:path';
import { nonEmpty } from '../core/types.ts';
import { realPathOrSelf } from './real-path.ts';

export interface ConfigPaths {
  /** `$QWEN_HOME`, default `~/.qwen`. */
  qwenHome: string;
  userSettings: string;
  /** `<cwd>/.qwen/settings.json`; undefined when cwd is the home directory (it would be the user file). */
  workspaceSettings?: string;
  systemSettings: string;
  /** `$QWEN_CODE_SYSTEM_DEFAULTS_PATH`, else `system-defaults.json` beside the system settings file. */
  systemDefaults?: string;
  oauthCreds: string;
  oauthLock: string;
  /** REPL input history. */
  history: string;
}

export interface ConfigPathsInput {
  env: Record<string, string | undefined>;
  cwd: string;
  home: string;
  platform: NodeJS.Platform;
  /** Resolves symlinks; a path that cannot be resolved is returned as it is. The real file system by default. */
  realPath?: (path: string) => string;
}

const systemSettingsByPlatform: Partial<Record<NodeJS.Platform, string>> = {
  darwin: '/Library/Application Support/QwenCode/settings.json',
  win32: 'C:\\ProgramData\\qwen-code\\settings.json',
};
const linuxSystemSettings = '/etc/qwen-code/settings.json';

/** `$QWEN_HOME`, default `~/.qwen`, with the OAuth files in it: text only, no file-system look-up. */
/** The home directory as the environment names it (HOME, or USERPROFILE on Windows); undefined when it does not. */
export function homeFromEnvironment(): string | undefined {
  return (process.platform === 'win32' ? process.env['USERPROFILE'] : process.env['HOME']) || undefined;
}

function qwenHomeFiles(input: Omit<ConfigPathsInput, 'realPath'>) {
  const path = input.platform === 'win32' ? win32 : posix;
  const home = path.resolve(input.home);
  const cwd = path.resolve(input.cwd);
  const qwenHome =
    resolveUserPath(nonEmpty(input.env['QWEN_HOME']), { path, cwd, home }) ?? path.join(home, '.qwen');
  return {
    path,
    home,
    cwd,
    qwenHome,
    oauthCreds: path.join(qwenHome, 'oauth_creds.json'),
    oauthLock: path.join(qwenHome, 'oauth_creds.lock'),
  };
}

export function configPaths(input: ConfigPathsInput): ConfigPaths {
  const { path, home, cwd, qwenHome, oauthCreds, oauthLock } = qwenHomeFiles(input);
  const userSettings = path.join(qwenHome, 'settings.json');

  // Qwen Code skips the workspace file when cwd is home; with QWEN_HOME pointing at `<cwd>/.qwen` the two
  // would also be one file, and reading it twice would only make its errors appear twice. Either may be
  // reached through a symlink (Qwen Code starts from realpath(cwd)), so paths that differ as text are
  // compared again as real paths.
  const realPath = input.realPath ?? realPathOrSelf;
  const sameDirectory = (first: string, second: string) =>
    samePath(first, second, input.platform) || samePath(realPath(first), realPath(second), input.platform);
  const workspaceDirectory = path.join(cwd, '.qwen');
  // The working directory comes from process.cwd(), already a real path: only home is resolved, once a
  // run (each resolution costs system calls at start-up). Without QWEN_HOME the user directory is
  // `<home>/.qwen`, the workspace's only when cwd is home: no look-up more.
  const isHome = samePath(cwd, home, input.platform) || samePath(cwd, realPath(home), input.platform);
  const workspaceSettings =
    isHome || (nonEmpty(input.env['QWEN_HOME']) !== undefined && sameDirectory(workspaceDirectory, qwenHome))
      ? undefined
      : path.join(workspaceDirectory, 'settings.json');

  const systemSettings =
    resolveUserPath(nonEmpty(input.env['QWEN_CODE_SYSTEM_SETTINGS_PATH']), { path, cwd, home }) ??
    systemSettingsByPlatform[input.platform] ??
    linuxSystemSettings;
  const systemDefaults =
    resolveUserPath(nonEmpty(input.env['QWEN_CODE_SYSTEM_DEFAULTS_PATH']), { path, cwd, home }) ??
    path.join(path.dirname(systemSettings), 'system-defaults.json');

  return {
    qwenHome,
    userSettings,
    workspaceSettings,
    systemSettings,
    systemDefaults,
    oauthCreds,
    oauthLock,
    history: path.join(qwenHome, 'history'),
  };
}

/** `~` and relative paths in variables are what users type in shell profiles; make them absolute. */
function resolveUserPath(
  value: string | undefined,
  context: { path: typeof posix; cwd: string; home: string },
): string | undefined {
  if (value === undefined) return undefined;
  if (value === '~') return context.home;
  if (value.startsWith('~/') || value.startsWith('~\\'))
    return context.path.join(context.home, value.slice(2));
  return context.path.resolve(context.cwd, value);
}

function samePath(first: string, second: string, platform: NodeJS.Platform): boolean {
  // Windows and macOS file systems are case-insensitive by default.
  if (platform === 'win32' || platform === 'darwin') return first.toLowerCase() === second.toLowerCase();
  return first === second;
}
