// The cac program: every command and flag with its help line, for `--help`, `qwen auth`, and whatever
// command-line.ts does not read itself. Nothing here reads settings or the network.
import { type CAC, cac } from 'cac';
import { CliError } from '../core/errors.ts';
import {
  booleanNames,
  type MainFlags,
  normalizedArgv,
  type ParsedCommand,
  promptOfWords,
  rawValue,
  readFlags,
  readsAsFlag,
} from './command-line.ts';
import { approvalModes, compatibilityNote } from './compatibility.ts';

/** The whole command line through cac: help, `auth`, and every form command-line.ts leaves to it. */
export function parseWithCac(typed: string[]): ParsedCommand {
  const argv = normalizedArgv(typed);
  const program = cac('qwen');
  let parsed: ParsedCommand | undefined;

  program
    .command('[...prompt]', 'Answer a prompt (one-shot), or start the interactive session when none is given')
    .option('-p, --prompt <text>', 'Prompt for a one-shot run (appended to what stdin gives)')
    .option('-m, --model <id>', 'Model id for this run only (nothing is saved)')
    .option(
      '--auth-type <type>',
      'Protocol to use: openai, anthropic, gemini, vertex-ai or qwen-oauth (openai-responses runs as openai)',
    )
    .option('--openai-api-key <key>', 'API key; wins over every variable and settings file')
    .option('--openai-base-url <url>', 'Base URL when the model entry names none')
    .option('-o, --output-format <format>', 'Output: text, json or stream-json', { default: 'text' })
    .option('-i, --prompt-interactive <text>', 'Answer this prompt first, then stay interactive')
    .option('--proxy <url>', 'Proxy for every request (beats the proxy setting and HTTPS_PROXY)')
    .option('--insecure', 'Do not verify TLS certificates (also QWEN_TLS_INSECURE=1); prints a warning')
    .option('-d, --debug', 'Show stack traces on errors')
    .option('--input-format <format>', 'text (the default); stream-json is refused')
    .option('--include-partial-messages', 'With -o stream-json: stream_event lines as the answer arrives')
    .option('-y, --yolo', 'No effect (Qwen Code compatibility)')
    .option('--approval-mode <mode>', `No effect (Qwen Code compatibility): ${approvalModes.join(', ')}`)
    .option('--max-session-turns <n>', 'No effect (Qwen Code compatibility); 0 is refused')
    .option('--max-tool-calls <n>', 'No effect (Qwen Code compatibility)')
    .option('--bare', 'Ignore security.auth.selectedType in settings files (as Qwen Code does)')
    .option(
      '--fallback-model <id>',
      'Model to ask when the model stays rate limited or overloaded (429, 503, 529); up to 3, in order',
    )
    .option('--max-wall-time <time>', 'Stop a one-shot run after this long (90, 30s, 5m, 1h30m): exit 55')
    .action((prompt: string[], flags: Record<string, unknown>) => {
      const rest = Array.isArray(flags['--']) ? flags['--'].map(String) : [];
      parsed = {
        kind: 'main',
        positionalPrompt: [...prompt, ...rest].join(' '),
        flags: flagsOf(argv, flags),
      };
    });

  program
    .command('auth [action]', 'Set up or inspect authentication: qwen-oauth, coding-plan, status, logout')
    .option('--region <region>', 'Coding Plan region: china or global')
    .option('--proxy <url>', 'Proxy for the login request (beats the proxy setting and HTTPS_PROXY)')
    .option('--insecure', 'Do not verify TLS certificates; prints a warning')
    .option('--key <key>', 'Coding Plan API key (sk-sp-...); read from stdin when omitted and stdin is piped')
    // `qwen auth status` answers for a run with these flags.
    .option('--auth-type <type>', 'status: the auth type a run would pass')
    .option('-m, --model <id>', 'status: the model a run would pass')
    .option('--openai-api-key <key>', 'status: the key a run would pass')
    .option('--openai-base-url <url>', 'status: the base URL a run would pass')
    .option('--bare', 'status: as a run with --bare (security.auth.selectedType not read)')
    .option('-o, --output-format <format>', 'status: text or json (one object)', { default: 'text' })
    .option('-d, --debug', 'Show stack traces on errors')
    .action((action: string | undefined, flags: Record<string, unknown>) => {
      parsed = {
        kind: 'auth',
        action,
        flags: {
          ...flagsOf(argv, flags),
          region: rawValue(argv, ['--region']),
          key: rawValue(argv, ['--key']),
        },
      };
    });

  program.option('-v, --version', 'Print the version');
  program.help((sections) => {
    // cac pads every option line to the width of the longest description: no trailing blanks on a terminal.
    const trimmed = sections.map((section) => ({
      ...section,
      body: section.body.replace(/[ \t]+$/gm, ''),
    }));
    return trimmed.some((section) => section.body.includes('--yolo'))
      ? [...trimmed, { title: 'Qwen Code compatibility', body: compatibilityNote }]
      : trimmed;
  });

  let cacArgv: string[] = [];
  try {
    cacArgv = arrangedForCac(argv, program);
    // cac prints the help text itself, with console.info, when it sees --help: taken here and handed to the
    // caller, which writes it as it writes everything (a failed write is then an exit code, not lost).
    const printed: string[] = [];
    const info = console.info;
    console.info = (...parts: unknown[]) => printed.push(`${parts.join(' ')}\n`);
    try {
      program.parse(['qwen', 'qwen', ...cacArgv], { run: false });
    } finally {
      console.info = info;
    }
    if (program.options.help) return { kind: 'help', text: printed.join('') };
    if (program.options.version) return { kind: 'version' };
    program.runMatchedCommand();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = asTyped(error instanceof Error ? error.message : String(error), cacArgv);
    // `qwen auth` takes the flags its help lists; a one-shot flag there (-o, -p, -i) is refused by name.
    if (program.matchedCommandName === 'auth') {
      throw new CliError('input', `${message} for \`qwen auth\`.`, {
        hint: 'Run `qwen auth --help` for its flags.',
      });
    }
    throw new CliError('input', `${message}.`, { hint: 'Run `qwen --help` for the flags.' });
  }
  if (!parsed)
    throw new CliError('input', 'Unknown command.', { hint: 'Run `qwen --help` for the commands.' });
  return parsed;
}

/** Value flags as typed (see rawValue), booleans as cac read them (the last one, when repeated). */
function flagsOf(argv: string[], parsed: Record<string, unknown>): MainFlags {
  const flags = readFlags(argv);
  for (const name of booleanNames) {
    // cac leaves a dashed switch's `=true` (`--include-partial-messages=true`) as the string.
    const last: unknown = [parsed[name]].flat().at(-1);
    if (last === true || last === 'true') flags[name] = true;
  }
  return flags;
}

/** cac names an unknown flag by its camel-cased key (`--bogusFlag`, `-f` of `-mfoo`): name it as typed. */
function asTyped(message: string, argv: readonly string[]): string {
  const reported = /^Unknown option `-+(.+)`$/.exec(message)?.[1];
  if (reported === undefined) return message;
  const key = (name: string) => name.replace(/^no-/, '').split('.')[0]!.replaceAll('-', '').toLowerCase();
  const end = argv.indexOf('--');
  for (const argument of end < 0 ? argv : argv.slice(0, end)) {
    const flag = argument.split('=')[0]!;
    const name = flag.replace(/^-+/, '');
    if (
      flag.startsWith('--') ? key(name) === key(reported) : flag.startsWith('-') && name.includes(reported)
    ) {
      return `Unknown option \`${flag}\``;
    }
  }
  return message;
}

/**
 * argv as mri (cac's parser) should read it, the way yargs does: each flag with its value attached, then
 * `--` and the prompt (`auth` and its action first, then `--` and the words after it). Left to itself, mri gives a boolean the next
 * word (`--debug 007` made the prompt "7"), lets `--model=` take the next word, reads a value that starts
 * with `-` as a flag, drops a lone `-` with the word after it, and takes an empty first word for a command.
 */
function arrangedForCac(argv: readonly string[], program: CAC): string[] {
  const takesValue = new Map<string, boolean>();
  for (const option of [program.globalCommand, ...program.commands].flatMap((command) => command.options)) {
    for (const spelling of option.rawName.split(/[ ,]+/)) {
      if (spelling.startsWith('-')) takesValue.set(spelling, !option.isBoolean);
    }
  }
  const flags: string[] = [];
  const words: string[] = [];
  let index = 0;
  for (; index < argv.length && argv[index] !== '--'; index += 1) {
    const argument = argv[index]!;
    if (!readsAsFlag(argument)) {
      words.push(argument);
      continue;
    }
    const equals = argument.indexOf('=');
    const name = equals > 0 ? argument.slice(0, equals) : argument;
    const attached = equals > 0 ? argument.slice(equals + 1) : undefined;
    const next = argv[index + 1];
    if (!takesValue.has(name)) {
      flags.push(argument); // unknown: cac names it
    } else if (takesValue.get(name)) {
      const value = attached ?? valueAfter(name, next);
      if (attached === undefined) index += 1;
      // mri takes an empty value only as a word of its own.
      flags.push(...(value === '' ? [name, value] : [`${name}=${value}`]));
    } else {
      // `--debug false` is the flag's value, as in yargs.
      const nextIsValue = attached === undefined && (next === 'true' || next === 'false');
      if (nextIsValue) index += 1;
      const value = attached ?? (nextIsValue ? next : 'true');
      if (value !== 'true' && value !== 'false') {
        throw new CliError('input', `The flag ${name} takes no value other than true or false.`, {
          hint: `Write ${name}, ${name}=true or ${name}=false.`,
        });
      }
      flags.push(`${name}=${value}`);
    }
  }
  const rest = argv.slice(index + 1);
  // `qwen auth` reads no stdin name: a `-` there is left out (mri would drop the word after it too).
  if (words[0] === 'auth') return [...words.filter((word) => word !== '-'), ...flags, '--', ...rest];
  // The prompt as the fast path makes it (a lone `-` adds nothing), handed to cac as one word.
  return [...flags, '--', promptOfWords(words, rest)];
}

/** The word after a value flag, unless it reads as a flag (`-m --yolo`); `-p "-x is a flag?"` and `-1` are values. */
function valueAfter(name: string, next: string | undefined): string {
  if (next === undefined) throw new CliError('input', `The flag ${name} needs a value.`);
  if (!readsAsFlag(next)) return next;
  throw new CliError('input', `The flag ${name} needs a value; ${next} reads as a flag.`, {
    hint: `For a value that starts with -, write ${name}=${next}.`,
  });
}
