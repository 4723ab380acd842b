// The cac program: every command and flag with its help line, for `--help`, `qwen auth`, and whatever
// command-line.ts does not read itself. Nothing here reads settings or the network.
import { type CAC, cac } from 'cac';
import { CliError } from '../core/errors.ts';
import { type MainFlags, type ParsedCommand, rawValue, readFlags } from './command-line.ts';

/** The whole command line through cac: help, `auth`, and every form command-line.ts leaves to it. */
export function parseWithCac(argv: string[]): ParsedCommand {
  const program = cac('qwen');
  let parsed: ParsedCommand | undefined;
  // cac takes an empty first positional (`qwen "" hi`) for the main command's name, '', and drops it.
  let emptyFirstTaken = false;
  program.addEventListener('command:', () => {
    emptyFirstTaken = true;
  });

  program
    .command('[...prompt]', 'Answer a prompt (one-shot), or start the interactive session when none is given')
    .option('-p, --prompt <text>', 'Prompt for a one-shot run (appended to what stdin gives)')
    .option('-m, --model <id>', 'Model id for this run only (nothing is saved)')
    .option('--auth-type <type>', 'Protocol to use: openai, anthropic, gemini, vertex-ai or qwen-oauth')
    .option('--openai-api-key <key>', 'API key; wins over every variable and settings file')
    .option('--openai-base-url <url>', 'Base URL when the model entry names none')
    .option('-o, --output-format <format>', 'Output: text, json or stream-json', { default: 'text' })
    .option('-i, --prompt-interactive <text>', 'Answer this prompt first, then stay interactive')
    .option('--proxy <url>', 'Proxy for every request (beats the proxy setting and HTTPS_PROXY)')
    .option('--insecure', 'Do not verify TLS certificates (also QWEN_TLS_INSECURE=1); prints a warning')
    .option('--debug', 'Show stack traces on errors')
    .action((prompt: string[], flags: Record<string, unknown>) => {
      const rest = Array.isArray(flags['--']) ? flags['--'].map(String) : [];
      const first = emptyFirstTaken ? [''] : [];
      parsed = {
        kind: 'main',
        positionalPrompt: [...first, ...prompt, ...rest].join(' '),
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
    .option('--debug', 'Show stack traces on errors')
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
  program.help();

  let cacArgv: string[] = [];
  try {
    cacArgv = explicitBooleans(argv, program);
    // cac prints the help text itself (to stdout) when it sees --help.
    program.parse(['qwen', 'qwen', ...cacArgv], { run: false });
    if (program.options.help) return { kind: 'help' };
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
  if ([parsed.insecure].flat().at(-1) === true) flags.insecure = true;
  if ([parsed.debug].flat().at(-1) === true) flags.debug = true;
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
 * argv with every boolean flag given its value (`--debug=true`). mri otherwise takes the next argument
 * as the flag's value and puts it back among the positionals as a number (`--debug 007` made the prompt
 * "7"; `--debug ""` turned debug off). `--debug false` stays the flag's value, as in yargs.
 */
function explicitBooleans(argv: readonly string[], program: CAC): string[] {
  const booleans = new Set(
    [program.globalCommand, ...program.commands]
      .flatMap((command) => command.options)
      .filter((option) => option.isBoolean)
      .flatMap((option) => option.rawName.split(', ')),
  );
  const result: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--') {
      result.push(...argv.slice(index));
      break;
    }
    const equals = argument.indexOf('=');
    const name = equals > 0 ? argument.slice(0, equals) : argument;
    if (!booleans.has(name)) {
      result.push(argument);
      continue;
    }
    let value = equals > 0 ? argument.slice(equals + 1) : 'true';
    const next = argv[index + 1];
    if (equals < 0 && (next === 'true' || next === 'false')) {
      value = next;
      index += 1;
    }
    if (value !== 'true' && value !== 'false') {
      throw new CliError('input', `The flag ${name} takes no value other than true or false.`, {
        hint: `Write ${name}, ${name}=true or ${name}=false.`,
      });
    }
    result.push(`${name}=${value}`);
  }
  return result;
}
