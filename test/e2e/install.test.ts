// scripts/install.sh end to end: a real host binary (built by scripts/build.ts into a temp dir, under its
// release name, with its own SHA256SUMS) served over HTTP on 127.0.0.1, installed by `sh scripts/install.sh`
// into a temporary HOME, with PATH cut down to the tools the installer may use (curl only, wget only).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import packageJson from '../../package.json' with { type: 'json' };
import { hostTarget } from '../../scripts/build.ts';
import { finished } from './harness.ts';

const root = path.resolve(import.meta.dir, '..', '..');
const installer = path.join(root, 'scripts', 'install.sh');
const host = hostTarget();
const canRun = host !== undefined && process.platform !== 'win32';

// The download tool of the tests that are not about one: whichever of curl and wget this machine has.
const downloader = Bun.which('curl') ? 'curl' : 'wget';
// What install.sh calls, besides curl or wget. `sh` itself is started by absolute path.
const baseTools = [
  'uname',
  'ldd',
  'awk',
  'sha256sum',
  'shasum',
  'mktemp',
  'rm',
  'mkdir',
  'cp',
  'chmod',
  'mv',
  // The watchdog of a BusyBox wget download.
  'sleep',
  'wc',
  // Quoting the directory in the PATH hint.
  'sed',
];

let scratch = '';
let releaseDirectory = '';
let server: ReturnType<typeof Bun.serve> | undefined;
let requests: string[] = [];

function toolsDirectory(name: string, tools: string[]): string {
  const directory = path.join(scratch, name);
  mkdirSync(directory);
  for (const tool of tools) {
    const found = Bun.which(tool);
    if (found) symlinkSync(found, path.join(directory, tool));
  }
  return directory;
}

function fakeCommand(directory: string, name: string, script: string): void {
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, name);
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
}

type InstallRun = { exitCode: number; stdout: string; stderr: string; home: string };

async function runInstaller(options: {
  base: string;
  path: string[];
  env?: Record<string, string>;
  home?: string;
}): Promise<InstallRun> {
  const home = options.home ?? mkdtempSync(path.join(scratch, 'home-'));
  const child = Bun.spawn(['/bin/sh', installer], {
    cwd: home,
    env: {
      HOME: home,
      PATH: options.path.join(':'),
      QWEN_INSTALL_BASE_URL: `${server?.url.href ?? ''}${options.base}`,
      ...options.env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  return { ...(await finished(child)), home };
}

beforeAll(async () => {
  if (!canRun || !host) return;
  scratch = mkdtempSync(path.join(os.tmpdir(), 'qwen-install-test-'));
  releaseDirectory = path.join(scratch, 'release');
  const binary = path.join(releaseDirectory, host.fileName);
  const build = Bun.spawn([process.execPath, path.join(root, 'scripts', 'build.ts'), '--outfile', binary], {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [buildError, buildExit] = await Promise.all([new Response(build.stderr).text(), build.exited]);
  if (buildExit !== 0) throw new Error(`host build failed:\n${buildError}`);
  const digest = createHash('sha256').update(readFileSync(binary)).digest('hex');
  writeFileSync(path.join(releaseDirectory, 'SHA256SUMS'), `${digest}  ${host.fileName}\n`);

  requests = [];
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const url = new URL(request.url);
      requests.push(url.pathname);
      const [, variant, name = ''] = url.pathname.split('/');
      const file = path.join(releaseDirectory, path.basename(name));
      if (!existsSync(file)) return new Response('not found', { status: 404 });
      if (variant === 'good') return new Response(Bun.file(file));
      // A truncated download: the right name, not the bytes SHA256SUMS describes.
      if (variant === 'corrupt' && name !== 'SHA256SUMS') {
        return new Response(Bun.file(file).slice(0, statSync(file).size - 1));
      }
      if (variant === 'corrupt') return new Response(Bun.file(file));
      // A server that sends a few bytes and then nothing, with the connection held open.
      if (variant === 'stall') {
        return new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new Uint8Array([1, 2, 3]));
            },
          }),
          { headers: { 'content-length': '1000' } },
        );
      }
      // SHA256SUMS as another tool may write it, which `sha256sum -c` reads: upper-case hex, CRLF endings.
      if (variant === 'upper-crlf' && name === 'SHA256SUMS') {
        const [digest, fileName] = readFileSync(file, 'utf8').trim().split(/\s+/);
        return new Response(`${digest?.toUpperCase()}  ${fileName}\r\n`);
      }
      if (variant === 'upper-crlf') return new Response(Bun.file(file));
      // A release whose binaries do not run here (built for another libc, say), with correct checksums.
      if (variant === 'broken') {
        const binary = '#!/bin/sh\necho "cannot run" >&2\nexit 127\n';
        if (name !== 'SHA256SUMS') return new Response(binary);
        const digest = createHash('sha256').update(binary).digest('hex');
        return new Response(`${digest}  ${host?.fileName}\n`);
      }
      if (variant === 'unlisted') {
        return new Response(name === 'SHA256SUMS' ? `${'0'.repeat(64)}  some-other-file\n` : Bun.file(file));
      }
      return new Response('not found', { status: 404 });
    },
  });
}, 120_000);

afterAll(async () => {
  await server?.stop(true);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!canRun)('scripts/install.sh', () => {
  test.skipIf(!Bun.which('curl'))(
    'installs the verified binary with curl, mode 755, and says how to put it on PATH',
    async () => {
      const tools = toolsDirectory('curl-only', [...baseTools, 'curl']);
      requests = [];
      const run = await runInstaller({ base: 'good', path: [tools] });
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      const installed = path.join(run.home, '.local', 'bin', 'qwen');
      expect(statSync(installed).mode & 0o777).toBe(0o755);
      expect(run.stdout).toContain(`Installed qwen ${packageJson.version} to ${installed}`);
      expect(run.stdout).toContain('is not on your PATH');
      expect(run.stdout).toContain(`export PATH="${path.dirname(installed)}:$PATH"`);
      expect(requests).toEqual([`/good/${host?.fileName}`, '/good/SHA256SUMS']);
      // Nothing but the binary is left in the install directory.
      expect(readdirSync(path.dirname(installed))).toEqual(['qwen']);

      const version = Bun.spawnSync([installed, '--version'], { cwd: run.home, env: { HOME: run.home } });
      expect(version.stdout.toString().trim()).toBe(packageJson.version);
      expect(version.exitCode).toBe(0);
    },
  );

  test.skipIf(!Bun.which('wget'))(
    'installs with wget alone into QWEN_INSTALL_DIR, without a PATH hint when it is on PATH',
    async () => {
      const tools = toolsDirectory('wget-only', [...baseTools, 'wget']);
      expect(existsSync(path.join(tools, 'curl'))).toBe(false);
      const installDirectory = path.join(scratch, 'custom-bin');
      const run = await runInstaller({
        base: 'good/',
        path: [tools, installDirectory],
        env: { QWEN_INSTALL_DIR: installDirectory },
      });
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toContain(`Installed qwen ${packageJson.version} to ${installDirectory}/qwen`);
      expect(run.stdout).not.toContain('PATH');
      expect(statSync(path.join(installDirectory, 'qwen')).mode & 0o777).toBe(0o755);
    },
  );

  // BusyBox's wget (Alpine; Debian's busybox): -q and -O, no --timeout or --tries, and no GNU banner. The
  // fake refuses what BusyBox refuses and downloads with curl; the real one is tried too when it is here.
  const busyboxLikeWget = (directory: string) =>
    fakeCommand(
      directory,
      'wget',
      `case "$1" in --*) echo "wget: unrecognized option '$1'" >&2; exit 1 ;; esac
[ "$1" = -q ] && [ "$2" = -O ] || { echo 'BusyBox wget usage' >&2; exit 1; }
exec ${Bun.which('curl')} -sf -o "$3" "$4"`,
    );

  test.skipIf(!Bun.which('curl'))(
    'installs with a BusyBox wget (no --timeout), and gives a stalled download up with one line',
    async () => {
      const tools = toolsDirectory('busybox-wget', baseTools);
      busyboxLikeWget(tools);
      const run = await runInstaller({ base: 'good/', path: [tools] });
      expect(run).toMatchObject({ exitCode: 0, stderr: '' });
      expect(run.stdout).toContain(`Installed qwen ${packageJson.version}`);

      const started = performance.now();
      const stalled = await runInstaller({
        base: 'stall',
        path: [tools],
        env: { QWEN_INSTALL_TIMEOUT: '1' },
      });
      expect(stalled.exitCode).toBe(1);
      expect(stalled.stderr).toBe(
        `qwen install: could not download ${server?.url.href}stall/${host?.fileName} (wget: the download failed, or stalled three times)\n`,
      );
      expect(performance.now() - started).toBeLessThan(20_000);
    },
    30_000,
  );

  /**
   * SIGTERM while a download stalls: the installer exits 143 at once (the download would go on for
   * QWEN_INSTALL_TIMEOUT, 60 s, three times), and nothing of the download is left running (it ignored the
   * signal, as background jobs do).
   */
  async function expectStoppedDuringDownload(tools: string): Promise<void> {
    requests = [];
    const started = performance.now();
    const child = Bun.spawn(['/bin/sh', installer], {
      env: {
        HOME: mkdtempSync(path.join(scratch, 'home-')),
        PATH: tools,
        QWEN_INSTALL_BASE_URL: `${server?.url.href}stall`,
      },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    while (requests.length === 0) await Bun.sleep(20);
    child.kill('SIGTERM');
    expect(await child.exited).toBe(143);
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(await new Response(child.stderr).text()).toBe(
      'qwen install: stopped (SIGTERM); nothing was installed\n',
    );
    const downloads = Bun.spawnSync(['pgrep', '-f', `${server?.url.href}stall`]);
    expect(downloads.stdout.toString()).toBe('');
  }

  test.skipIf(!Bun.which('curl') || !Bun.which('pgrep'))(
    'stopped during a BusyBox wget download, the installer stops the download too; https gets a one-line note',
    async () => {
      const tools = toolsDirectory('busybox-wget-stop', baseTools);
      busyboxLikeWget(tools);
      await expectStoppedDuringDownload(tools);

      const secure = await runInstaller({
        base: '',
        path: [tools],
        env: { QWEN_INSTALL_BASE_URL: 'https://127.0.0.1:1' },
      });
      expect(secure.exitCode).toBe(1);
      expect(secure.stderr.split('\n')[0]).toBe(
        "qwen install: note: BusyBox's wget may not check TLS certificates (Debian's does not); install curl for a checked download",
      );
    },
    30_000,
  );

  test.skipIf(!Bun.which('pgrep'))(
    'stopped during a curl or GNU wget download, the installer ends at once and stops the download',
    async () => {
      for (const tool of ['curl', 'wget'].filter((name) => Bun.which(name))) {
        await expectStoppedDuringDownload(toolsDirectory(`${tool}-stop`, [...baseTools, tool]));
      }
    },
    40_000,
  );

  test.skipIf(!Bun.which('busybox'))('installs with the real BusyBox wget', async () => {
    const tools = toolsDirectory('real-busybox', baseTools);
    symlinkSync(Bun.which('busybox') as string, path.join(tools, 'wget'));
    const run = await runInstaller({ base: 'good/', path: [tools] });
    expect(run).toMatchObject({ exitCode: 0, stderr: '' });
  });

  test('refuses a binary whose checksum does not match, deletes it and keeps the installed one', async () => {
    const tools = toolsDirectory('corrupt-tools', [...baseTools, downloader]);
    const home = mkdtempSync(path.join(scratch, 'home-'));
    const installDirectory = path.join(home, '.local', 'bin');
    mkdirSync(installDirectory, { recursive: true });
    writeFileSync(path.join(installDirectory, 'qwen'), 'previous version\n');
    const run = await runInstaller({ base: 'corrupt', path: [tools], home });
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain(`checksum mismatch for ${host?.fileName}`);
    expect(run.stderr).toContain('nothing was installed');
    expect(readdirSync(installDirectory)).toEqual(['qwen']);
    expect(readFileSync(path.join(installDirectory, 'qwen'), 'utf8')).toBe('previous version\n');
  });

  test('reads SHA256SUMS as sha256sum -c does: upper-case hex and CRLF line endings', async () => {
    const tools = toolsDirectory('upper-crlf-tools', [...baseTools, downloader]);
    const run = await runInstaller({ base: 'upper-crlf', path: [tools] });
    expect(run).toMatchObject({ exitCode: 0, stderr: '' });
    expect(run.stdout).toContain(`Installed qwen ${packageJson.version}`);
  });

  test('a verified binary that does not run here is not installed: the qwen already there is kept', async () => {
    const tools = toolsDirectory('broken-tools', [...baseTools, downloader]);
    const home = mkdtempSync(path.join(scratch, 'home-'));
    const installDirectory = path.join(home, '.local', 'bin');
    mkdirSync(installDirectory, { recursive: true });
    const previous = '#!/bin/sh\necho 0.0.9\n';
    writeFileSync(path.join(installDirectory, 'qwen'), previous, { mode: 0o755 });
    const run = await runInstaller({ base: 'broken', path: [tools], home });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      `qwen install: ${host?.fileName} does not run here (\`qwen --version\` failed); nothing was installed (${installDirectory}/qwen was left as it was)\n`,
    );
    expect(readdirSync(installDirectory)).toEqual(['qwen']);
    expect(readFileSync(path.join(installDirectory, 'qwen'), 'utf8')).toBe(previous);
  });

  test('a temporary directory that cannot be made is one line, before any download', async () => {
    const tools = toolsDirectory('no-tmp-tools', [...baseTools, downloader]);
    requests = [];
    const run = await runInstaller({ base: 'good', path: [tools], env: { TMPDIR: '/nonexistent/tmp' } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      'qwen install: cannot create a temporary directory in /nonexistent/tmp; set TMPDIR to a directory you can write to\n',
    );
    expect(requests).toEqual([]);
  });

  test('refuses a binary that SHA256SUMS does not list', async () => {
    const tools = toolsDirectory('unlisted-tools', [...baseTools, downloader]);
    const run = await runInstaller({ base: 'unlisted', path: [tools] });
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain(
      `SHA256SUMS at ${server?.url.href}unlisted has no entry for ${host?.fileName}`,
    );
    expect(existsSync(path.join(run.home, '.local', 'bin', 'qwen'))).toBe(false);
  });

  test('an unknown platform gets a message naming what was detected, and downloads nothing', async () => {
    const tools = toolsDirectory('unknown-os-tools', [...baseTools, downloader]);
    const fakes = path.join(scratch, 'fake-freebsd');
    fakeCommand(fakes, 'uname', 'case "$1" in -m) echo amd64 ;; *) echo FreeBSD ;; esac');
    requests = [];
    const run = await runInstaller({ base: 'good', path: [fakes, tools] });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('no prebuilt qwen for this platform (uname -s = FreeBSD, uname -m = amd64)');
    expect(requests).toEqual([]);
    expect(existsSync(path.join(run.home, '.local'))).toBe(false);
  });

  test('an unknown architecture is named too; armv8l (a 32-bit userland) is not taken for arm64', async () => {
    const tools = toolsDirectory('unknown-arch-tools', [...baseTools, downloader]);
    for (const machine of ['riscv64', 'armv8l']) {
      const fakes = path.join(scratch, `fake-${machine}`);
      fakeCommand(fakes, 'uname', `case "$1" in -m) echo ${machine} ;; *) echo Linux ;; esac`);
      requests = [];
      const run = await runInstaller({ base: 'good', path: [fakes, tools] });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain(
        `no prebuilt qwen for this platform (uname -s = Linux, uname -m = ${machine}`,
      );
      expect(requests).toEqual([]);
    }
  });

  test.skipIf(process.platform !== 'linux' || process.arch !== 'x64')(
    'musl (from ldd) asks for the musl build',
    async () => {
      const tools = toolsDirectory('musl-tools', [...baseTools, downloader]);
      const fakes = path.join(scratch, 'fake-musl');
      fakeCommand(fakes, 'ldd', "echo 'musl libc (x86_64)' >&2; exit 1");
      requests = [];
      const run = await runInstaller({ base: 'good', path: [fakes, tools] });
      expect(requests).toEqual(['/good/qwen-linux-x64-musl']);
      expect(run.exitCode).toBe(1);
      // One line, ours: the downloader's own error line is kept quiet.
      expect(run.stderr).toBe(
        `qwen install: could not download ${server?.url.href}good/qwen-linux-x64-musl (${downloader === 'curl' ? 'curl: the server answered HTTP 404' : 'wget: the server answered with an error status'})\n`,
      );
    },
  );

  test('without HOME: QWEN_INSTALL_DIR (relative, trailing slash) works and the PATH hint is pasteable', async () => {
    const tools = toolsDirectory('no-home-tools', [...baseTools, downloader]);
    const workDirectory = mkdtempSync(path.join(scratch, 'work dir-'));
    const run = await runInstaller({
      base: 'good',
      path: [tools],
      home: workDirectory,
      env: { HOME: '', QWEN_INSTALL_DIR: 'bin/', SHELL: '/bin/zsh' },
    });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const installDirectory = path.join(workDirectory, 'bin');
    expect(run.stdout).toContain(`Installed qwen ${packageJson.version} to ${installDirectory}/qwen`);
    expect(run.stdout).toContain(`echo 'export PATH="${installDirectory}:$PATH"' >> ~/.zshrc`);

    // The same directory on PATH with a trailing slash is on PATH: no hint.
    const again = await runInstaller({
      base: 'good',
      path: [tools, `${installDirectory}/`],
      env: { QWEN_INSTALL_DIR: installDirectory },
    });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).not.toContain('PATH');

    const nowhere = await runInstaller({ base: 'good', path: [tools], env: { HOME: '' } });
    expect(nowhere.exitCode).toBe(1);
    expect(nowhere.stderr).toBe(
      'qwen install: HOME is not set, so there is no ~/.local/bin; set QWEN_INSTALL_DIR to the directory to install into\n',
    );
  });

  test('the PATH hint works pasted as printed, for a directory with spaces, quotes, $, ! and a backslash', async () => {
    const tools = toolsDirectory('quoting-tools', [...baseTools, downloader]);
    const installDirectory = path.join(scratch, `it's "odd" $HOME \\ dir!`, 'bin');
    const run = await runInstaller({
      base: 'good/',
      path: [tools],
      env: { QWEN_INSTALL_DIR: installDirectory, SHELL: '/bin/bash' },
    });
    expect(run.exitCode).toBe(0);
    const hint = run.stdout.split('\n').find((line) => line.startsWith('  echo '));
    expect(hint).toBeDefined();
    // Pasted into a shell (HOME is the run's), then the profile read by a new one.
    const paste = Bun.spawnSync(['/bin/sh', '-c', `${hint}\n. ~/.bashrc\nprintf %s "$PATH"`], {
      env: { HOME: run.home, PATH: '/usr/bin:/bin' },
    });
    expect(paste.stdout.toString().split(':')[0]).toBe(installDirectory);
    // The line to run now, in an interactive bash, where ! would expand inside double quotes.
    const now = run.stdout
      .split('\n')
      .find((line) => line.includes('or run: '))
      ?.split('or run: ')[1];
    // Lines read by an interactive bash, as typed (history expansion applies to them, not to -c).
    const typed = Bun.spawnSync(['bash', '--norc', '--noprofile', '-i'], {
      env: { HOME: run.home, PATH: '/usr/bin:/bin', PS1: '' },
      stdin: Buffer.from(`${now}\nprintf '[%s]' "$PATH"\n`),
      stderr: 'pipe',
    });
    expect(typed.stdout.toString()).toContain(`[${installDirectory}:`);
  });

  test('a directory where the binary goes is refused before anything is downloaded', async () => {
    const tools = toolsDirectory('directory-target-tools', [...baseTools, downloader]);
    const installDirectory = path.join(scratch, 'taken');
    mkdirSync(path.join(installDirectory, 'qwen'), { recursive: true });
    requests = [];
    const run = await runInstaller({
      base: 'good',
      path: [tools],
      env: { QWEN_INSTALL_DIR: installDirectory },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`${installDirectory}/qwen is a directory`);
    expect(requests).toEqual([]);
    expect(readdirSync(path.join(installDirectory, 'qwen'))).toEqual([]);
  });

  test('a file where a directory of QWEN_INSTALL_DIR should be is refused before anything is downloaded', async () => {
    const tools = toolsDirectory('file-in-path-tools', [...baseTools, downloader]);
    writeFileSync(path.join(scratch, 'a-file'), '');
    requests = [];
    const run = await runInstaller({
      base: 'good',
      path: [tools],
      env: { QWEN_INSTALL_DIR: path.join(scratch, 'a-file', 'bin') },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      `qwen install: cannot write to ${path.join(scratch, 'a-file', 'bin')}; set QWEN_INSTALL_DIR to a directory you can write to\n`,
    );
    expect(requests).toEqual([]);
  });

  test('a server that stops sending is given up after QWEN_INSTALL_TIMEOUT seconds, with one line', async () => {
    const tools = toolsDirectory('stall-tools', [...baseTools, downloader]);
    const started = performance.now();
    const run = await runInstaller({ base: 'stall', path: [tools], env: { QWEN_INSTALL_TIMEOUT: '1' } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toStartWith(`qwen install: could not download ${server?.url.href}stall/`);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    // Three tries of a second each, and the waits between them: nowhere near curl's or wget's defaults.
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(readdirSync(run.home)).toEqual([]);
  }, 30_000);

  test('a QWEN_INSTALL_TIMEOUT that is no whole number of seconds is refused before anything is downloaded', async () => {
    const tools = toolsDirectory('timeout-tools', [...baseTools, downloader]);
    requests = [];
    for (const value of ['0', '00', '1.5', '30s', '99999999999']) {
      const run = await runInstaller({ base: 'good', path: [tools], env: { QWEN_INSTALL_TIMEOUT: value } });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toBe(
        'qwen install: QWEN_INSTALL_TIMEOUT takes a whole number of seconds from 1 to 86400, such as 60\n',
      );
    }
    expect(requests).toEqual([]);
  });

  test('what would stop the install after the download is checked before it (no SHA-256 tool)', async () => {
    const withoutHashing = baseTools.filter((tool) => tool !== 'sha256sum' && tool !== 'shasum');
    const tools = toolsDirectory('no-hashing-tools', [...withoutHashing, downloader]);
    requests = [];
    const run = await runInstaller({ base: 'good', path: [tools] });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(
      'cannot verify the download: none of sha256sum, shasum or openssl is installed',
    );
    expect(requests).toEqual([]);
  });

  test('without curl or wget it says so', async () => {
    const tools = toolsDirectory('no-downloader', baseTools);
    const run = await runInstaller({ base: 'good', path: [tools] });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('neither curl nor wget is installed');
  });
});
