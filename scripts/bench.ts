// Benchmark (not a test): `bun scripts/bench.ts [--runs N] [--no-build] [--binary path]`.
// For the compiled binary (dist/qwen, rebuilt first unless --no-build) against the fake OpenAI-compatible
// server running as its own process, next to a minimal compiled Bun program (the floor) that sends the same
// request and copies the response body to stdout:
//   1. `--version` wall time (and the floors' bare start-up),
//   2. a one-shot run: wall time and peak memory (RSS),
//   3. a 20 MiB answer streamed through the CLI into a drained pipe, against the floor reading it raw.
// A second floor does the same through node: APIs, as src/ must (it also runs on Deno), to tell Bun's cost
// of process.stdin/stdout from the CLI's own. Medians of N runs (default 9, at least 7), taking turns.
// Targets: one-shot within 1.5x of the floor, streaming within 1.5x of raw.
// `--budget` adds what the one-shot path cannot avoid under the house rules (node: built-ins for files, ky
// for the request), measured with probe programs compiled the way dist/qwen is.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dir, '..');
const targetRatio = 1.5;
const streamedBytes = 20 * 1024 * 1024;
const streamedPieceBytes = 1024;
/** The fake server's script for the one-shot runs. */
const shortAnswer = [{ stream: { text: ['Hello', ' from', ' the bench.'] } }];

type Sample = { wallMs: number; peakRssKiB?: number; stdoutBytes: number; exitCode: number };
type Options = { runs: number; build: boolean; binary: string; budget: boolean };

function parseOptions(argv: string[]): Options {
  const options: Options = { runs: 9, build: true, binary: path.join(root, 'dist', 'qwen'), budget: false };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === '--no-build') options.build = false;
    else if (argument === '--budget') options.budget = true;
    else if (argument === '--runs') options.runs = Math.max(7, Number(argv[++index]));
    else if (argument === '--binary') {
      options.binary = path.resolve(argv[++index] ?? '');
      options.build = false;
    } else throw new Error(`unknown argument ${argument}`);
  }
  if (!Number.isInteger(options.runs)) throw new Error('--runs takes a whole number');
  return options;
}

// The floor: what any Bun program must do for the same answer, and nothing more.
const floorSource = `
const [baseUrl, key, model] = process.argv.slice(2);
if (baseUrl === undefined) process.exit(0);
const response = await fetch(baseUrl + '/chat/completions', {
  method: 'POST',
  headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json', accept: 'text/event-stream' },
  body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], stream: true,
    stream_options: { include_usage: true } }),
});
if (!response.ok || !response.body) process.exit(1);
const writer = Bun.stdout.writer();
for await (const chunk of response.body) writer.write(chunk);
await writer.flush();
`;

// The same floor written as src/ must be written (node: APIs, no Bun.*: the source also runs on Deno):
// process.stdin's TTY check, node:fs, and process.stdout.write. Bun builds process.stdin and process.stdout
// as Node streams on first use, which is most of what separates the two floors at start-up.
const nodeFloorSource = `
import { existsSync } from 'node:fs';
import process from 'node:process';
const [baseUrl, key, model] = process.argv.slice(2);
if (baseUrl === undefined) {
  process.stdout.write('0.0.0\\n');
} else {
  const piped = !process.stdin.isTTY && existsSync('/');
  const response = await fetch(baseUrl + '/chat/completions', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: piped ? 'hello' : 'hi' }], stream: true,
      stream_options: { include_usage: true } }),
  });
  if (!response.ok || !response.body) process.exit(1);
  for await (const chunk of response.body) {
    if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
}
`;

// Budget probes. Each exits once its work is done, so two of them differ only by what is measured.
const emptyProbeSource = `globalThis.probe = process.argv.length;`;
// What src/ imports for files (settings, .env, stdio): an import alone, unused, is what it costs at start-up.
const builtinsProbeSource = `
import { statSync } from 'node:fs';
import { join } from 'node:path';
globalThis.probe = [statSync, join];
`;
const requestSource = `{
  url: process.argv[2] + '/chat/completions',
  headers: { authorization: 'Bearer sk-bench', 'content-type': 'application/json', accept: 'text/event-stream' },
  body: JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'hello' }], stream: true }),
}`;
const fetchProbeSource = `
const { url, ...init } = ${requestSource};
const response = await fetch(url, { method: 'POST', ...init, signal: new AbortController().signal });
await response.arrayBuffer();
`;
/** The same request through the product's own ky call (src/net/http.ts), so the probe cannot drift from it. */
function kyProbeSource(httpModule: string): string {
  return `
import { postForStream } from ${JSON.stringify(httpModule)};
const response = await postForStream({
  request: ${requestSource},
  signal: new AbortController().signal,
  parseErrorBody: (status, body) => ({ message: body || String(status) }),
  fetchImplementation: (input, init) => fetch(input, init),
});
await response.arrayBuffer();
`;
}

/** How peak memory is read: GNU time, BSD time (macOS), or polling /proc while the process runs. */
type MemoryProbe = 'gnu-time' | 'bsd-time' | 'proc' | 'none';

function memoryProbe(): { probe: MemoryProbe; note: string } {
  if (existsSync('/usr/bin/time')) {
    const gnu = Bun.spawnSync(['/usr/bin/time', '-f', '%M', 'true'], { stderr: 'pipe' });
    if (gnu.exitCode === 0 && /^\d+\s*$/.test(gnu.stderr.toString())) {
      return { probe: 'gnu-time', note: 'peak RSS from /usr/bin/time (GNU time)' };
    }
    if (process.platform === 'darwin') return { probe: 'bsd-time', note: 'peak RSS from /usr/bin/time -l' };
  }
  if (existsSync('/proc/self/status')) {
    return {
      probe: 'proc',
      note: 'peak RSS by polling /proc/<pid>/status VmHWM (GNU time not found: `apt-get install time` is more exact)',
    };
  }
  return { probe: 'none', note: 'peak RSS not measured: no /usr/bin/time and no /proc' };
}

async function measure(
  command: string[],
  probe: MemoryProbe,
  scratch: string,
  environment: Record<string, string>,
): Promise<Sample> {
  const timeFile = path.join(scratch, 'time.out');
  const wrapped =
    probe === 'gnu-time'
      ? ['/usr/bin/time', '-o', timeFile, '-f', '%M', ...command]
      : probe === 'bsd-time'
        ? ['/usr/bin/time', '-l', '-o', timeFile, ...command]
        : command;
  const started = performance.now();
  const child = Bun.spawn(wrapped, {
    cwd: scratch,
    env: environment,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  let peakFromProc = 0;
  const poll =
    probe === 'proc'
      ? setInterval(() => {
          try {
            const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
            const match = /VmHWM:\s+(\d+) kB/.exec(status);
            if (match) peakFromProc = Math.max(peakFromProc, Number(match[1]));
          } catch {
            // The process has exited between two polls.
          }
        }, 2)
      : undefined;
  let stdoutBytes = 0;
  const drain = (async () => {
    for await (const chunk of child.stdout) stdoutBytes += chunk.byteLength;
  })();
  const [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text(), drain]);
  const wallMs = performance.now() - started;
  if (poll) clearInterval(poll);
  if (exitCode !== 0) throw new Error(`${command.join(' ')} exited ${exitCode}: ${stderr.trim()}`);
  const sample: Sample = { wallMs, stdoutBytes, exitCode };
  if (probe === 'gnu-time')
    sample.peakRssKiB = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1));
  if (probe === 'bsd-time') {
    const match = /(\d+)\s+maximum resident set size/.exec(readFileSync(timeFile, 'utf8'));
    if (match) sample.peakRssKiB = Number(match[1]) / 1024;
  }
  if (probe === 'proc' && peakFromProc > 0) sample.peakRssKiB = peakFromProc;
  return sample;
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Runs each command once to warm up, then N rounds of all of them, so drift hits all alike. The order changes
 * from round to round (a fixed rotation of the starting command): a command that always ran right after the
 * heaviest one would inherit its cache and scheduler aftermath every time.
 */
async function compare(
  label: string,
  runs: number,
  commands: (() => Promise<Sample>)[],
): Promise<{ cli: Sample[]; floor: Sample[]; nodeFloor: Sample[] }> {
  process.stderr.write(`${label}: warming up, then ${runs} runs each\n`);
  for (const command of commands) await command();
  const samples: Sample[][] = commands.map(() => []);
  for (let run = 0; run < runs; run += 1) {
    for (let step = 0; step < commands.length; step += 1) {
      const index = (run + step) % commands.length;
      samples[index]?.push(await (commands[index] as () => Promise<Sample>)());
    }
  }
  return { cli: samples[0] ?? [], floor: samples[1] ?? [], nodeFloor: samples[2] ?? [] };
}

function row(name: string, samples: Sample[]): string {
  const wall = median(samples.map((sample) => sample.wallMs));
  const rss = samples.map((sample) => sample.peakRssKiB).filter((value) => value !== undefined);
  const memory = rss.length > 0 ? `${(median(rss) / 1024).toFixed(1)} MiB` : 'n/a';
  const spread = `${Math.min(...samples.map((s) => s.wallMs)).toFixed(1)}-${Math.max(...samples.map((s) => s.wallMs)).toFixed(1)}`;
  return `  ${name.padEnd(40)} ${`${wall.toFixed(1)} ms`.padStart(10)}  (range ${spread} ms)  peak RSS ${memory}`;
}

function verdict(name: string, cli: Sample[], floor: Sample[]): string {
  const ratio = median(cli.map((sample) => sample.wallMs)) / median(floor.map((sample) => sample.wallMs));
  const status = ratio <= targetRatio ? 'within target' : 'MISSES target';
  return `  ${name}: ${ratio.toFixed(2)}x (target <= ${targetRatio}x, ${status})`;
}

async function startFakeServer(scratch: string): Promise<{ url: string; stop: () => void }> {
  const script = path.join(scratch, 'fake-script.json');
  writeFileSync(script, JSON.stringify(shortAnswer));
  const server = Bun.spawn([process.execPath, path.join(root, 'test', 'fakes', 'openai-server.ts'), script], {
    cwd: scratch,
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const reader = server.stdout.getReader();
  let buffered = '';
  while (!buffered.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) throw new Error('fake server exited before printing its URL');
    buffered += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { url } = JSON.parse(buffered.slice(0, buffered.indexOf('\n'))) as { url: string };
  return { url, stop: () => server.kill('SIGTERM') };
}

async function setResponses(url: string, steps: unknown): Promise<void> {
  const response = await fetch(`${url.replace(/\/v1$/, '')}/__fake/responses`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(steps),
  });
  if (!response.ok) throw new Error(`fake server refused the script: ${response.status}`);
}

function bigAnswerPieces(): string[] {
  const line = 'The quick brown fox jumps over the lazy dog while the benchmark streams text. ';
  const piece = line.repeat(Math.ceil(streamedPieceBytes / line.length)).slice(0, streamedPieceBytes - 1);
  return Array.from({ length: streamedBytes / streamedPieceBytes }, () => `${piece}\n`);
}

/** `likeTheCli`: with bytecode and as ESM, as scripts/build.ts compiles dist/qwen (the floors are faster without). */
function compileFloor(scratch: string, name: string, source: string, likeTheCli = false): string {
  const outfile = path.join(scratch, name);
  writeFileSync(`${outfile}.ts`, source);
  const flags = ['--compile', '--minify', '--no-compile-autoload-dotenv', '--no-compile-autoload-bunfig'];
  if (likeTheCli) flags.push('--bytecode', '--format=esm');
  build([process.execPath, 'build', ...flags, `${outfile}.ts`, '--outfile', outfile], `compiling ${name}`);
  return outfile;
}

/** The budget section: import costs at start-up, and ky's cost over a plain fetch, each as a difference. */
async function measureBudget(
  scratch: string,
  runs: number,
  run: (binary: string, args: string[]) => () => Promise<Sample>,
  url: string,
): Promise<string[]> {
  const probe = (name: string, source: string) => compileFloor(scratch, name, source, true);
  const empty = probe('probe-empty', emptyProbeSource);
  const builtins = probe('probe-builtins', builtinsProbeSource);
  const plainFetch = probe('probe-fetch', fetchProbeSource);
  const viaKy = probe('probe-ky', kyProbeSource(path.join(root, 'src', 'net', 'http.ts')));
  const imports = await compare('budget: imports', runs, [run(builtins, []), run(empty, [])]);
  const requestPair = await compare('budget: request', runs, [run(viaKy, [url]), run(plainFetch, [url])]);
  const extra = (pair: { cli: Sample[]; floor: Sample[] }) =>
    median(pair.cli.map((sample) => sample.wallMs)) - median(pair.floor.map((sample) => sample.wallMs));
  return [
    '',
    'budget: what the one-shot path cannot avoid under the house rules (probes compiled like dist/qwen)',
    row('empty program', imports.floor),
    row('importing node:fs and node:path', imports.cli),
    row('one request with fetch, body read', requestPair.floor),
    row('through ky, as net/http.ts sends it', requestPair.cli),
    `  fixed cost: ${extra(imports).toFixed(1)} ms for the built-ins + ${extra(requestPair).toFixed(1)} ms for ky`,
  ];
}

function build(command: string[], what: string): void {
  const result = Bun.spawnSync(command, { cwd: root, stdout: 'pipe', stderr: 'pipe' });
  if (result.exitCode !== 0) throw new Error(`${what} failed:\n${result.stderr.toString()}`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'qwen-bench-'));
  const home = path.join(scratch, 'home');
  Bun.spawnSync(['mkdir', '-p', home]);
  const { probe, note } = memoryProbe();
  let server: { url: string; stop: () => void } | undefined;
  try {
    if (options.build)
      build([process.execPath, path.join(root, 'scripts', 'build.ts')], 'building dist/qwen');
    if (!existsSync(options.binary)) throw new Error(`${options.binary} not found; run npm run build`);
    const floor = compileFloor(scratch, 'floor', floorSource);
    const nodeFloor = compileFloor(scratch, 'node-floor', nodeFloorSource);
    server = await startFakeServer(scratch);
    const url = server.url;
    const environment = { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1' };
    const cliArgs = [
      '--auth-type',
      'openai',
      '--openai-api-key',
      'sk-bench',
      '--openai-base-url',
      url,
      '-m',
      'bench-model',
      'hello',
    ];
    const runBinary = (binary: string, args: string[]) => () =>
      measure([binary, ...args], probe, scratch, environment);
    const runCli = (args: string[]) => runBinary(options.binary, args);
    const runFloor = (args: string[]) => runBinary(floor, args);
    const runNodeFloor = (args: string[]) => runBinary(nodeFloor, args);
    const floorArgs = [url, 'sk-bench', 'bench-model'];

    const version = await compare('--version', options.runs, [
      runCli(['--version']),
      runFloor([]),
      runNodeFloor([]),
    ]);
    await setResponses(url, shortAnswer);
    const oneShot = await compare('one-shot', options.runs, [
      runCli(cliArgs),
      runFloor(floorArgs),
      runNodeFloor(floorArgs),
    ]);
    await setResponses(url, [{ stream: { text: bigAnswerPieces() } }]);
    const streaming = await compare('20 MiB stream', options.runs, [
      runCli(cliArgs),
      runFloor(floorArgs),
      runNodeFloor(floorArgs),
    ]);
    if (options.budget) await setResponses(url, shortAnswer);
    const budget = options.budget ? await measureBudget(scratch, options.runs, runBinary, url) : [];
    const cliBytes = streaming.cli[0]?.stdoutBytes ?? 0;
    if (cliBytes < streamedBytes)
      throw new Error(`the CLI printed ${cliBytes} bytes, expected ${streamedBytes}`);

    const lines = [
      '',
      `qwen-lite benchmark: ${path.relative(root, options.binary) || options.binary}, Bun ${Bun.version}, ` +
        `${os.cpus().length} CPUs, medians of ${options.runs} runs; ${note}`,
      '',
      '--version',
      row('qwen --version', version.cli),
      row('floor: compiled Bun, exits at once', version.floor),
      row('node floor: prints with process.stdout', version.nodeFloor),
      '',
      'one-shot (short streamed answer from the fake server)',
      row('qwen "hello"', oneShot.cli),
      row('floor: one fetch, body to stdout', oneShot.floor),
      row('node floor: same with node: APIs', oneShot.nodeFloor),
      verdict('one-shot / floor', oneShot.cli, oneShot.floor),
      verdict('one-shot / node floor', oneShot.cli, oneShot.nodeFloor),
      '',
      `20 MiB answer in ${streamedBytes / streamedPieceBytes} deltas of ${streamedPieceBytes} B ` +
        `(${((streaming.floor[0]?.stdoutBytes ?? 0) / 1024 / 1024).toFixed(1)} MiB of SSE), stdout drained`,
      row('qwen "hello" (text out)', streaming.cli),
      row('raw: floor copies the SSE bytes', streaming.floor),
      row('raw with process.stdout.write', streaming.nodeFloor),
      verdict('streaming / raw', streaming.cli, streaming.floor),
      verdict('streaming / raw with process.stdout', streaming.cli, streaming.nodeFloor),
      `  throughput: qwen ${(streamedBytes / 1024 / 1024 / (median(streaming.cli.map((s) => s.wallMs)) / 1000)).toFixed(0)} MiB/s of text`,
      ...budget,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
