// Runs the real CLI as a user would: a separate process, a temporary HOME and working directory, only
// the environment the test gives (nothing leaks in from the developer's shell), over real HTTP.
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repositoryRoot = path.resolve(import.meta.dir, '..', '..');
export const sourceEntry = path.join(repositoryRoot, 'src', 'main.ts');
export const binaryPath = path.join(repositoryRoot, 'dist', 'qwen');

export type CliFlavour = 'source' | 'binary' | 'deno';

export interface Sandbox {
  home: string;
  cwd: string;
  /** `$HOME/.qwen` */
  qwenHome: string;
  /** Writes a file below the sandbox root (`home/...` or `project/...`), creating directories. */
  write(relativePath: string, content: string | object): string;
  userSettings(content: string | object): string;
  cleanup(): void;
}

export function makeSandbox(): Sandbox {
  const root = mkdtempSync(path.join(os.tmpdir(), 'qwen-e2e-'));
  const home = path.join(root, 'home');
  const cwd = path.join(root, 'project');
  mkdirSync(home, { recursive: true });
  mkdirSync(cwd, { recursive: true });
  const write = (relativePath: string, content: string | object) => {
    const file = path.join(root, relativePath);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return file;
  };
  return {
    home,
    cwd,
    qwenHome: path.join(home, '.qwen'),
    write,
    userSettings: (content) => write('home/.qwen/settings.json', content),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface RunOptions {
  sandbox: Sandbox;
  env?: Record<string, string>;
  /** Text written to stdin and then closed. Without it stdin is /dev/null-like (closed at once). */
  stdin?: string;
  /** Keep stdin open and silent (a CI runner that never closes it). */
  silentOpenStdin?: boolean;
  /** A file given as stdin, as the shell does for `qwen "..." < file`. */
  stdinFile?: string;
  /** A descriptor given as stdin as it is: a file open for writing only (`0>>log`), a directory. */
  stdinFd?: number;
  flavour?: CliFlavour;
  cwd?: string;
  /** Send SIGINT this many ms after the first stdout byte. */
  interruptAfterMs?: number;
  /** Send this signal this many ms after the start. */
  signal?: { name: 'SIGINT' | 'SIGTERM' | 'SIGHUP'; afterMs: number };
  timeoutMs?: number;
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

let binaryBuild: Promise<void> | undefined;

/** Builds dist/qwen once per test run, so the binary under test is the current source. */
export function ensureBinary(): Promise<void> {
  binaryBuild ??= (async () => {
    const build = Bun.spawn(
      [process.execPath, '--no-env-file', path.join(repositoryRoot, 'scripts', 'build.ts')],
      {
        cwd: repositoryRoot,
        stdout: 'pipe',
        stderr: 'pipe',
      },
    );
    const code = await build.exited;
    if (code !== 0 || !existsSync(binaryPath) || statSync(binaryPath).size === 0) {
      throw new Error(`building dist/qwen failed: ${await new Response(build.stderr).text()}`);
    }
  })();
  return binaryBuild;
}

const denoPath = path.join(repositoryRoot, 'node_modules', '.bin', 'deno');
/** Deno is a devDependency; where its binary is missing or broken, the Deno flavour is left out. */
/**
 * Deno's compile cache for the CLI runs (Deno keeps it under HOME otherwise: a fresh, cold one per test).
 * One fixed place, kept between test runs like any cache: nothing of a test's own is in it.
 */
const denoCacheDirectory = path.join(os.tmpdir(), 'qwen-lite-e2e-deno-cache');

export const denoAvailable =
  existsSync(denoPath) &&
  Bun.spawnSync([denoPath, '--version'], { stdout: 'ignore', stderr: 'ignore' }).exitCode === 0;
// One Deno cache for the whole run: HOME changes every test and Deno would transpile again into it.
const denoDirectory = path.join(os.tmpdir(), `qwen-e2e-deno-${process.pid}`);
process.on('exit', () => rmSync(denoDirectory, { recursive: true, force: true }));

export function commandFor(flavour: CliFlavour): string[] {
  if (flavour === 'deno') return [denoPath, 'run', '-A', '--quiet', sourceEntry];
  // --config: otherwise `bun` reads a bunfig.toml from the working directory (the binary never does).
  const config = `--config=${path.join(repositoryRoot, 'bunfig.toml')}`;
  return flavour === 'binary' ? [binaryPath] : [process.execPath, '--no-env-file', config, sourceEntry];
}

export async function runCli(args: string[], options: RunOptions): Promise<CliResult> {
  const flavour = options.flavour ?? 'source';
  if (flavour === 'binary') await ensureBinary();
  const child = Bun.spawn([...commandFor(flavour), ...args], {
    cwd: options.cwd ?? options.sandbox.cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: options.sandbox.home,
      NO_COLOR: '1',
      // Deno's own update check (to dl.deno.land, through a proxy the test set) is not the CLI's traffic;
      // one compile cache for the whole run keeps each Deno start warm.
      DENO_NO_UPDATE_CHECK: '1',
      DENO_DIR: denoCacheDirectory,
      ...options.env,
    },
    stdin:
      options.stdinFd ??
      (options.stdinFile !== undefined
        ? Bun.file(options.stdinFile)
        : options.stdin !== undefined || options.silentOpenStdin
          ? 'pipe'
          : 'ignore'),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  // A writable sink only when stdin is 'pipe' (a file or 'ignore' gives none).
  const input = typeof child.stdin === 'object' ? child.stdin : undefined;
  if (options.stdin !== undefined && input) {
    input.write(options.stdin);
    await input.end();
  }
  const timeout = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const { signal } = options;
  const signalTimer = signal && setTimeout(() => child.kill(signal.name), signal.afterMs);
  const stdoutPromise = readAll(child.stdout, () => {
    if (options.interruptAfterMs !== undefined)
      setTimeout(() => child.kill('SIGINT'), options.interruptAfterMs);
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    stdoutPromise,
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timeout);
  clearTimeout(signalTimer);
  if (options.silentOpenStdin) input?.end();
  return { exitCode, stdout, stderr };
}

/** The whole output and the exit code of a process spawned with stdout and stderr piped. */
export async function finished(child: {
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  exited: Promise<number>;
}): Promise<CliResult> {
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr };
}

/** The user the tests run the CLI as where root's rights would hide the problem (a closed directory). */
export const anotherUser = 65534;
/** Root can take another user's id with setpriv; anyone else skips those tests. */
export const canRunAsAnotherUser = process.getuid?.() === 0 && Bun.which('setpriv') !== null;

/** Gives `path` and everything below it to anotherUser, so that the CLI run as them owns its sandbox. */
export function giveToAnotherUser(path: string): void {
  chownSync(path, anotherUser, anotherUser);
  if (!statSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) giveToAnotherUser(`${path}/${entry}`);
}

let binaryForAnotherUser: string | undefined;

/**
 * Runs the compiled CLI as anotherUser, with only PATH, NO_COLOR and what `env` gives. The binary runs from
 * a copy in a directory open to that user: the checkout may be closed to them.
 */
export async function runAsAnotherUser(
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<CliResult> {
  await ensureBinary();
  if (binaryForAnotherUser === undefined) {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'qwen-e2e-binary-'));
    chmodSync(directory, 0o755);
    const copy = path.join(directory, 'qwen');
    copyFileSync(binaryPath, copy);
    chmodSync(copy, 0o755);
    process.on('exit', () => rmSync(directory, { recursive: true, force: true }));
    binaryForAnotherUser = copy;
  }
  const ids = [`--reuid=${anotherUser}`, `--regid=${anotherUser}`, '--clear-groups'];
  const child = Bun.spawn(['setpriv', ...ids, binaryForAnotherUser, ...args], {
    cwd: options.cwd,
    env: { PATH: '/usr/bin:/bin', NO_COLOR: '1', ...options.env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  return finished(child);
}

async function readAll(stream: ReadableStream<Uint8Array>, onFirstByte: () => void): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  let first = true;
  for await (const chunk of stream) {
    if (first) {
      first = false;
      onFirstByte();
    }
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

/** Both ways the CLI ships: from source (bun) and the compiled binary. */
export const flavours: CliFlavour[] = ['source', 'binary'];
/** The headless path also runs from source under Deno (issue 6), when deno is installed. */
export const headlessFlavours: CliFlavour[] = denoAvailable ? [...flavours, 'deno'] : flavours;
