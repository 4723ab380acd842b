// Standard streams at the file-descriptor level. Bun builds `process.stdin`/`process.stdout` as Node
// streams on first touch, which costs a compiled one-shot run about 13 ms (measured: 7 ms -> 20 ms for a
// program that prints one line), more than everything else it does. A one-shot run therefore writes with
// writeSync and reads stdin with fs.read; only the interactive session uses the stream objects.
import { fstatSync, read, readSync, type Stats, statSync, writeSync } from 'node:fs';
import process from 'node:process';
import { homeFromEnvironment } from '../config/paths.ts';
import { CliError, exitCodes } from '../core/errors.ts';

const encoder = new TextEncoder();
const pauseCell = new Int32Array(new SharedArrayBuffer(4));

/** The exit code of a run whose stdout reader goes away: 0, unless the run is already reporting a failure. */
let exitCodeWithoutReader = 0;
/** stderr could not be written once (closed, full): diagnostics are dropped from then on. */
let stderrGone = false;

/**
 * The run has failed with `exitCode` and is saying so: if stdout or stderr turn out to be gone while it does
 * (`qwen ... | head -c 3` and then the stream breaks), the exit code still tells a CI job what happened.
 */
export function reportingFailure(exitCode: number): void {
  exitCodeWithoutReader = exitCode;
}

/** Writes all of `output`, waiting out partial writes and a non-blocking pipe that is full (EAGAIN). */
export function writeAll(fd: number, output: string | Uint8Array): void {
  if (fd === 2 && stderrGone) return;
  const bytes = typeof output === 'string' ? encoder.encode(output) : output;
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        // The reader is slower than we are: give it a millisecond, synchronously, and try again.
        Atomics.wait(pauseCell, 0, 0, 1);
        continue;
      }
      // Diagnostics with nowhere to go are dropped; the run goes on, and its exit code says how it ended.
      if (fd === 2) {
        stderrGone = true;
        return;
      }
      // The reader went away (`qwen ... | head`): nobody wants the rest, so stop quietly, like `cat` does
      // on SIGPIPE, without letting the request run on.
      if (code === 'EPIPE') process.exit(exitCodeWithoutReader);
      cannotWrite(error);
    }
  }
}

/**
 * stdout cannot take what is written (a full disk, a file closed under us): one line on stderr and exit 1 (or the
 * code of the failure being reported). Thrown instead, the error would surface from a renderer's microtask
 * as a stack trace.
 */
function cannotWrite(error: unknown): never {
  writeAll(2, `qwen: Could not write to stdout (${systemErrorReason(error)}).\n`);
  process.exit(exitCodeWithoutReader || exitCodes.api);
}

/**
 * A failed read or write in one wording: Bun says `ENOSPC: no space left on device, write`, Deno
 * `No space left on device (os error 28)`; both become `ENOSPC: no space left on device`, the code first.
 */
function systemErrorReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && !message.startsWith(code)
    ? `${code}: ${message.replace(/ \(os error \d+\)$/, '').toLowerCase()}`
    : message.replace(/, (read|write)$/, '');
}

/**
 * A terminal is a character device that isatty() confirms. node:tty (~5 ms) is loaded only for character
 * devices other than /dev/null, which is what CI jobs usually give as stdin.
 */
export async function isTerminal(fd: number): Promise<boolean> {
  const status = statusOf(fd);
  if (status === undefined || !status.isCharacterDevice() || isNullDevice(status)) return false;
  const { isatty } = await import('node:tty');
  return isatty(fd);
}

function statusOf(fd: number): Stats | undefined {
  try {
    return fstatSync(fd);
  } catch {
    return undefined;
  }
}

let nullDevice: number | undefined;

/** Asked up to three times a run (stdin, stdout, reading stdin): /dev/null is looked up once. */
function isNullDevice(status: Stats): boolean {
  if (process.platform === 'win32' || !status.isCharacterDevice()) return false;
  nullDevice ??= statSync('/dev/null').rdev;
  return status.rdev === nullDevice;
}

/** os.homedir() without loading node:os (~2 ms) when the environment already says it. */
export async function homeDirectory(): Promise<string> {
  const fromEnvironment = homeFromEnvironment();
  if (fromEnvironment !== undefined) return fromEnvironment;
  let home = '';
  try {
    home = (await import('node:os')).homedir();
  } catch {
    // No HOME, and a user the system does not know (a container run with an arbitrary --user).
  }
  if (home !== '') return home;
  throw new CliError(
    'config',
    'Cannot find your home directory: HOME is not set, and this user has no entry in the system user list.',
    {
      hint: 'Set HOME to a directory you can write to (in a container run with --user, for example HOME=/tmp).',
    },
  );
}

/** Qwen Code's rule: a pipe that has sent nothing after this long is treated as empty. */
export const stdinFirstByteTimeoutMs = 500;
/** Larger inputs are cut, with a warning, like Qwen Code. */
export const stdinMaxBytes = 8 * 1024 * 1024;

export interface StdinText {
  text: string;
  truncated: boolean;
  /** Nothing came within the first-byte wait (the text is then empty). */
  timedOut?: boolean;
  /**
   * Why stdin could not be read (`EBADF: bad file descriptor` for `0>>file`, `EISDIR: ...` for `< /tmp`);
   * the text is then empty, even when some of it came before the failure: a part of it is no input.
   */
  unreadable?: string;
}

/**
 * The text piped on stdin; undefined when stdin was empty, `timedOut` when nothing came within the wait,
 * `unreadable` when reading it failed (never thrown: a run without its stdin can still answer its prompt).
 * Never hangs on a stdin that stays open and silent; the read left pending then is ended by the process
 * exit (main.ts). The caller checks first that stdin is not a terminal.
 */
export function readPipedStdin(firstByteTimeoutMs = stdinFirstByteTimeoutMs): Promise<StdinText | undefined> {
  const status = statusOf(0);
  // What CI runners give most often: nothing to wait for (a pipe costs a round trip through the thread pool).
  if (status !== undefined && isNullDevice(status)) return Promise.resolve(undefined);
  // `qwen "summarise" < notes.md`: a file is read at once; only pipes and sockets can stay silent.
  if (status?.isFile()) return Promise.resolve(readFileOnStdin());
  return new Promise((resolve) => {
    const input = collectStdin();
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(firstByteTimer);
      resolve(input.result());
    };
    const firstByteTimer = setTimeout(() => {
      if (input.isEmpty() && !settled) {
        settled = true;
        resolve({ text: '', truncated: false, timedOut: true });
      }
    }, firstByteTimeoutMs);
    const readNext = () => {
      const buffer = Buffer.allocUnsafe(readSize);
      read(0, buffer, 0, buffer.length, null, (error, bytesRead) => {
        if (settled) return;
        if (error) {
          settled = true;
          clearTimeout(firstByteTimer);
          return resolve(unreadableStdin(error));
        }
        if (bytesRead === 0 || input.add(buffer.subarray(0, bytesRead))) return finish();
        readNext();
      });
    };
    readNext();
  });
}

const readSize = 64 * 1024;

function readFileOnStdin(): StdinText | undefined {
  const input = collectStdin();
  for (;;) {
    const buffer = Buffer.allocUnsafe(readSize);
    let bytesRead: number;
    try {
      bytesRead = readSync(0, buffer, 0, buffer.length, null);
    } catch (error) {
      // `qwen "..." 0>>log`: a file open for writing only.
      return unreadableStdin(error);
    }
    if (bytesRead === 0 || input.add(buffer.subarray(0, bytesRead))) return input.result();
  }
}

function unreadableStdin(error: unknown): StdinText {
  return { text: '', truncated: false, unreadable: systemErrorReason(error) };
}

/** stdin's bytes up to stdinMaxBytes, for both ways of reading it. */
function collectStdin() {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  return {
    isEmpty: () => size === 0,
    /** Keeps what fits; true once the limit is passed (the rest is dropped and reading should stop). */
    add(bytes: Uint8Array): boolean {
      const kept = bytes.subarray(0, stdinMaxBytes - size);
      chunks.push(kept);
      size += kept.length;
      truncated = kept.length < bytes.length;
      return truncated;
    },
    result(): StdinText | undefined {
      if (size === 0) return undefined;
      const bytes = Buffer.concat(chunks);
      // Cut at the limit, a character may have lost its last bytes: it goes whole rather than as U+FFFD.
      const kept = truncated ? bytes.subarray(0, wholeCharactersEnd(bytes)) : bytes;
      return { text: kept.toString('utf8'), truncated };
    },
  };
}

/** Where the last complete UTF-8 character of `bytes` ends (bytes.length when none is cut short). */
export function wholeCharactersEnd(bytes: Uint8Array): number {
  // A character is at most 4 bytes: look back at most 3 continuation bytes (10xxxxxx) for its lead byte.
  for (let start = bytes.length - 1; start >= 0 && start >= bytes.length - 4; start -= 1) {
    const byte = bytes[start] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return start + length > bytes.length ? start : bytes.length;
  }
  return bytes.length;
}
