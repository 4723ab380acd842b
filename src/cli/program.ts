// Command line parsing only: turns argv into a ParsedCommand. Nothing here reads settings or the network.
import { cac } from 'cac';
import { CliError } from '../core/errors.ts';

/** The flags of the main command, after cac has camel-cased them. */
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

export function parseCommandLine(argv: string[]): ParsedCommand {
  const program = cac('qwen');
  let parsed: ParsedCommand | undefined;

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
      parsed = {
        kind: 'main',
        positionalPrompt: [...prompt, ...rest].join(' '),
        flags: readFlags(argv, flags),
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
          ...readFlags(argv, flags),
          region: rawValue(argv, ['--region']),
          key: rawValue(argv, ['--key']),
        },
      };
    });

  program.option('-v, --version', 'Print the version');
  program.help();

  try {
    // cac prints the help text itself (to stdout) when it sees --help.
    program.parse(['qwen', 'qwen', ...argv], { run: false });
    if (program.options.help) return { kind: 'help' };
    if (program.options.version) return { kind: 'version' };
    program.runMatchedCommand();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError('input', `${message}.`, { hint: 'Run `qwen --help` for the flags.' });
  }
  if (!parsed)
    throw new CliError('input', 'Unknown command.', { hint: 'Run `qwen --help` for the commands.' });
  return parsed;
}

/** Value flags and their spellings. Values are taken from argv as typed: cac (mri) would turn "007" into 7. */
const valueFlags = {
  prompt: ['-p', '--prompt'],
  model: ['-m', '--model'],
  authType: ['--auth-type'],
  openaiApiKey: ['--openai-api-key'],
  openaiBaseUrl: ['--openai-base-url'],
  outputFormat: ['-o', '--output-format'],
  promptInteractive: ['-i', '--prompt-interactive'],
  proxy: ['--proxy'],
} as const;

function readFlags(argv: string[], parsed: Record<string, unknown>): MainFlags {
  const flags: MainFlags = { outputFormat: rawValue(argv, valueFlags.outputFormat) ?? 'text' };
  for (const [name, spellings] of Object.entries(valueFlags) as [
    keyof typeof valueFlags,
    readonly string[],
  ][]) {
    if (name === 'outputFormat') continue;
    const value = rawValue(argv, spellings);
    if (value !== undefined) flags[name] = value;
  }
  if (parsed.insecure === true) flags.insecure = true;
  if (parsed.debug === true) flags.debug = true;
  return flags;
}

/** The last value given for a flag (`--name value`, `--name=value`, `-m value`), before any `--`. */
export function rawValue(argv: string[], spellings: readonly string[]): string | undefined {
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
      } else if (spelling.startsWith('--') && argument.startsWith(`${spelling}=`)) {
        value = argument.slice(spelling.length + 1);
      }
    }
  }
  return value;
}
