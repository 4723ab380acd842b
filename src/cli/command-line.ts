// The command line -> ParsedCommand. The usual one-shot forms (`qwen -m x "prompt"`, flags with values,
// `--`) are read here directly; everything else (help, auth, anything unusual, every mistake) goes to the
// cac program in program.ts, loaded only then. Building and running cac's parser was about a quarter of a
// compiled one-shot run (~1.5 ms of ~12 ms in-process). test/unit/command-line.test.ts checks on generated
// command lines that this fast path gives exactly what cac gives, or leaves the line to cac.
import type { ResolveFlags } from '../config/resolve.ts';
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
  // Qwen Code's flags, read so its command lines run unchanged; see compatibility.ts for what each does.
  approvalMode?: string;
  inputFormat?: string;
  maxSessionTurns?: string;
  maxToolCalls?: string;
  maxWallTime?: string;
  fallbackModel?: string;
  yolo?: boolean;
  bare?: boolean;
  includePartialMessages?: boolean;
}

export interface AuthFlags {
  region?: string;
  key?: string;
  debug?: boolean;
}

/** What resolution reads of the command line (config/resolve.ts), for a run and for `qwen auth status`. */
export function flagsForResolution(flags: MainFlags): ResolveFlags {
  return {
    authType: flags.authType,
    model: flags.model,
    openaiApiKey: flags.openaiApiKey,
    openaiBaseUrl: flags.openaiBaseUrl,
    bare: flags.bare,
  };
}

export type ParsedCommand =
  | { kind: 'help'; text: string }
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
  approvalMode: ['--approval-mode'],
  inputFormat: ['--input-format'],
  maxSessionTurns: ['--max-session-turns'],
  maxToolCalls: ['--max-tool-calls'],
  maxWallTime: ['--max-wall-time'],
  fallbackModel: ['--fallback-model'],
} as const;

/** Switches and their spellings. */
const booleanFlags = {
  insecure: ['--insecure'],
  debug: ['-d', '--debug'],
  yolo: ['-y', '--yolo'],
  bare: ['--bare'],
  includePartialMessages: ['--include-partial-messages'],
} as const;

type BooleanFlag = keyof typeof booleanFlags;
/** --debug and its short form, for the failures of parsing itself (run.ts). */
export const debugSpellings: readonly string[] = booleanFlags.debug;
export const booleanNames = Object.keys(booleanFlags) as BooleanFlag[];

const valueSpellings: readonly string[] = Object.values(valueFlags).flat();
/** Every long flag of the main command and of `auth`, for camelCase spellings (yargs accepts them). */
const knownLongSpellings: readonly string[] = [
  ...valueSpellings,
  ...Object.values(booleanFlags).flat(),
  '--region',
  '--key',
  '--help',
  '--version',
].filter((spelling) => spelling.startsWith('--'));
/** Short switches, and short flags that take a value: `-yo json` is `-y -o json`, as in yargs. */
const shortSwitches = 'yvhd';
const shortValueFlags = 'pmoi';

/**
 * The main command when every argument is a plain positional, a known flag spelled exactly, or a known
 * value flag as `--name=value` or `-n=value`; undefined for anything else, which cac then parses (and explains).
 */
export function parsePlainMainCommand(typed: readonly string[]): ParsedCommand | undefined {
  if (typed.length === 1 && (typed[0] === '--version' || typed[0] === '-v')) return { kind: 'version' };
  const argv = normalizedArgv(typed);
  const positionals: string[] = [];
  let afterDashes: string[] = [];
  const switches: BooleanFlag[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--') {
      afterDashes = argv.slice(index + 1);
      break;
    }
    if (!readsAsFlag(argument)) {
      // The command is the first positional wherever the options are (`qwen --debug auth status`), as in yargs.
      if (positionals.length === 0 && argument === 'auth') return undefined;
      positionals.push(argument);
      continue;
    }
    const switchName = switchNamed(argument);
    if (switchName !== undefined) {
      // yargs and cac read `--debug false` as the flag's value; cac decides.
      const next = argv[index + 1];
      if (next === 'true' || next === 'false') return undefined;
      switches.push(switchName);
    } else if (valueSpellings.includes(argument)) {
      // A value that looks like a flag, or none at all: cac's reading (and its error) decides.
      const value = argv[index + 1];
      if (value === undefined || (value.startsWith('-') && !isNegativeNumber(value))) return undefined;
      index += 1;
    } else if (!isFlagWithValue(argument)) {
      return undefined;
    }
  }
  const flags = readFlags(argv);
  for (const name of switches) flags[name] = true;
  return { kind: 'main', positionalPrompt: promptOfWords(positionals, afterDashes), flags };
}

/**
 * The prompt the positional words make, for both parsers: `words` before any `--`, `afterDashes` after it.
 * A `-` among the words is one of them (`qwen what is 5 - 3`), as in yargs; a `-` that is the only word
 * (`cat notes.md | qwen -`) is the usual name for stdin, which is read anyway: it adds nothing. After `--`
 * every word is the prompt's, `-` too.
 */
export function promptOfWords(words: readonly string[], afterDashes: readonly string[]): string {
  if (afterDashes.length === 0 && words.length === 1 && words[0] === '-') return '';
  return [...words, ...afterDashes].join(' ');
}

function switchNamed(argument: string): BooleanFlag | undefined {
  return booleanNames.find((name) => (booleanFlags[name] as readonly string[]).includes(argument));
}

/**
 * argv as yargs reads it, for both parsers: a known flag in camelCase (`--outputFormat=json`) in its dashed
 * spelling, and grouped short flags apart (`-yo json` is `-y -o json`). Only a group of known letters, every
 * one a switch but the last, is taken apart; any other run of letters after one dash (`-mfoo`, `-xh`) is an
 * unknown option (exit 42), which cac would otherwise read letter by letter (`-mecho` as -m -e -c -h -o: help).
 */
export function normalizedArgv(argv: readonly string[]): string[] {
  const normalized: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--') {
      normalized.push(...argv.slice(index));
      break;
    }
    if (isShortGroup(argument)) normalized.push(...[...argument.slice(1)].map((letter) => `-${letter}`));
    else if (isShortGroupWithValue(argument)) {
      // `-yo=json` is `-y -o=json`, as yargs reads it.
      const equals = argument.indexOf('=');
      const letters = argument.slice(1, equals);
      normalized.push(...[...letters.slice(0, -1)].map((letter) => `-${letter}`));
      normalized.push(`-${letters.at(-1)}${argument.slice(equals)}`);
    }
    // The dash checks first: a prompt never pays for the regular expression.
    else if (argument[0] === '-' && argument[1] !== '-' && /^-[A-Za-z]{2,}$/.test(argument)) {
      throw new CliError('input', `Unknown option \`${argument}\`.`, {
        hint: 'Run `qwen --help` for the flags.',
      });
    } else normalized.push(dashedSpelling(argument));
  }
  return normalized;
}

/** `-yo=json`: a group of known letters whose last one takes the value after `=`. */
function isShortGroupWithValue(argument: string): boolean {
  const equals = argument.indexOf('=');
  if (equals < 3 || argument[1] === '-') return false;
  const group = argument.slice(0, equals);
  return isShortGroup(group) && shortValueFlags.includes(group.at(-1) as string);
}

/**
 * Whether an argument is a flag: it starts with a dash and its name (before any `=`) has no blank. A prompt
 * that starts with a dash (`qwen "- summarize the diff"`, a Markdown list item) cannot be a flag, so it is
 * read as the prompt, not letter by letter as flags (where an `h` or a `v` in it meant help or the version).
 * Nor can a negative number (`qwen what is 3 -5`): yargs reads it as a positional, or as a flag's value.
 */
export function readsAsFlag(argument: string): boolean {
  if (argument[0] !== '-' || argument === '-' || isNegativeNumber(argument)) return false;
  const equals = argument.indexOf('=');
  return !/\s/.test(equals < 0 ? argument : argument.slice(0, equals));
}

/**
 * A number after one dash (`-1`, `-2.5`, `-.5`, `-1e3`), which yargs-parser (its `negative` pattern) never
 * reads as a flag: a positional, or the value of the flag before it (`--max-wall-time -1`).
 */
export function isNegativeNumber(value: string): boolean {
  return /^-(\d+|\d*\.\d+)(e[-+]?\d+)?$/.test(value);
}

function isShortGroup(argument: string): boolean {
  if (argument.length < 3 || argument[0] !== '-' || argument[1] === '-') return false;
  for (let index = 1; index < argument.length - 1; index += 1) {
    if (!shortSwitches.includes(argument[index]!)) return false;
  }
  const last = argument.at(-1)!;
  return shortSwitches.includes(last) || shortValueFlags.includes(last);
}

/** `--outputFormat=json` -> `--output-format=json` when that is one of our flags; anything else as typed. */
function dashedSpelling(argument: string): string {
  if (!argument.startsWith('--') || !/[A-Z]/.test(argument)) return argument;
  const equals = argument.indexOf('=');
  const name = equals < 0 ? argument : argument.slice(0, equals);
  const dashed = name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
  if (!knownLongSpellings.includes(dashed)) return argument;
  return equals < 0 ? dashed : `${dashed}${argument.slice(equals)}`;
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
    // Read apart: the output format has a default, the fallbacks add up.
    if (name === 'outputFormat' || name === 'fallbackModel') continue;
    const value = rawValue(argv, spellings);
    if (value !== undefined) flags[name] = value;
  }
  // The one flag that adds up: each --fallback-model names more fallbacks (fallback.ts splits the list).
  const fallbacks = allValues(argv, valueFlags.fallbackModel);
  if (fallbacks.length > 0) flags.fallbackModel = fallbacks.join(',');
  return flags;
}

/** The last value given for a flag (`--name value`, `--name=value`, `-m value`, `-m=value`), before any `--`. */
export function rawValue(argv: readonly string[], spellings: readonly string[]): string | undefined {
  return allValues(argv, spellings).at(-1);
}

/** Every value given for a flag, in order, before any `--`. */
function allValues(argv: readonly string[], spellings: readonly string[]): string[] {
  const values: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--') break;
    for (const spelling of spellings) {
      if (argument === spelling) {
        const next = argv[index + 1];
        if (next === undefined) throw new CliError('input', `The flag ${spelling} needs a value.`);
        values.push(next);
        index += 1;
      } else if (argument.startsWith(`${spelling}=`)) {
        values.push(argument.slice(spelling.length + 1));
      }
    }
  }
  return values;
}
