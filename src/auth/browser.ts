// Opening the login page. Only where a browser can appear on the user's screen: over SSH, in CI or on a
// Linux box without a display, a launched browser would be invisible (or a text browser would take over
// the terminal), so the URL and the QR code are the way there. Failing to open is never an error.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface BrowserEnvironment {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  /** Whether a command is on PATH; searched in `env.PATH` by default. */
  commandExists?: (command: string) => boolean;
}

/** An executable file named `command` in one of PATH's directories. */
function onPath(command: string, path: string | undefined): boolean {
  for (const directory of (path ?? '').split(delimiter)) {
    if (directory === '') continue;
    try {
      accessSync(join(directory, command), constants.X_OK);
      return true;
    } catch {
      // Not in this one.
    }
  }
  return false;
}

/** Why no browser will be opened, or undefined when one can be. */
export function browserUnavailableReason(environment: BrowserEnvironment): string | undefined {
  const { env, platform } = environment;
  const isSet = (name: string) => (env[name] ?? '') !== '';
  if (isSet('NO_BROWSER')) return 'NO_BROWSER is set';
  if (isSet('CI')) return 'running in CI';
  if (env['DEBIAN_FRONTEND'] === 'noninteractive') return 'DEBIAN_FRONTEND is noninteractive';
  if (isSet('SSH_CONNECTION') || isSet('SSH_TTY') || isSet('SSH_CLIENT')) return 'connected over SSH';
  if (platform === 'linux' && !isSet('DISPLAY') && !isSet('WAYLAND_DISPLAY') && !isSet('MIR_SOCKET')) {
    return 'no graphical display (DISPLAY and WAYLAND_DISPLAY are unset)';
  }
  // macOS always has `open` and Windows `cmd.exe`; a Linux desktop may lack xdg-utils, and a launch that
  // fails does so after we would have said a browser was opened.
  if (platform !== 'darwin' && platform !== 'win32') {
    const { command } = browserCommand('', platform);
    const exists = environment.commandExists ?? ((name: string) => onPath(name, env['PATH']));
    if (!exists(command)) return `${command} is not installed`;
  }
  return undefined;
}

export function canOpenBrowser(environment: BrowserEnvironment): boolean {
  return browserUnavailableReason(environment) === undefined;
}

/** The command that opens a URL in the default browser on this platform. */
export function browserCommand(url: string, platform: NodeJS.Platform): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  if (platform === 'win32') {
    // `start` is a cmd built-in; the empty "" is the window title, so a quoted URL is not taken for it.
    return { command: 'cmd.exe', args: ['/d', '/s', '/c', `start "" "${url}"`] };
  }
  return { command: 'xdg-open', args: [url] };
}

export type SpawnDetached = (command: string, args: string[], windowsVerbatimArguments: boolean) => void;

const spawnDetached: SpawnDetached = (command, args, windowsVerbatimArguments) => {
  const child = spawn(command, args, { detached: true, stdio: 'ignore', windowsVerbatimArguments });
  // A missing xdg-open arrives as an 'error' event; without a listener it would crash the login.
  child.on('error', () => {});
  child.unref();
};

/** Tries to open `url`; true when a browser was launched (as far as we can tell without waiting). */
export function openBrowser(
  url: string,
  environment: BrowserEnvironment,
  launch: SpawnDetached = spawnDetached,
): boolean {
  if (!canOpenBrowser(environment)) return false;
  let safeUrl: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return false;
    // href percent-encodes quotes and spaces, so the URL cannot break out of the cmd.exe quoting.
    safeUrl = parsed.href;
  } catch {
    return false;
  }
  const { command, args } = browserCommand(safeUrl, environment.platform);
  try {
    launch(command, args, environment.platform === 'win32');
    return true;
  } catch {
    return false;
  }
}
