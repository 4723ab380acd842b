// Dispatches a parsed command line and turns every failure into one stderr line and an exit code.
import process from 'node:process';
import { refreshesSaved } from '../auth/token-store.ts';
import { loadConfiguration } from '../config/load.ts';
import { asCliError, CliError, oneLine } from '../core/errors.ts';
import { maskUrlsIn } from '../core/redact.ts';
import { isOneOf } from '../core/types.ts';
import { type OutputFormat, outputFormats } from '../render/renderer.ts';
import { terminalSafe } from '../render/terminal-safe.ts';
import { untilAborted } from './abortable.ts';
import {
  debugSpellings,
  flagsForResolution,
  type MainFlags,
  parseCommandLine,
  rawValue,
  valueFlags,
} from './command-line.ts';
import { checkCompatibilityFlags, permissionModeOf } from './compatibility.ts';
import type { RunContext } from './context.ts';
import { parseFallbackModels, prepareModelSession } from './fallback.ts';
import { createRenderer, type HeadlessRun, joinInput, runHeadless } from './headless.ts';
import { configureNetwork } from './network.ts';
import { endStartup } from './startup.ts';
import { homeDirectory, isTerminal, readPipedStdin, reportingFailure, writeAll } from './terminal-io.ts';
import { startWallTimer, wallTimeLimitOf } from './wall-time.ts';

/** How long a stopped run waits for a token refresh already sent, so the rotated token is not lost. */
const refreshSaveLimitMs = 5_000;

export async function runCommand(argv: string[], version: string): Promise<number> {
  const cancel = new AbortController();
  // Ctrl+C, SIGTERM (a CI job's timeout, `docker stop`) or SIGHUP (the SSH connection or terminal closed):
  // the run stops as cleanly as it can (a JSON result, a token refresh in flight saved, its lock released);
  // any of them while it is already stopping exits at once.
  const stopWith = (failure: CliError) => () => {
    if (cancel.signal.aborted) process.exit(failure.exitCode);
    cancel.abort(failure);
  };
  const stopSignals = {
    SIGINT: stopWith(new CliError('cancelled', 'Cancelled.')),
    SIGTERM: stopWith(new CliError('terminated', 'Terminated.')),
    SIGHUP: stopWith(new CliError('hungUp', 'Hung up: the terminal or connection that ran qwen closed.')),
  };
  const listenToStops = (on: boolean) => {
    for (const [signal, stop] of Object.entries(stopSignals)) {
      if (on && signal !== 'SIGHUP') process.on(signal, stop);
      else process.off(signal, stop);
    }
  };
  listenToStops(true);
  const context: RunContext = {
    cwd: process.cwd(),
    // Found once the command needs it: --version and --help work without one.
    home: '',
    env: process.env,
    version,
    writeOut: (text) => writeAll(1, text),
    writeError: (line) => writeAll(2, `${line}\n`),
    reportingFailure,
    signal: cancel.signal,
    stdinIsTerminal: false,
    stdoutIsTerminal: false,
  };
  let debug = argv.some((argument) => debugSpellings.includes(argument));
  // Waited for once: after a failure, before its message, or at the end of any other run.
  let refreshesWait: Promise<void> | undefined;
  const refreshesWaited = () => {
    refreshesWait ??= refreshesSavedSaying(context);
    return refreshesWait;
  };
  // The format a one-shot run's result takes, once the command line says so; a failure before the run
  // starts (a flag's value refused) is reported in it too, as runMain reports the later ones.
  let resultFormat = requestedResultFormat(argv);
  try {
    const command = await parseCommandLine(argv);
    resultFormat = command.kind === 'main' ? outputFormatIfValid(command.flags.outputFormat) : undefined;
    if (command.kind === 'help') {
      context.writeOut(command.text);
      return 0;
    }
    if (command.kind === 'version') {
      context.writeOut(`${version}\n`);
      return 0;
    }
    context.home = await homeDirectory();
    context.stdinIsTerminal = await isTerminal(0);
    context.stdoutIsTerminal = await isTerminal(1);
    // SIGHUP is heard only from a terminal: `nohup qwen ... &` ignores it for the run (a handler would undo
    // that), and nohup leaves none of the three standard streams on the terminal.
    if (context.stdinIsTerminal || context.stdoutIsTerminal || (await isTerminal(2))) {
      process.on('SIGHUP', stopSignals.SIGHUP);
    }
    switch (command.kind) {
      case 'auth':
        debug = Boolean(command.flags.debug);
        endStartup();
        // Loaded only for `qwen auth`: it brings node:crypto and node:child_process with it.
        return await (await import('./auth-command.ts')).runAuthCommand(
          command.action,
          command.flags,
          context,
        );
      case 'main': {
        debug = Boolean(command.flags.debug);
        checkCompatibilityFlags(command.flags);
        const wallTimeLimit = wallTimeLimitOf(command.flags.maxWallTime);
        if (isInteractive(command.positionalPrompt, command.flags, context)) {
          // The REPL handles Ctrl+C, SIGTERM and SIGHUP itself (raw mode); loaded only here so one-shot runs never
          // load clack.
          listenToStops(false);
          resultFormat = undefined;
          endStartup();
          const { runRepl } = await import('./repl.ts');
          return await runRepl({
            context,
            flags: flagsForResolution(command.flags),
            networkFlags: { proxy: command.flags.proxy, insecure: command.flags.insecure },
            initialPrompt: command.flags.promptInteractive,
            fallbackModels: parseFallbackModels(command.flags.fallbackModel),
          });
        }
        // The budget of a one-shot run; an interactive session is bounded by the person at it.
        const stopWallTimer = wallTimeLimit === undefined ? undefined : startWallTimer(wallTimeLimit, cancel);
        try {
          // From here on, runMain reports every failure in the result format itself.
          resultFormat = undefined;
          return await runMain(command.positionalPrompt, command.flags, context);
        } finally {
          stopWallTimer?.();
        }
      }
    }
  } catch (error) {
    // The wait, and the line that explains it, come before the run's last word.
    await refreshesWaited();
    if (resultFormat !== undefined) writeFailedResult(error, resultFormat, context, 0);
    return reportFailure(error, context, debug);
  } finally {
    await refreshesWaited();
    listenToStops(false);
  }
}

/** A run stopped during a token refresh still saves the answer (a second Ctrl+C exits at once). */
function refreshesSavedSaying(context: RunContext): Promise<void> {
  return refreshesSaved(refreshSaveLimitMs, () =>
    context.writeError(
      `Finishing the Qwen OAuth token refresh so that the new token is kept (at most ${refreshSaveLimitMs / 1000} s; Ctrl+C to exit now).`,
    ),
  );
}

async function runMain(positionalPrompt: string, flags: MainFlags, context: RunContext): Promise<number> {
  const format = parseOutputFormat(flags.outputFormat);
  // A failure before the request (a token refresh, a slow stdin, either ended by --max-wall-time) still
  // reports how long the run took.
  const startedAt = performance.now();
  let run: HeadlessRun;
  try {
    // An empty -p (`-p "$UNSET"`) counts as not given, as in Qwen Code (`argv.prompt && hasPositionalQuery`).
    if (positionalPrompt && flags.prompt) {
      throw new CliError('input', 'Give the prompt either as an argument or with --prompt (-p), not both.');
    }
    const resolutionFlags = flagsForResolution(flags);
    // Checked before anything is prepared: a bad list is a bad command line (exit 42).
    const fallbackModels = parseFallbackModels(flags.fallbackModel);
    const configuration = loadConfiguration({
      argvFlags: resolutionFlags,
      processEnv: context.env,
      cwd: context.cwd,
      home: context.home,
      platform: process.platform,
    });
    for (const note of configuration.notes) context.writeError(note);
    // A note about the configuration is news once, however many models are resolved.
    const notesSaid = new Set<string>();
    // The run's model, or a fallback's: resolved as `--model <id>` would be, notes and all. A token refresh
    // (or the wait for another process's) ends with the run's signal, as everything else does.
    const prepareSession = (model: string | undefined) => {
      const session = prepareModelSession({
        configuration,
        flags: resolutionFlags,
        model,
        home: context.home,
        fetchImplementation: context.fetchImplementation,
        sayNote: (note) => {
          if (!notesSaid.has(note)) context.writeError(note);
          notesSaid.add(note);
        },
        note: context.writeError,
      });
      return untilAborted(session, context.signal);
    };
    // Proxy, CA bundle and --insecure for every request of this run, token endpoints included.
    configureNetwork(context, configuration, flags);
    const session = await prepareSession(undefined);
    const fallbacks = fallbackModels.map((model) => ({ model, prepare: () => prepareSession(model) }));

    const piped = context.stdinIsTerminal ? undefined : await untilAborted(readPipedStdin(), context.signal);
    if (piped?.truncated) context.writeError('Warning: stdin input truncated to 8388608 bytes.');
    const prompt = joinInput(piped?.text, flags.prompt || positionalPrompt);
    const unreadable = piped?.unreadable;
    if (prompt.trim() === '') {
      const waited = piped?.timedOut
        ? ' (nothing arrived on stdin within 0.5 s)'
        : unreadable !== undefined
          ? ` (stdin could not be read: ${unreadable})`
          : '';
      throw new CliError('input', `No prompt given${waited}.`, {
        hint: 'Pass one as an argument (qwen "explain this"), with -p, or pipe text on stdin (git diff | qwen "review"); for slow commands, save their output to a file first.',
      });
    }
    if (piped?.timedOut) {
      // Qwen Code's rule keeps CI jobs with an open, silent stdin from hanging; say so, since a slow
      // command piped in would otherwise be dropped without a word.
      context.writeError('Note: nothing arrived on stdin within 0.5 s; answering the prompt alone.');
    }
    // A stdin open for writing only (`0>>log`) or a directory: the run goes on without it, and says why.
    if (unreadable !== undefined) {
      context.writeError(`Note: stdin could not be read (${unreadable}); answering the prompt alone.`);
    }
    run = {
      prompt,
      format,
      session,
      context,
      partialMessages: flags.includePartialMessages,
      fallbacks,
      permissionMode: permissionModeOf(flags),
    };
  } catch (error) {
    writeFailedResult(error, format, context, startedAt);
    throw error;
  }
  return runHeadless(run);
}

/**
 * A JSON consumer (jq in CI) gets a result object even when the run never reached the server, and when it
 * failed in a way nobody foresaw (README: any failure ends with the result).
 */
export function writeFailedResult(
  error: unknown,
  format: OutputFormat,
  context: RunContext,
  startedAt: number,
): void {
  if (format === 'text') return;
  const failure = asCliError(error);
  context.reportingFailure?.(failure.exitCode);
  createRenderer(format, context.writeOut).fail(failure, {
    durationMs: performance.now() - startedAt,
    apiDurationMs: 0,
  });
}

/**
 * The result format asked for by a command line that may not parse (an unknown flag): json or stream-json
 * when -o says so and the command is not `qwen auth` (which prints no run result).
 */
function requestedResultFormat(argv: readonly string[]): OutputFormat | undefined {
  if (argv.includes('auth')) return undefined;
  try {
    return outputFormatIfValid(rawValue(argv, valueFlags.outputFormat));
  } catch {
    return undefined; // -o without a value: that is the failure, and no format was given
  }
}

function outputFormatIfValid(value: string | undefined): OutputFormat | undefined {
  return value !== undefined && isOneOf(outputFormats, value) && value !== 'text' ? value : undefined;
}

/** No prompt with a terminal on both ends, or `-i`: the REPL. Without a terminal nothing ever prompts. */
function isInteractive(positionalPrompt: string, flags: MainFlags, context: RunContext): boolean {
  const terminal = context.stdinIsTerminal && context.stdoutIsTerminal;
  if (flags.promptInteractive !== undefined) {
    if (positionalPrompt !== '' || flags.prompt !== undefined) {
      throw new CliError('input', 'Give either -i (--prompt-interactive) or a one-shot prompt, not both.');
    }
    if (!terminal) {
      throw new CliError('input', '-i (--prompt-interactive) needs a terminal on stdin and stdout.', {
        hint: 'For a one-shot run use a positional prompt or -p.',
      });
    }
    return true;
  }
  return terminal && positionalPrompt === '' && flags.prompt === undefined;
}

function parseOutputFormat(value: string): OutputFormat {
  if (!isOneOf(outputFormats, value)) {
    throw new CliError('input', `Unknown output format "${value}"; use one of: ${outputFormats.join(', ')}.`);
  }
  return value;
}

function reportFailure(error: unknown, context: RunContext, debug: boolean): number {
  const failure = asCliError(error);
  context.reportingFailure?.(failure.exitCode);
  // The message may quote a server's words, which must not drive the terminal (escape sequences).
  context.writeError(`qwen: ${terminalSafe(oneLine(failure))}`);
  if (debug) {
    const stack = (failure.cause instanceof Error ? failure.cause : failure).stack;
    // A runtime's own error may quote the URL it failed on (Deno does); its first line repeats the message,
    // a server's words included.
    if (stack) context.writeError(terminalSafe(maskUrlsIn(stack)));
  }
  return failure.exitCode;
}
