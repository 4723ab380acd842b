// Compiles the CLI into single executables.
//   bun scripts/build.ts                    -> dist/qwen for this machine (npm run build)
//   bun scripts/build.ts --outfile <path>   -> the host binary somewhere else (tests use a temp dir)
//   bun scripts/build.ts --all              -> dist/qwen-<os>-<arch>[.exe] for every release target and
//                                              dist/SHA256SUMS (npm run build:all)
//   bun scripts/build.ts --deno [--outfile <path>] -> dist/qwen-deno with `deno compile` (host only)
// Every artifact's header is checked against its target; the one for this machine must print package.json's
// version for --version, and the others must carry it in their embedded bundle. The binaries must not read
// .env or bunfig.toml from wherever they are started (configuration is ours alone), so those autoloads are
// off on every target.
// Cross-compiling downloads Bun's runtime for the target from the npm registry (@oven/bun-<os>-<arch>) once
// and caches it in Bun's install cache.

import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BunPlugin } from 'bun';
import packageJson from '../package.json' with { type: 'json' };
import {
  checkExecutableHeader,
  describeHeader,
  type ExecutableHeader,
  type ReleaseTarget,
  readExecutableHeader,
  releaseTargets,
} from './check-binary.ts';

const root = path.resolve(import.meta.dir, '..');
const distDirectory = path.join(root, 'dist');
const entryPoint = path.join(root, 'src', 'main.ts');
const settingsReader = path.join(root, 'src', 'config', 'settings.ts');
const version = packageJson.version;

type BuiltArtifact = {
  file: string;
  header: ExecutableHeader;
  size: number;
  /** true: ran natively; 'qemu': ran under emulation; false: only its embedded version was checked. */
  ranVersion: boolean | 'qemu';
};

/**
 * The one-shot path reads settings with jsonc-parser's `parse`, but the package's entry module also loads its
 * formatter, whose string caches (about 1,200 strings built at load) cost every run 1-2 ms before main.
 * In the compiled binary, settings.ts gets the parser module alone (the same `parse` the entry re-exports);
 * the settings writer, loaded only when something is saved, keeps the whole package. Source runs (Bun, Deno)
 * import the package entry as written.
 */
const jsoncParserOnlyForReading: BunPlugin = {
  name: 'jsonc-parser-for-reading',
  setup(build) {
    build.onResolve({ filter: /^jsonc-parser$/ }, (args) =>
      args.importer === settingsReader
        ? { path: Bun.resolveSync('jsonc-parser/lib/esm/impl/parser.js', root) }
        : undefined,
    );
  },
};

/**
 * ky decides at load whether this runtime can stream request bodies by building a Request around a
 * ReadableStream (src/net/http.ts never streams a request body, but the check runs anyway). That check
 * loads Bun's stream internals before main: 0.1-0.2 ms of module evaluation (medians of 40 interleaved runs,
 * timed in-process). The compiled binary runs the Bun that builds it (cross-compiled targets too: same
 * version), so the answer is computed here, once, and written into ky's constants module. Source runs (Bun,
 * Deno) load ky as published. ky's package exports only its entry; constants.js sits beside it, in core/.
 */
const kyConstants = path.join(path.dirname(Bun.resolveSync('ky', root)), 'core', 'constants.js');
const requestStreamsCheck = /export const supportsRequestStreams = \(\(\) => \{[\s\S]*?\n\}\)\(\);/;
const kyFeatureCheckAtBuildTime: BunPlugin = {
  name: 'ky-feature-check-at-build-time',
  setup(build) {
    build.onLoad({ filter: /[\\/]ky[\\/]distribution[\\/]core[\\/]constants\.js$/ }, async (args) => {
      const source = await Bun.file(args.path).text();
      if (args.path !== kyConstants || !requestStreamsCheck.test(source)) {
        throw new Error(
          `${args.path}: ky's supportsRequestStreams check is not where scripts/build.ts expects it; update kyFeatureCheckAtBuildTime for this ky version`,
        );
      }
      const { supportsRequestStreams } = (await import(kyConstants)) as { supportsRequestStreams: boolean };
      return {
        contents: source.replace(
          requestStreamsCheck,
          `export const supportsRequestStreams = ${supportsRequestStreams === true};`,
        ),
        loader: 'js',
      };
    });
  },
};

/**
 * JavaScriptCore's tier-up thresholds are multiplied by this while the program starts: code that runs only
 * once (parsing flags, reading settings) stays in the interpreter instead of queueing JIT work on a 2-core CI
 * runner. Measured (medians of 40-50 interleaved runs): one-shot 18.0 -> 15.3 ms when it came in, while cac and
 * jsonc-parser's formatter still ran at start-up; about 0.5 ms since they left it. endStartup()
 * (src/cli/startup.ts) sets the normal policy back once an answer passes 64 KiB (src/cli/turn.ts), so a long
 * answer is processed by JIT-compiled code and a short one pays for no compiles.
 */
const startupJitPolicy = 30;

/**
 * Bun writes each executable first to `.<hash>-<n>.bun-build` in the working directory, then renames it to
 * the outfile: a build stopped between the two (Ctrl+C, a CI timeout) left 100 MB there for good, hidden and
 * ignored by git. Each compile therefore runs in a directory of its own next to the outfile (the same file
 * system, so the renames stay renames), removed when it ends and on SIGINT or SIGTERM: nothing of another
 * build is touched.
 */
const ownDirectories = new Set<string>();

function removeOwnDirectoriesAndExit(code: number): never {
  for (const directory of ownDirectories) removeQuietly(directory);
  process.exit(code);
}

function cleanUpWhenStopped(): void {
  process.once('SIGINT', () => removeOwnDirectoriesAndExit(130));
  process.once('SIGTERM', () => removeOwnDirectoriesAndExit(143));
}

async function compile(outfile: string, bunTarget?: string): Promise<void> {
  mkdirSync(path.dirname(outfile), { recursive: true });
  // Build next to the destination and rename: a binary that is running elsewhere (a test, a shell) is
  // replaced atomically instead of being rewritten under it (ETXTBSY) or left half-written on failure.
  const workDirectory = mkdtempSync(path.join(path.dirname(outfile), '.build-'));
  ownDirectories.add(workDirectory);
  const temporary = path.join(workDirectory, path.basename(outfile));
  const startedIn = process.cwd();
  process.chdir(workDirectory);
  try {
    await compileInto(temporary, bunTarget);
    renameSync(temporary, outfile);
  } finally {
    process.chdir(startedIn);
    // The 100 MB temporary files are not left behind (a failed build, a directory in the way, a full disk).
    removeQuietly(workDirectory);
    ownDirectories.delete(workDirectory);
  }
}

async function compileInto(temporary: string, bunTarget?: string): Promise<void> {
  const result = await Bun.build({
    entrypoints: [entryPoint],
    compile: {
      outfile: temporary,
      // release targets (check-binary.ts) are spelled as Bun spells them: bun-linux-x64, ...
      ...(bunTarget ? { target: bunTarget as Bun.Build.CompileTarget } : {}),
      // The binary must not read .env or bunfig.toml from wherever it is started: configuration is ours.
      autoloadDotenv: false,
      autoloadBunfig: false,
      jitPolicy: startupJitPolicy,
    },
    minify: true,
    // Bytecode halves start-up (one-shot run 56 -> 26 ms, --version 38 -> 22 ms on the benchmark machine):
    // JavaScriptCore skips parsing the bundle. It is a cache: a runtime that rejects it parses the embedded
    // source instead. ESM, because main.ts uses top-level await (bytecode defaults to CommonJS).
    bytecode: true,
    format: 'esm',
    // Without splitting, the bundler hoists the node: built-ins of lazily imported modules (readline and
    // tty for the REPL, crypto for OAuth) to the top, and every one-shot run pays for loading them.
    splitting: true,
    plugins: [jsoncParserOnlyForReading, kyFeatureCheckAtBuildTime],
    throw: false,
  });
  if (!result.success) {
    const messages = result.logs.map((log) => String(log)).join('\n');
    throw new Error(`bun build failed for ${bunTarget ?? 'the host'}:\n${messages}`);
  }
}

/** Removes a file that may not be there, on a file system that may not allow it: the first error is the one to report. */
function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true, recursive: true });
  } catch {
    // A read-only dist/ (EROFS): Bun's own failure, already in hand, says more than this one.
  }
}

/** The release target this machine runs natively, if it is one of ours. */
export function hostTarget(): ReleaseTarget | undefined {
  const architecture = process.arch === 'x64' ? 'x64' : process.arch === 'arm64' ? 'arm64' : undefined;
  const osName = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform as string];
  if (!architecture || !osName) return undefined;
  // The Bun running this script is the host's runtime: musl if its ELF interpreter is musl's loader.
  const musl =
    process.platform === 'linux' &&
    Boolean(readExecutableHeader(process.execPath).interpreter?.includes('musl'));
  const suffix = musl ? '-musl' : '';
  return releaseTargets.find((candidate) => candidate.bunTarget === `bun-${osName}-${architecture}${suffix}`);
}

function runVersion(file: string, prefix: string[] = []): void {
  // Started from an empty directory so no project file can influence it.
  const cwd = mkdtemp();
  try {
    const result = Bun.spawnSync([...prefix, file, '--version'], { cwd, stdout: 'pipe', stderr: 'pipe' });
    const printed = result.stdout.toString().trim();
    if (result.exitCode !== 0 || printed !== version) {
      throw new Error(
        `${file} --version: exit ${result.exitCode}, printed ${JSON.stringify(printed)}, expected ${version}` +
          (result.stderr.length > 0 ? `\n${result.stderr.toString()}` : ''),
      );
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

function mkdtemp(): string {
  const directory = path.join(
    os.tmpdir(),
    `qwen-build-${process.pid}-${Math.random().toString(36).slice(2)}`,
  );
  mkdirSync(directory);
  return directory;
}

/**
 * For binaries this machine cannot run: package.json's name and version are in the embedded bundle. Bun
 * stores the bundle as Latin-1, or as UTF-16 when the source has other characters, so look for both.
 */
async function embedsVersion(file: string): Promise<boolean> {
  const bytes = Buffer.from(await Bun.file(file).arrayBuffer());
  for (const encoding of ['latin1', 'utf16le'] as const) {
    const name = Buffer.from(`"${packageJson.name}"`, encoding);
    const quotedVersion = Buffer.from(`"${version}"`, encoding);
    for (let at = bytes.indexOf(name); at !== -1; at = bytes.indexOf(name, at + 1)) {
      const near = bytes.indexOf(quotedVersion, at);
      if (near !== -1 && near - at < 400) return true;
    }
  }
  return false;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// Only the host's own target is run: another target may look runnable (a Debian machine with the musl
// package has musl's loader) and still not load (the musl build also needs musl's libstdc++ and libgcc).
/**
 * The linux-arm64 artifact also runs on a linux-x64 machine with qemu user mode and an arm64 glibc
 * (Debian: apt-get install qemu-user libc6-arm64-cross). Optional: without them it is checked like the
 * other foreign targets.
 */
function emulatorFor(target: ReleaseTarget | undefined): string[] | undefined {
  if (target?.bunTarget !== 'bun-linux-arm64' || process.platform !== 'linux' || process.arch !== 'x64') {
    return undefined;
  }
  const qemu = Bun.which('qemu-aarch64');
  const sysroot = '/usr/aarch64-linux-gnu';
  return qemu && existsSync(path.join(sysroot, 'lib', 'ld-linux-aarch64.so.1'))
    ? [qemu, '-L', sysroot]
    : undefined;
}

async function verify(
  file: string,
  expected: ReleaseTarget | undefined,
  isHost: boolean,
): Promise<BuiltArtifact> {
  const header = readExecutableHeader(file);
  const problems = expected ? checkExecutableHeader(header, expected) : [];
  if (problems.length > 0) throw new Error(`${path.basename(file)}: ${problems.join('; ')}`);
  let ranVersion: BuiltArtifact['ranVersion'] = false;
  const emulator = isHost ? undefined : emulatorFor(expected);
  if (isHost) {
    runVersion(file);
    ranVersion = true;
  } else if (emulator) {
    runVersion(file, emulator);
    ranVersion = 'qemu';
  } else if (!(await embedsVersion(file))) {
    throw new Error(
      `${path.basename(file)}: ${packageJson.name} ${version} not found in the embedded bundle`,
    );
  }
  return { file, header, size: statSync(file).size, ranVersion };
}

function formatSize(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function report(artifacts: BuiltArtifact[]): void {
  const width = Math.max(...artifacts.map((artifact) => path.relative(root, artifact.file).length));
  for (const artifact of artifacts) {
    const name = path.relative(root, artifact.file).padEnd(width);
    const checked =
      artifact.ranVersion === 'qemu'
        ? `--version ${version} (under qemu)`
        : artifact.ranVersion
          ? `--version ${version}`
          : `embeds ${version}`;
    process.stdout.write(
      `${name}  ${formatSize(artifact.size).padStart(10)}  ${describeHeader(artifact.header)}; ${checked}\n`,
    );
  }
}

async function buildHost(outfile: string): Promise<void> {
  await compile(outfile);
  report([await verify(outfile, hostTarget(), true)]);
}

async function buildAll(): Promise<void> {
  const started = performance.now();
  const host = hostTarget();
  if (!host) {
    throw new Error(
      `this machine (${process.platform} ${process.arch}) is not a release target, so no artifact could be run`,
    );
  }
  // A build that stops halfway must not leave the old checksums beside new binaries: they are written
  // again only once every artifact is built and checked.
  rmSync(path.join(distDirectory, 'SHA256SUMS'), { force: true });
  const artifacts: BuiltArtifact[] = [];
  for (const target of releaseTargets) {
    const file = path.join(distDirectory, target.fileName);
    await compile(file, target.bunTarget);
    artifacts.push(await verify(file, target, target === host));
  }
  const lines: string[] = [];
  for (const artifact of artifacts)
    lines.push(`${await sha256(artifact.file)}  ${path.basename(artifact.file)}`);
  writeFileSync(path.join(distDirectory, 'SHA256SUMS'), `${lines.join('\n')}\n`);
  process.stdout.write(`\n${packageJson.name} ${version}, Bun ${Bun.version}\n`);
  report(artifacts);
  process.stdout.write(
    `dist/SHA256SUMS written; ${artifacts.length} artifacts in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

/** node_modules/.bin/deno (the devDependency) or a deno on PATH. */
export function denoExecutable(): string | undefined {
  const local = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'deno.cmd' : 'deno');
  return existsSync(local) ? local : (Bun.which('deno') ?? undefined);
}

/**
 * `deno compile` embeds the whole node_modules folder when it is managed by npm, development tools
 * included (bun, deno, typescript, biome: over 300 MB). Packages the lockfile marks `dev` are left out, and
 * so is .bin, whose links would pull them back in.
 */
function denoExcludes(): string[] {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, { dev?: boolean }>;
  };
  const excluded = ['node_modules/.bin'];
  for (const [location, entry] of Object.entries(lock.packages ?? {})) {
    if (entry.dev && location.startsWith('node_modules/') && existsSync(path.join(root, location))) {
      excluded.push(location);
    }
  }
  return excluded.flatMap((location) => ['--exclude', location]);
}

async function buildDeno(outfile: string): Promise<void> {
  const deno = denoExecutable();
  if (!deno) throw new Error('deno not found: run npm install (it is a devDependency) or put deno on PATH');
  mkdirSync(path.dirname(outfile), { recursive: true });
  const temporary = path.join(path.dirname(outfile), `.build-${process.pid}-${path.basename(outfile)}`);
  // -A: the binary needs env, files, network and the terminal; --no-check: tsc already type-checks src/.
  const command = [deno, 'compile', '-A', '--no-check', ...denoExcludes(), '--output', temporary, entryPoint];
  const result = Bun.spawnSync(command, { stdout: 'inherit', stderr: 'inherit', cwd: root });
  if (result.exitCode !== 0) {
    rmSync(temporary, { force: true });
    throw new Error(
      `deno compile failed (exit ${result.exitCode}). It downloads its runtime (denort) from dl.deno.land ` +
        'on first use; where that host cannot be reached, set DENORT_BIN to a denort binary of the same ' +
        'version as deno.',
    );
  }
  renameSync(temporary, outfile);
  const header = readExecutableHeader(outfile);
  runVersion(outfile);
  report([{ file: outfile, header, size: statSync(outfile).size, ranVersion: true }]);
}

type BuildMode = 'host' | 'all' | 'deno';

function parseArguments(argv: string[]): { mode: BuildMode; outfile: string | undefined } {
  let mode: BuildMode = 'host';
  let outfile: string | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === '--all') mode = 'all';
    else if (argument === '--deno') mode = 'deno';
    else if (argument === '--outfile' && argv[index + 1] !== undefined) {
      outfile = path.resolve(argv[index + 1] as string);
      index += 1;
    } else {
      throw new Error(
        `unknown argument ${argument}; usage: bun scripts/build.ts [--all | --deno] [--outfile <path>]`,
      );
    }
  }
  if (mode === 'all' && outfile)
    throw new Error('--all writes dist/qwen-<os>-<arch>; --outfile does not apply');
  return { mode, outfile };
}

if (import.meta.main) {
  try {
    const options = parseArguments(process.argv.slice(2));
    cleanUpWhenStopped();
    if (options.mode === 'all') await buildAll();
    else if (options.mode === 'deno')
      await buildDeno(options.outfile ?? path.join(distDirectory, 'qwen-deno'));
    else await buildHost(options.outfile ?? path.join(distDirectory, 'qwen'));
  } catch (error) {
    process.stderr.write(`build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
