// The command line -> ParsedCommand. The usual one-shot forms (`qwen -m x "prompt"`, flags with values,
// `--`) are read here directly; everything else (help, auth, anything unusual, every mistake) goes to the
// cac program in program.ts, loaded only then. Building and running cac's parser was about a quarter of a
// compiled one-shot run (~1.5 ms of ~12 ms in-process). test/unit/command-line.test.ts checks on generated
// command lines that this fast path gives exactly what cac gives, or leaves the line to cac.
import { CliError } from '../core/errors.ts';

/** The flags of the main command. */
export interface MainFlags {
  prompt?: string;
  model?: string;
  authType?: string;
  openaiApiKey?: string;
  openaiBaseUrl?: string;
  outputFormat: string;
  promptInteractive?: string;
  proxy?: string;
  insecure?: boolean;
  debug?: boolean;
}

export interface AuthFlags {
  region?: string;
  key?: string;
  debug?: boolean;
}

export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'main'; positionalPrompt: string; flags: MainFlags }
  | { kind: 'auth'; action: string | undefined; flags: AuthFlags & MainFlags };

export async function parseCommandLine(argv: string[]): Promise<ParsedCommand> {
  return parsePlainMainCommand(argv) ?? (await import('./program.ts')).parseWithCac(argv);
}

/** Value flags and their spellings. Values are taken from argv as typed: cac (mri) would turn "007" into 7. */
export const valueFlags = {
  prompt: ['-p', '--prompt'],
  model: ['-m', '--model'],
  authType: ['--auth-type'],
  openaiApiKey: ['--openai-api-key'],
  openaiBaseUrl: ['--openai-base-url'],
  outputFormat: ['-o', '--output-format'],
  promptInteractive: ['-i', '--prompt-interactive'],
  proxy: ['--proxy'],
} as const;

const valueSpellings: readonly string[] = Object.values(valueFlags).flat();

/**
 * The main command when every argument is a plain positional, a known flag spelled exactly, or a known
 * value flag as `--name=value` or `-n=value`; undefined for anything else, which cac then parses (and explains).
 */
export function parsePlainMainCommand(argv: readonly string[]): ParsedCommand | undefined {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) return { kind: 'version' };
  const positionals: string[] = [];
  let insecure = false;
  let debug = false;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--') {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    if (!argument.startsWith('-')) {
      // The command is the first positional wherever the options are (`qwen --debug auth status`), as in yargs.
      if (positionals.length === 0 && argument === 'auth') return undefined;
      positionals.push(argument);
    } else if (argument === '--insecure' || argument === '--debug') {
      // yargs and cac read `--debug false` as the flag's value; cac decides.
      const next = argv[index + 1];
      if (next === 'true' || next === 'false') return undefined;
      if (argument === '--debug') debug = true;
      else insecure = true;
    } else if (valueSpellings.includes(argument)) {
      // A value that looks like a flag, or none at all: cac's reading (and its error) decides.
      const value = argv[index + 1];
      if (value === undefined || value.startsWith('-')) return undefined;
      index += 1;
    } else if (!isFlagWithValue(argument)) {
      return undefined;
    }
  }
  const flags = readFlags(argv);
  if (insecure) flags.insecure = true;
  if (debug) flags.debug = true;
  return { kind: 'main', positionalPrompt: positionals.join(' '), flags };
}

/** `--name=value` or `-n=value` (yargs reads both) for a value flag; `--model=` is an empty value. */
function isFlagWithValue(argument: string): boolean {
  const equals = argument.indexOf('=');
  return equals > 0 && valueSpellings.includes(argument.slice(0, equals));
}

/** The value flags of the main command, as typed on the command line. */
export function readFlags(argv: readonly string[]): MainFlags {
  const flags: MainFlags = { outputFormat: rawValue(argv, valueFlags.outputFormat) ?? 'text' };
  for (const [name, spellings] of Object.entries(valueFlags) as [
    keyof typeof valueFlags,
    readonly string[],
  ][]) {
    if (name === 'outputFormat') continue;
    const value = rawValue(argv, spellings);
    if (value !== undefined) flags[name] = value;
  }
  return flags;
}

/** The last value given for a flag (`--name value`, `--name=value`, `-m value`, `-m=value`), before any `--`. */
export function rawValue(argv: readonly string[], spellings: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--') break;
    for (const spelling of spellings) {
      if (argument === spelling) {
        const next = argv[index + 1];
        if (next === undefined) throw new CliError('input', `The flag ${spelling} needs a value.`);
        value = next;
        index += 1;
      } else if (argument.startsWith(`${spelling}=`)) {
        value = argument.slice(spelling.length + 1);
      }
    }
  }
  return value;
}
