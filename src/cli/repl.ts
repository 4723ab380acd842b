// The interactive session: a plain node:readline prompt (no full-screen UI), answers streamed as they
// arrive, slash commands, history, bracketed paste, and Ctrl+C that cancels the answer instead of the
// program. Keys reach readline through the router of key-router.ts.
import process from 'node:process';
import readline from 'node:readline';
import type { Writable } from 'node:stream';
import picocolors from 'picocolors';
import { type CredentialSession, oauthFilesIn, prepareCredentials } from '../auth/credentials.ts';
import { cachedLogin } from '../auth/token-store.ts';
import { type LoadedConfiguration, loadConfiguration } from '../config/load.ts';
import { configPaths } from '../config/paths.ts';
import { qwenOauthModel, type ResolveFlags, resolveModel, settingsThatWin } from '../config/resolve.ts';
import { modelSettingsPath } from '../config/setup-files.ts';
import { asSentence, CliError, oneLine } from '../core/errors.ts';
import type { Message, ResolvedModel, Usage } from '../core/types.ts';
import { cutShortNote, toolCallNote } from '../render/answer-notes.ts';
import { createControlFilter, terminalSafe } from '../render/terminal-safe.ts';
import type { RunContext } from './context.ts';
import {
  type FallbackModel,
  prepareModelSession,
  skippedFallbackNote,
  streamWithFallbacks,
} from './fallback.ts';
import { historyLimit, isRecordable, loadHistory } from './history.ts';
import { burstGapMs, createKeyRouter, type TerminalInput } from './key-router.ts';
import { editByUnits } from './line-units.ts';
import {
  findChoices,
  listModelChoices,
  type ModelChoice,
  pickModel,
  protocolLabels,
  saveModelChoice,
  settingsWithChoice,
} from './model-picker.ts';
import { configureNetwork, type NetworkFlags } from './network.ts';
import { retryNote, type SessionTurnOptions } from './session-turn.ts';
import { createSpinner } from './spinner.ts';
import { runAuthWizard } from './wizard.ts';

export const slashCommands = ['/help', '/auth', '/model', '/stats', '/clear', '/quit', '/exit'] as const;

const commandHelp: Record<(typeof slashCommands)[number], string> = {
  '/help': 'show this list',
  '/auth': 'set up authentication (Qwen OAuth, Coding Plan, any provider)',
  '/model': 'pick a model (or /model <id>); saved for later sessions',
  '/stats': 'token usage of the last answer and of this session',
  '/clear': 'start a new conversation',
  '/quit': 'leave (also /exit, Ctrl+D, or Ctrl+C twice)',
  '/exit': 'leave',
};

export interface ReplOptions {
  context: RunContext;
  flags: ResolveFlags;
  /** `--proxy` and `--insecure`, applied with each fresh read of the settings. */
  networkFlags?: NetworkFlags;
  /** `-i`: answered first, then the prompt appears. */
  initialPrompt?: string;
  /** --fallback-model: asked in order when the model stays rate limited or overloaded (fallback.ts). */
  fallbackModels?: readonly string[];
  input?: TerminalInput;
  output?: Writable & { isTTY?: boolean; columns?: number };
}

// ---------------------------------------------------------------------------------------------------------
// Pure helpers (unit-tested)

export type SlashCommand = { name: string; argument: string };

/** `/model gpt-4o` -> { name: '/model', argument: 'gpt-4o' }; a path like `/usr/bin ...` is a prompt. */
export function parseSlashCommand(line: string): SlashCommand | undefined {
  // A lone `/` is a command too (it lists them), never a prompt: someone looking for the commands typed it.
  const match = /^(\/(?:[A-Za-z][\w-]*)?)(?:\s+(.*))?$/s.exec(line.trim());
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase(), argument: (match[2] ?? '').trim() };
}

/** readline's completer: slash commands, and model ids after `/model `. */
export function completeLine(line: string, modelIds: readonly string[]): [string[], string] {
  const modelArgument = /^\/model\s+(\S*)$/.exec(line);
  if (modelArgument) {
    const typed = modelArgument[1]!;
    return [[...new Set(modelIds)].filter((id) => id.startsWith(typed)), typed];
  }
  if (!line.startsWith('/') || /\s/.test(line)) return [[], line];
  return [slashCommands.filter((command) => command.startsWith(line)), line];
}

export interface UsageTotals {
  turns: number;
  /** Turns that failed or were cancelled before a whole answer: counted, since they may have cost tokens. */
  unanswered: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** The totals with one more turn, which cost `usage` (undefined: the server said nothing of it). */
export function addUsage(totals: UsageTotals, usage: Usage | undefined, answered = true): UsageTotals {
  return {
    turns: totals.turns + 1,
    unanswered: totals.unanswered + (answered ? 0 : 1),
    ...sumOfUsage(totals, usage),
  };
}

/** What two reports cost together (the attempts of one turn: each retry is paid for too). */
export function sumOfUsage(
  first: Pick<Usage, 'inputTokens' | 'outputTokens' | 'totalTokens'> | undefined,
  second: Usage | undefined,
): Usage {
  return {
    inputTokens: (first?.inputTokens ?? 0) + (second?.inputTokens ?? 0),
    outputTokens: (first?.outputTokens ?? 0) + (second?.outputTokens ?? 0),
    totalTokens: (first?.totalTokens ?? 0) + (second?.totalTokens ?? 0),
  };
}

/** /stats: the last turn (answered or not) and the session, in words that match the counts. */
export function statsLines(lastTurn: LastTurn | undefined, totals: UsageTotals): string[] {
  if (lastTurn === undefined) return ['No turn yet.'];
  const cost =
    lastTurn.usage === undefined ? 'no token usage reported' : `${formatUsage(lastTurn.usage)} tokens`;
  const outcome = lastTurn.answered ? '' : ' (no whole answer)';
  const unanswered = totals.unanswered === 0 ? '' : ` (${totals.unanswered} without a whole answer)`;
  return [
    `Last turn: ${cost}${outcome}.`,
    `This session: ${formatUsage(totals)} tokens over ${totals.turns} turn${totals.turns === 1 ? '' : 's'}${unanswered}.`,
  ];
}

/** What /stats says of the last turn: what it cost over all its attempts, and whether it was answered. */
export interface LastTurn {
  usage?: Usage;
  answered: boolean;
}

export function formatUsage(usage: Pick<Usage, 'inputTokens' | 'outputTokens' | 'totalTokens'>): string {
  const number = (value: number) => value.toLocaleString('en-US');
  // Gemini counts its thoughts apart from the output, in the total only: said, so the numbers add up.
  const thinking = usage.totalTokens - usage.inputTokens - usage.outputTokens;
  const apart = thinking > 0 ? `, ${number(thinking)} thinking` : '';
  return `${number(usage.inputTokens)} in, ${number(usage.outputTokens)} out${apart}, ${number(usage.totalTokens)} total`;
}

// ---------------------------------------------------------------------------------------------------------
// The session

interface SessionState {
  flags: ResolveFlags;
  /** A /model choice of this session; wins over whatever the files say until the next /auth. */
  choice?: ModelChoice;
  /** A /model id that is not in modelProviders: the provider in use, with this model id (never saved). */
  runtimeModel?: string;
  configuration?: LoadedConfiguration;
  session?: CredentialSession;
  target?: ResolvedModel;
  /** Why there is no session (shown when a prompt is typed). */
  problem?: CliError;
  messages: Message[];
  /** The conversation's id (`${session_id}` in customHeaders); /clear starts a new one. */
  sessionId: string;
  lastTurn?: LastTurn;
  totals: UsageTotals;
}

export async function runRepl(options: ReplOptions): Promise<number> {
  const { context } = options;
  // The environment a later session will see: the wizards of this one add the keys they set up to
  // context.env, for this session's use.
  const launchEnv = { ...context.env };
  const input: TerminalInput = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const colorEnabled = output.isTTY === true && (context.env['NO_COLOR'] ?? '') === '';
  const colors = picocolors.createColors(colorEnabled);
  const write = (text: string) => {
    output.write(text);
  };
  const say = (line: string) => write(`${line}\n`);
  /** A failure in one line; one about credentials says what fixes it without leaving the session. */
  const sayError = (failure: CliError, advice = true) => {
    // A server's error message can carry escape sequences as well as its answers. The hint of an auth
    // failure names commands of the shell (`qwen auth qwen-oauth`, `qwen auth status`): here /auth is the
    // fix, and a line pointing to it follows (this advice, or the caller's).
    const auth = failure.kind === 'auth';
    say(colors.red(`✖ ${terminalSafe(auth ? asSentence(failure.message) : oneLine(failure))}`));
    if (advice && auth) say(colors.yellow('Type /auth to enter another key or log in again.'));
  };

  const state: SessionState = {
    flags: { ...options.flags },
    messages: [],
    sessionId: crypto.randomUUID(),
    totals: { turns: 0, unanswered: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 },
  };

  const load = (): LoadedConfiguration =>
    loadConfiguration({
      argvFlags: state.flags,
      processEnv: context.env,
      cwd: context.cwd,
      home: context.home,
      platform: process.platform,
    });

  // Warnings about the set-up are news only once, however often the settings are read again.
  const warningsSaid = new Set<string>();
  const warnOnce = (line: string) => {
    if (warningsSaid.has(line)) return;
    warningsSaid.add(line);
    say(colors.yellow(line));
  };
  /** Reads the files again and prepares credentials; a failure is kept for the next prompt. */
  const refreshSession = async (): Promise<void> => {
    state.session = undefined;
    state.target = undefined;
    state.problem = undefined;
    try {
      const configuration = load();
      state.configuration = configuration;
      for (const note of configuration.notes) warnOnce(note);
      // Proxy, CA bundle, --insecure and the idle timeout as in a headless run; applied before resolving,
      // so the /auth wizard's login and key check use them even when nothing is configured yet. The
      // settings are read again after /auth and /model: their warnings are news only once.
      configureNetwork(context, configuration, options.networkFlags ?? {}, warnOnce);
      const settings =
        state.choice === undefined
          ? configuration.settings.merged
          : settingsWithChoice(configuration.settings.merged, state.choice);
      const provider = resolveModel({
        flags: state.flags,
        settings,
        env: configuration.env,
        settingsFiles: configuration.settings.files,
      });
      for (const note of provider.notes ?? []) warnOnce(note);
      // Key, base URL and generation settings stay the provider's: a key meant for one endpoint must never
      // follow a model id to another one (the protocol's default URL, say).
      const resolved =
        state.runtimeModel === undefined
          ? provider
          : { ...provider, model: state.runtimeModel, displayName: undefined };
      state.target = resolved;
      state.session = await prepareCredentials(resolved, {
        interactive: false,
        env: configuration.env.toRecord(),
        oauthFiles: oauthFilesIn(configuration.paths),
        home: context.home,
        fetchImplementation: context.fetchImplementation,
        note: (line) => say(colors.dim(line)),
      });
      state.target = state.session.target;
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      state.problem = error;
    }
  };

  /** --fallback-model, each resolved when a turn needs it as `--model <id>` would be, with today's files. */
  const fallbacks: FallbackModel[] = (options.fallbackModels ?? []).map((model) => ({
    model,
    prepare: () =>
      prepareModelSession({
        configuration: state.configuration ?? load(),
        flags: state.flags,
        model,
        home: context.home,
        fetchImplementation: context.fetchImplementation,
        sayNote: warnOnce,
        note: (line) => say(colors.dim(line)),
      }),
  }));

  const paths = configPaths({
    env: context.env,
    cwd: context.cwd,
    home: context.home,
    platform: process.platform,
  });
  const history = loadHistory(paths.history);
  const router = createKeyRouter(input, output);
  const rl = readline.createInterface({
    input: router.lines,
    output: router.screen,
    terminal: true,
    history: [...history.entries],
    historySize: historyLimit,
    removeHistoryDuplicates: true,
    completer: (line: string) =>
      completeLine(
        line,
        listModelChoices(state.configuration?.settings.merged ?? {}, { qwenOauth: false }).map(
          (choice) => choice.id,
        ),
      ),
  });
  editByUnits(rl, router.lines);
  // Newest first; not in @types/node, a plain array in Node's, Bun's and Deno's readline.
  const readlineHistory = (): string[] => (rl as unknown as { history: string[] }).history;
  // A recalled message of several lines is submitted rewritten by newer readlines (Node 22+, Bun), whose
  // history keeps such lines in the REPL's form (`\r`, reversed): the line as it stood before Enter is sent.
  let lineAtEnter: string | undefined;
  router.lines.prependListener(
    'keypress',
    (_text: string | undefined, key: { name?: string } | undefined) => {
      if (key?.name === 'return' || key?.name === 'enter') lineAtEnter = rl.line;
    },
  );
  const spinner = createSpinner({ write, enabled: output.isTTY === true, columns: () => output.columns });
  router.onEnd = () => spinner.stop();
  const wizardContext = (): RunContext => ({ ...context, signal: new AbortController().signal });

  const runWizard = async (reason?: string): Promise<boolean> => {
    const outcome = await router.dialog((streams) =>
      runAuthWizard({
        context: wizardContext(),
        streams,
        reason,
        networkFlags: options.networkFlags,
        launchEnv,
        ...(state.target === undefined ? {} : { current: describeTarget() }),
      }),
    );
    if (outcome.configured) {
      // What the wizard chose wins over this run's --model / --auth-type and an earlier /model.
      state.flags = { ...state.flags, model: undefined, authType: undefined };
      state.choice = undefined;
      state.runtimeModel = undefined;
      await refreshSession();
      if (state.problem) sayError(state.problem);
    }
    return outcome.configured;
  };

  const describeTarget = (): string => {
    const target = state.target;
    if (target === undefined) return 'not configured';
    const label = protocolLabels[target.authType];
    const name = target.displayName && target.displayName !== target.model ? ` (${target.displayName})` : '';
    return `${target.model}${name} · ${label}`;
  };

  const switchModel = async (argument: string): Promise<void> => {
    let configuration: LoadedConfiguration;
    try {
      configuration = load();
    } catch (error) {
      if (error instanceof CliError) return sayError(error);
      throw error;
    }
    state.configuration = configuration;
    const choices = listModelChoices(configuration.settings.merged, {
      qwenOauth:
        state.target?.authType === 'qwen-oauth' || cachedLogin(configuration.paths.oauthCreds) === 'yes',
    });
    let choice: ModelChoice | undefined;
    if (argument !== '') {
      choice = findChoices(choices, argument, state.target)[0];
      if (choice === undefined) {
        if (state.target === undefined) {
          return say(
            `No model "${argument}" in modelProviders, and no provider to ask for it: run /auth first.`,
          );
        }
        // Qwen OAuth serves one model: another id would only be refused by the service (as -m says).
        if (state.target.authType === 'qwen-oauth') {
          return say(
            `Unsupported Qwen OAuth model '${argument}': Qwen OAuth serves '${qwenOauthModel}'. Model: ${describeTarget()}.`,
          );
        }
        // Not configured: the same provider, key and URL, another model id (Qwen Code's runtime model),
        // for this session only: a typo saved to settings.json would break every later session.
        state.runtimeModel = argument;
        await refreshSession();
        say(
          `Model: ${describeTarget()} ${colors.dim(`("${argument}" is not in modelProviders: for this session only, not saved)`)}`,
        );
        if (state.problem) sayError(state.problem);
        return;
      }
    } else {
      if (choices.length === 0) {
        // The session may well have a model (from the environment, say): name it before the advice.
        if (state.target === undefined) {
          return say('No models are configured to choose from: run /auth to set up a provider first.');
        }
        return say(
          `Model: ${describeTarget()}. No models are configured to choose from: run /auth to add one, add modelProviders to settings.json, or type /model <id> for another id on this provider.`,
        );
      }
      choice = await router.dialog((streams) => pickModel(choices, state.target, streams));
      if (choice === undefined) return say(colors.dim('Model unchanged.'));
    }
    const settingsPath = modelSettingsPath(configuration);
    try {
      saveModelChoice(settingsPath, choice);
    } catch (error) {
      if (error instanceof CliError) return sayError(error);
      throw error;
    }
    // --model and --auth-type were for this run's start; the explicit choice replaces them.
    state.flags = { ...state.flags, model: undefined, authType: undefined };
    state.choice = choice;
    state.runtimeModel = undefined;
    await refreshSession();
    say(`Model: ${describeTarget()} ${colors.dim(`(saved to ${settingsPath})`)}`);
    // Settings name an entry by id and baseUrl; one without a baseUrl that shares its id with an earlier
    // entry that has one cannot be told apart (an empty model.baseUrl picks the first, as in Qwen Code).
    if (choice.baseUrl === undefined && state.target?.baseUrlSource?.name === 'baseUrl') {
      say(
        colors.yellow(
          `Note: "${choice.name}" shares the id ${choice.id} with an entry that has a baseUrl, which settings pick instead: give it a baseUrl or an id of its own.`,
        ),
      );
    }
    // A file of a higher scope (a project's, the system's) that will win once this session ends.
    const winning =
      state.configuration &&
      settingsThatWin(state.configuration.settings, { authType: choice.authType, model: choice.id });
    const [setting, overriding] = winning?.model
      ? ['model.name', winning.model]
      : ['security.auth.selectedType', winning?.selectedType];
    if (overriding !== undefined) {
      say(
        colors.yellow(
          `Note: ${overriding.path} sets ${setting} "${overriding.value}", which wins over the choice saved in ${settingsPath}: later sessions started here use that.`,
        ),
      );
    }
    if (state.problem) sayError(state.problem);
  };

  const showStats = () => {
    for (const line of statsLines(state.lastTurn, state.totals)) say(line);
  };

  const runTurn = async (prompt: string): Promise<void> => {
    if (state.session === undefined || state.target === undefined) {
      const problem = state.problem;
      if (problem !== undefined && (state.target !== undefined || problem.kind !== 'auth')) {
        sayError(problem, false);
      }
      say(colors.yellow('Not ready: type /auth to set up authentication.'));
      return;
    }
    state.messages.push({ role: 'user', content: prompt });
    const controller = new AbortController();
    router.onInterrupt = () => controller.abort(new CliError('cancelled', 'Cancelled.'));
    router.setMode('busy');
    let shownText = '';
    // Reasoning is on the screen too: a retry after it would show it twice.
    let shownReasoning = false;
    let reasoning = false;
    let endsWithNewline = true;
    // What the current attempt reported it cost, also when it then fails, and what the attempts before
    // it did (a retry or a fallback is paid for too): /stats counts what was spent.
    let attemptUsage: Usage | undefined;
    let earlierAttempts: Usage | undefined;
    // Tools the model asked for: none runs, and an answer that is only a call would otherwise show nothing.
    const toolNames: string[] = [];
    const attemptEnded = () => {
      if (attemptUsage !== undefined) earlierAttempts = sumOfUsage(earlierAttempts, attemptUsage);
      attemptUsage = undefined;
    };
    // Another attempt answers (a retry, a fallback): what the failed one cost counts, its tools do not.
    const nextAttempt = () => {
      attemptEnded();
      toolNames.length = 0;
    };
    const countTurn = (answered: boolean) => {
      attemptEnded();
      state.lastTurn = earlierAttempts === undefined ? { answered } : { usage: earlierAttempts, answered };
      state.totals = addUsage(state.totals, earlierAttempts, answered);
    };
    const show = (text: string) => {
      if (text === '') return;
      write(text);
      endsWithNewline = text.endsWith('\n');
    };
    // The model's text reaches the terminal without the escape sequences it may carry (a stream each).
    const reasoningFilter = createControlFilter();
    const textFilter = createControlFilter();
    spinner.start();
    try {
      const session = state.session;
      const turnOptions: SessionTurnOptions = {
        sessionId: state.sessionId,
        onEvent: (event) => {
          if (event.type === 'usage') attemptUsage = event.usage;
          else if (event.type === 'tool-call') toolNames.push(event.name);
          else if (event.type === 'reasoning-delta' && event.text !== '') {
            spinner.stop();
            // Without colours the reasoning is not dimmed: a label keeps it from reading as the answer.
            if (!reasoning && !colorEnabled) show('Thinking: ');
            reasoning = true;
            shownReasoning = true;
            const printable = reasoningFilter.push(event.text);
            if (printable !== '') show(colors.dim(printable));
          } else if (event.type === 'text-delta' && event.text !== '') {
            spinner.stop();
            if (reasoning) {
              reasoning = false;
              show(endsWithNewline ? '\n' : '\n\n');
            }
            shownText += event.text;
            show(textFilter.push(event.text));
          }
        },
        signal: controller.signal,
        limits: context.streamLimits,
        onRetry: (notice) => {
          spinner.stop();
          say(colors.dim(retryNote(notice)));
          spinner.start();
        },
        onRestart: nextAttempt,
        fetchImplementation: context.fetchImplementation,
        hasShownOutput: () => shownText !== '' || shownReasoning,
        // The conversation goes on: signed reasoning goes back with the reply (to the provider that made it).
        keepSignedReply: true,
      };
      // A fallback answers this turn only: the next one asks the session's model again.
      const sayDuringTurn = (line: string) => {
        spinner.stop();
        say(colors.dim(terminalSafe(line)));
        spinner.start();
      };
      const turn = await streamWithFallbacks(session, state.messages, turnOptions, fallbacks, {
        onFallback: (failure, failedModel, next) => {
          nextAttempt();
          sayDuringTurn(
            `${asSentence(`${failedModel}: ${oneLine(failure)}`)} Asking ${next.target.model} instead.`,
          );
        },
        onSkipped: (model, reason) => sayDuringTurn(skippedFallbackNote(model, reason)),
      });
      const { result } = turn;
      spinner.stop();
      if (!endsWithNewline) write('\n');
      // A refreshed token replaces the old one for later turns; a fallback's session is not kept.
      if (turn.session === session) state.target = turn.target;
      const reply: Message = { role: 'assistant', content: result.text };
      if (result.signedReply !== undefined) reply.signedReply = result.signedReply;
      state.messages.push(reply);
      attemptUsage = result.usage;
      countTurn(true);
      if (toolNames.length > 0) say(colors.yellow(toolCallNote(toolNames)));
      const cutShort = cutShortNote(result.finishReason);
      if (cutShort !== undefined) say(colors.yellow(cutShort));
    } catch (error) {
      spinner.stop();
      if (!endsWithNewline) write('\n');
      countTurn(false);
      const failure =
        error instanceof CliError ? error : new CliError('api', String(error), { cause: error });
      // The partial answer stays in the conversation; a turn with no answer at all is dropped, so the
      // next prompt does not follow an unanswered one.
      if (shownText !== '') state.messages.push({ role: 'assistant', content: shownText });
      else state.messages.pop();
      if (failure.kind === 'cancelled') say(colors.dim('(cancelled)'));
      else sayError(failure);
    } finally {
      router.onInterrupt = undefined;
    }
  };

  /** Handles a command; false means leave. */
  const runCommand = async (command: SlashCommand): Promise<boolean> => {
    switch (command.name) {
      case '/quit':
      case '/exit':
        return false;
      case '/':
      case '/help':
        for (const name of slashCommands) say(`  ${name.padEnd(8)} ${commandHelp[name]}`);
        say(
          colors.dim(
            '  A line ending in \\ continues on the next one; pasted blocks are sent as one message.',
          ),
        );
        return true;
      case '/clear':
        state.messages = [];
        state.sessionId = crypto.randomUUID();
        say('Conversation cleared.');
        return true;
      case '/stats':
        showStats();
        return true;
      case '/auth':
        await runWizard();
        return true;
      case '/model':
        await switchModel(command.argument);
        return true;
      default:
        say(`Unknown command ${command.name}. Type /help for the commands.`);
        return true;
    }
  };

  const promptText = () => `${colors.cyan(state.target?.model ?? 'qwen')}${colors.dim(' >')} `;
  const continuationText = () =>
    `${colors.dim('…'.padStart(Math.max(1, (state.target?.model ?? 'qwen').length)))}${colors.dim(' >')} `;

  /**
   * One message: physical lines joined while they end in `\`, and lines that arrive in one burst (a paste
   * without bracketed paste); undefined means leave.
   */
  const readMessage = (): Promise<string | undefined> =>
    new Promise((resolve) => {
      const pieces: string[] = [];
      let interrupts = 0;
      let continued = false;
      let settling: ReturnType<typeof setTimeout> | undefined;
      // Readline records each line on Enter; the message they make is recorded instead, whole, and a
      // message cancelled with Ctrl+C not at all.
      const recalled = readlineHistory();
      const historyBefore = [...recalled];
      const keepInHistory = (message: string | undefined) => {
        const newest = message !== undefined && isRecordable(message) ? [message] : [];
        if (message !== undefined) history.add(message);
        const entries = [...newest, ...historyBefore.filter((entry) => entry !== message)];
        recalled.splice(0, recalled.length, ...entries.slice(0, historyLimit));
      };
      const finish = (value: string | undefined) => {
        clearTimeout(settling);
        // Until the next prompt listens, keys wait (a line readline finished now would have no listener).
        router.setMode('busy');
        rl.off('line', onLine);
        rl.off('SIGINT', onInterrupt);
        rl.off('close', onClose);
        router.lines.off('keypress', onKeyAfterInterrupt);
        keepInHistory(value);
        resolve(value);
      };
      const leave = () => {
        // Ends the prompt's line, so that the usage and then the shell's prompt start their own.
        write('\n');
        finish(undefined);
      };
      const message = () => router.paste.expand(pieces.join('\n'));
      // Enter sends once no more keys follow at once: the lines of a burst are one message.
      const settle = () => {
        const wait = burstGapMs - router.quietMs();
        if (wait > 0) {
          settling = setTimeout(settle, wait);
          return;
        }
        settling = undefined;
        if (continued) return;
        if (rl.line === '') return finish(message());
        // The burst ended inside a line: it is finished at a continuation prompt, cursor where it was.
        rl.setPrompt(continuationText());
        rl.prompt(true);
      };
      const onLine = (submitted: string) => {
        const line = lineAtEnter?.includes('\n') ? lineAtEnter : submitted;
        lineAtEnter = undefined;
        interrupts = 0;
        continued = line.endsWith('\\');
        pieces.push(continued ? line.slice(0, -1) : line);
        if (continued) {
          rl.setPrompt(continuationText());
          rl.prompt();
        }
        clearTimeout(settling);
        settling = setTimeout(settle, burstGapMs);
      };
      const onInterrupt = () => {
        const pending = rl.line !== '' || pieces.length > 0;
        if (!pending && interrupts > 0) return leave();
        interrupts = pending ? 0 : 1;
        pieces.length = 0;
        keepInHistory(undefined);
        continued = false;
        clearTimeout(settling);
        settling = undefined;
        rl.write(null, { ctrl: true, name: 'e' });
        write(pending ? '^C\n' : colors.dim('\n(Press Ctrl+C again or Ctrl+D to exit.)\n'));
        rl.write(null, { ctrl: true, name: 'u' });
        rl.setPrompt(promptText());
        rl.prompt();
      };
      // "Ctrl+C again" means the next key: one typed in between (even if erased since) starts over.
      const onKeyAfterInterrupt = (
        _text: string | undefined,
        key: { name?: string; ctrl?: boolean } | undefined,
      ) => {
        if (!(key?.ctrl === true && key.name === 'c')) interrupts = 0;
      };
      // Ctrl+D right behind Enter: the line is still sent (the loop leaves after its answer).
      const onClose = () => (settling !== undefined && !continued ? finish(message()) : leave());
      rl.on('line', onLine);
      rl.on('SIGINT', onInterrupt);
      rl.on('close', onClose);
      router.lines.on('keypress', onKeyAfterInterrupt);
      rl.setPrompt(promptText());
      rl.prompt();
      router.setMode('line');
    });

  const onSignal = () => {
    // `kill -INT` from outside: cancel the answer if one streams, else leave like Ctrl+D.
    if (router.onInterrupt) router.onInterrupt();
    else rl.close();
  };
  process.on('SIGINT', onSignal);
  let closed = false;
  rl.on('close', () => {
    closed = true;
  });

  try {
    await refreshSession();
    if (state.problem?.kind === 'auth') {
      await runWizard(
        state.target === undefined
          ? 'No authentication is configured yet; this sets it up (Escape cancels, nothing is saved then).'
          : `${asSentence(state.problem.message)}\nThis sets it up again (Escape cancels, nothing is saved then).`,
      );
    } else if (state.problem !== undefined && !(state.problem.kind === 'config' && state.configuration)) {
      // Files that cannot be read end the session; a value in them that cannot be used (a base URL that is
      // no URL) is said below, and /auth or /model can move away from it.
      throw state.problem;
    }
    say(
      `${colors.bold('qwen')} ${context.version} · ${describeTarget()} ${colors.dim('· /help for commands, Ctrl+D to exit')}`,
    );
    if (state.problem?.kind === 'config') {
      sayError(state.problem);
      say(colors.yellow('Type /auth to set up another provider, or /model to pick another model.'));
    } else if (state.problem !== undefined && state.target === undefined) {
      // Nothing configured (the first-run wizard was cancelled): the long headless hint would mislead.
      say(colors.yellow('Not configured yet. Type /auth to set up authentication.'));
    } else if (state.problem !== undefined) {
      sayError(state.problem);
    }
    if (options.initialPrompt !== undefined && options.initialPrompt.trim() !== '') {
      say(`${promptText()}${options.initialPrompt}`);
      // Shown as if typed, so recalled as if typed (Up edits it).
      history.add(options.initialPrompt);
      if (isRecordable(options.initialPrompt)) readlineHistory().unshift(options.initialPrompt);
      await runTurn(options.initialPrompt);
    }
    for (;;) {
      if (closed) break;
      const message = await readMessage();
      if (message === undefined) break;
      const command = parseSlashCommand(message);
      if (command !== undefined) {
        if (!(await runCommand(command))) break;
        continue;
      }
      if (message.trim() === '') continue;
      await runTurn(message);
    }
  } finally {
    process.off('SIGINT', onSignal);
    spinner.stop();
    if (!closed) rl.close();
    router.close();
  }
  if (state.totals.totalTokens > 0) say(colors.dim(`Tokens this session: ${formatUsage(state.totals)}.`));
  return 0;
}
