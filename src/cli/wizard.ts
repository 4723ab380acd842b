// The /auth wizard (also shown on a first run with nothing configured), with @clack/prompts. Every answer
// is collected first and the settings are written once at the end, so Escape or Ctrl+C at any step leaves
// every file as it was. The branches reuse what `qwen auth` uses: the device login of `qwen auth
// qwen-oauth`, configureCodingPlan of `qwen auth coding-plan`, and the one comment-preserving writer.
import process from 'node:process';
import type { Readable } from 'node:stream';
import { cancel, confirm, intro, isCancel, log, note, outro, password, select, text } from '@clack/prompts';
import {
  type CodingPlanRegion,
  codingPlanEnvKey,
  codingPlanModels,
  codingPlanRegionLabels,
  codingPlanRegions,
  configureCodingPlan,
  validateCodingPlanKey,
} from '../auth/coding-plan.ts';
import { prepareCredentials } from '../auth/credentials.ts';
import { type LoadedConfiguration, loadConfiguration } from '../config/load.ts';
import { resolveModel } from '../config/resolve.ts';
import { readProviderEntriesAsWritten } from '../config/settings.ts';
import { type SettingsEdit, updateSettingsFile } from '../config/settings-writer.ts';
import { CliError, oneLine } from '../core/errors.ts';
import { maskSecret, maskUrl } from '../core/redact.ts';
import type { Protocol } from '../core/types.ts';
import { defaultAnthropicBaseUrl } from '../protocols/anthropic.ts';
import { defaultGeminiBaseUrl, defaultVertexBaseUrl } from '../protocols/gemini.ts';
import { defaultOpenAiBaseUrl } from '../protocols/openai.ts';
import { runAuthCommand } from './auth-command.ts';
import type { RunContext } from './context.ts';
import { modelSettingsPath, type PromptStreams, protocolLabels } from './model-picker.ts';
import type { NetworkFlags } from './network.ts';
import { streamTurn } from './turn.ts';

export interface ProtocolDefaults {
  baseUrl: string;
  envKey: string;
  modelExample: string;
}

export const thirdPartyDefaults: Record<Protocol, ProtocolDefaults> = {
  openai: { baseUrl: defaultOpenAiBaseUrl, envKey: 'OPENAI_API_KEY', modelExample: 'gpt-4o' },
  anthropic: {
    baseUrl: defaultAnthropicBaseUrl,
    envKey: 'ANTHROPIC_API_KEY',
    modelExample: 'claude-sonnet-4-20250514',
  },
  gemini: { baseUrl: defaultGeminiBaseUrl, envKey: 'GEMINI_API_KEY', modelExample: 'gemini-2.5-pro' },
  'vertex-ai': { baseUrl: defaultVertexBaseUrl, envKey: 'GOOGLE_API_KEY', modelExample: 'gemini-2.5-pro' },
};

export type AuthAnswers =
  | { kind: 'qwen-oauth' }
  | { kind: 'coding-plan'; region: CodingPlanRegion; apiKey: string; model: string; checkKey: boolean }
  | {
      kind: 'third-party';
      protocol: Protocol;
      baseUrl: string;
      model: string;
      envKey: string;
      /** Undefined: keep the value the environment already has. */
      apiKey?: string;
      storeKey: boolean;
      checkKey: boolean;
    };

export interface WizardOptions {
  context: RunContext;
  /** Where the prompts read keys and draw; the process's terminal by default. */
  streams?: PromptStreams;
  /** Shown above the first question (the first run says why the wizard appears). */
  reason?: string;
  /** `--proxy` / `--insecure` of this run, for the Qwen OAuth login. */
  networkFlags?: NetworkFlags;
}

export interface WizardOutcome {
  /** False when the user cancelled or the setup failed: nothing was written then. */
  configured: boolean;
}

/** Runs the whole wizard; never throws for a user's doing, it reports and returns instead. */
export async function runAuthWizard(options: WizardOptions): Promise<WizardOutcome> {
  const streams = options.streams ?? {};
  const { context } = options;
  intro('Authentication', streams);
  if (options.reason !== undefined) log.info(options.reason, streams);
  const answers = await askAuthAnswers(streams, (name) => nonEmpty(context.env[name]));
  if (answers === undefined) {
    cancel('Cancelled; nothing was changed.', streams);
    return { configured: false };
  }
  try {
    if (answers.kind === 'qwen-oauth') {
      await withCancelKeys(streams.input, context.signal, (signal) =>
        runAuthCommand(
          'qwen-oauth',
          { outputFormat: 'text', ...options.networkFlags },
          { ...context, signal },
        ),
      );
    } else {
      const lines =
        answers.kind === 'coding-plan'
          ? applyCodingPlan(answers, options)
          : applyThirdParty(answers, options, loadFor(context));
      note(lines.join('\n'), 'Saved', streams);
      if (answers.checkKey) await checkKey(options);
    }
  } catch (error) {
    const failure = error instanceof CliError ? error : new CliError('api', String(error), { cause: error });
    log.error(oneLine(failure), streams);
    outro(
      failure.kind === 'cancelled'
        ? 'Cancelled; nothing was changed.'
        : 'Not configured. Run /auth to try again.',
      streams,
    );
    return { configured: false };
  }
  outro('Ready. Type a prompt, or /model to switch models.', streams);
  return { configured: true };
}

/** The questions only; undefined when the user cancels at any step. Nothing is written here. */
export async function askAuthAnswers(
  streams: PromptStreams,
  existingValue: (variable: string) => string | undefined,
): Promise<AuthAnswers | undefined> {
  const method = await select<'qwen-oauth' | 'api-key'>({
    message: 'How do you want to sign in?',
    options: [
      { value: 'qwen-oauth', label: 'Qwen OAuth', hint: 'log in with a qwen.ai account in the browser' },
      {
        value: 'api-key',
        label: 'API Key',
        hint: 'Coding Plan, OpenAI-compatible, Anthropic, Gemini, Vertex AI',
      },
    ],
    ...streams,
  });
  if (isCancel(method)) return undefined;
  if (method === 'qwen-oauth') return { kind: 'qwen-oauth' };

  const source = await select<'coding-plan' | 'third-party'>({
    message: 'Which API key?',
    options: [
      {
        value: 'coding-plan',
        label: 'Coding Plan',
        hint: 'Alibaba Cloud Bailian (ModelStudio), keys start with sk-sp-',
      },
      { value: 'third-party', label: 'Third-party provider', hint: 'any provider or self-hosted endpoint' },
    ],
    ...streams,
  });
  if (isCancel(source)) return undefined;
  return source === 'coding-plan' ? askCodingPlan(streams) : askThirdParty(streams, existingValue);
}

async function askCodingPlan(streams: PromptStreams): Promise<AuthAnswers | undefined> {
  const region = await select<CodingPlanRegion>({
    message: 'Region of your Coding Plan subscription',
    options: codingPlanRegions.map((value) => ({ value, label: codingPlanRegionLabels[value] })),
    ...streams,
  });
  if (isCancel(region)) return undefined;
  const apiKey = await password({
    message: 'Coding Plan API key (sk-sp-...)',
    validate: (value) => {
      try {
        validateCodingPlanKey(value ?? '');
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    },
    ...streams,
  });
  if (isCancel(apiKey)) return undefined;
  const models = codingPlanModels(region);
  const model = await select<string>({
    message: `Model to start with (all ${models.length} stay available through /model)`,
    options: models.map((entry) => ({ value: entry.id, label: entry.id, hint: entry.description })),
    initialValue: models[0]?.id,
    maxItems: 10,
    ...streams,
  });
  if (isCancel(model)) return undefined;
  const checkKey = await askCheck(streams);
  if (checkKey === undefined) return undefined;
  return { kind: 'coding-plan', region, apiKey: validateCodingPlanKey(apiKey), model, checkKey };
}

async function askThirdParty(
  streams: PromptStreams,
  existingValue: (variable: string) => string | undefined,
): Promise<AuthAnswers | undefined> {
  const protocol = await select<Protocol>({
    message: 'Protocol the provider speaks',
    options: (Object.keys(thirdPartyDefaults) as Protocol[]).map((value) => ({
      value,
      label: protocolLabels[value],
    })),
    ...streams,
  });
  if (isCancel(protocol)) return undefined;
  const defaults = thirdPartyDefaults[protocol];
  const baseUrl = await text({
    message: 'Base URL',
    initialValue: defaults.baseUrl,
    validate: (value) => (isHttpUrl(value ?? '') ? undefined : 'Enter an http:// or https:// URL.'),
    ...streams,
  });
  if (isCancel(baseUrl)) return undefined;
  const model = await text({
    message: 'Model id (as the provider spells it)',
    placeholder: defaults.modelExample,
    validate: (value) => (nonEmpty(value) === undefined ? 'Enter the model id.' : undefined),
    ...streams,
  });
  if (isCancel(model)) return undefined;
  const envKey = await text({
    message: 'Environment variable that holds the key',
    initialValue: defaults.envKey,
    validate: (value) =>
      /^[A-Za-z_][A-Za-z0-9_]*$/.test(value?.trim() ?? '')
        ? undefined
        : 'Letters, digits and _ only, not starting with a digit.',
    ...streams,
  });
  if (isCancel(envKey)) return undefined;
  const variable = envKey.trim();
  const existing = existingValue(variable);
  const apiKey = await password({
    message:
      existing === undefined
        ? `API key (${variable})`
        : `API key (${variable}; leave empty to keep the one already set, ${maskSecret(existing)})`,
    validate: (value) =>
      existing === undefined && nonEmpty(value) === undefined ? 'Enter the API key.' : undefined,
    ...streams,
  });
  if (isCancel(apiKey)) return undefined;
  const key = nonEmpty(apiKey);

  let storeKey = false;
  if (key !== undefined) {
    const where = await select<'store' | 'export'>({
      message: `Where should ${variable} come from?`,
      options: [
        { value: 'store', label: 'Save it in the user settings', hint: `env.${variable}, file mode 0600` },
        { value: 'export', label: 'Do not save it', hint: `I will export ${variable} in my shell myself` },
      ],
      ...streams,
    });
    if (isCancel(where)) return undefined;
    storeKey = where === 'store';
  }
  const checkKey = await askCheck(streams);
  if (checkKey === undefined) return undefined;
  const answers: AuthAnswers = {
    kind: 'third-party',
    protocol,
    baseUrl: baseUrl.trim().replace(/\/+$/, ''),
    model: model.trim(),
    envKey: variable,
    storeKey,
    checkKey,
  };
  if (key !== undefined) answers.apiKey = key;
  return answers;
}

async function askCheck(streams: PromptStreams): Promise<boolean | undefined> {
  const answer = await confirm({
    message: 'Check the key now with one tiny request?',
    initialValue: true,
    ...streams,
  });
  return isCancel(answer) ? undefined : answer;
}

/** configureCodingPlan's one write (the same as `qwen auth coding-plan`), then the chosen model. */
function applyCodingPlan(
  answers: Extract<AuthAnswers, { kind: 'coding-plan' }>,
  options: WizardOptions,
): string[] {
  const { context } = options;
  const configuration = loadFor(context);
  const settingsPath = configuration.paths.userSettings;
  const result = configureCodingPlan({ settingsPath, region: answers.region, apiKey: answers.apiKey });
  if (answers.model !== result.model) {
    updateSettingsFile(settingsPath, [{ path: ['model', 'name'], value: answers.model }]);
  }
  const lines = [
    `Coding Plan (${codingPlanRegionLabels[answers.region]}): ${result.modelCount} models at ${result.baseUrl}.`,
    `Model: ${answers.model}. Key ${maskSecret(answers.apiKey)} in ${result.keyLocation}.`,
  ];
  lines.push(...useInThisSession(codingPlanEnvKey, answers.apiKey, context));
  const workspace = modelSettingsPath(configuration);
  if (workspace !== settingsPath) {
    lines.push(`Note: ${workspace} defines modelProviders, which hides these models in this folder.`);
  }
  return lines;
}

/**
 * A modelProviders entry (replacing one with the same id and base URL), selectedType, model.name and
 * model.baseUrl in the file /model writes to; the key, when kept, in the user file's `env` (mode 0600).
 */
function applyThirdParty(
  answers: Extract<AuthAnswers, { kind: 'third-party' }>,
  options: WizardOptions,
  configuration: LoadedConfiguration,
): string[] {
  const { context } = options;
  const userPath = configuration.paths.userSettings;
  const modelPath = modelSettingsPath(configuration);
  const entries = readProviderEntriesAsWritten(modelPath, answers.protocol);
  const matches = (entry: unknown) =>
    typeof entry === 'object' &&
    entry !== null &&
    (entry as Record<string, unknown>)['id'] === answers.model &&
    sameUrl((entry as Record<string, unknown>)['baseUrl'], answers.baseUrl);
  const existingIndex = entries.findIndex(matches);
  // id first, as people write entries; an entry being replaced keeps its name and generationConfig.
  const previous = existingIndex >= 0 ? (entries[existingIndex] as Record<string, unknown>) : {};
  const entry: Record<string, unknown> = { id: answers.model, name: answers.model, ...previous };
  Object.assign(entry, { baseUrl: answers.baseUrl, envKey: answers.envKey });
  // Only that one element is written (-1 appends), so comments between the user's entries survive.
  const entryEdit: SettingsEdit =
    entries.length === 0
      ? { path: ['modelProviders', answers.protocol], value: [entry] }
      : { path: ['modelProviders', answers.protocol, existingIndex >= 0 ? existingIndex : -1], value: entry };

  const modelEdits: SettingsEdit[] = [
    entryEdit,
    { path: ['security', 'auth', 'selectedType'], value: answers.protocol },
    { path: ['model', 'name'], value: answers.model },
    { path: ['model', 'baseUrl'], value: answers.baseUrl },
  ];
  const keyEdits: SettingsEdit[] =
    answers.storeKey && answers.apiKey !== undefined
      ? [{ path: ['env', answers.envKey], value: answers.apiKey }]
      : [];
  if (modelPath === userPath) {
    updateSettingsFile(userPath, [...keyEdits, ...modelEdits], { holdsSecret: keyEdits.length > 0 });
  } else {
    // The key never goes into a project file, which may be committed.
    if (keyEdits.length > 0) updateSettingsFile(userPath, keyEdits, { holdsSecret: true });
    updateSettingsFile(modelPath, modelEdits);
  }

  const lines = [
    `${protocolLabels[answers.protocol]} model ${answers.model} at ${maskUrl(answers.baseUrl)}`,
    `${existingIndex >= 0 ? 'updated in' : 'added to'} ${modelPath} (modelProviders.${answers.protocol}).`,
  ];
  if (answers.apiKey === undefined) {
    lines.push(`Key: ${answers.envKey} as already set in the environment.`);
  } else if (answers.storeKey) {
    lines.push(`Key ${maskSecret(answers.apiKey)} in ${userPath} (env.${answers.envKey}, file mode 0600).`);
    lines.push(...useInThisSession(answers.envKey, answers.apiKey, context));
  } else {
    lines.push(`Key not saved; this session uses it. For later sessions add to your shell profile:`);
    lines.push(`  export ${answers.envKey}='<your key ${maskSecret(answers.apiKey)}>'`);
    lines.push(...useInThisSession(answers.envKey, answers.apiKey, context));
  }
  return lines;
}

/** The session uses the new key at once; a different value in the shell would win in later sessions. */
function useInThisSession(variable: string, key: string, context: RunContext): string[] {
  const previous = nonEmpty(context.env[variable]);
  context.env[variable] = key;
  if (previous === undefined || previous === key) return [];
  return [
    `Warning: ${variable} is also set in your shell (${maskSecret(previous)}); that value wins in later sessions.`,
  ];
}

/** One tiny request with what was just written; reports the server's answer either way. */
async function checkKey(options: WizardOptions): Promise<void> {
  const { context } = options;
  const streams = options.streams ?? {};
  const configuration = loadFor(context);
  const resolved = resolveModel({
    flags: {},
    settings: configuration.settings.merged,
    env: configuration.env,
  });
  const session = await prepareCredentials(resolved, {
    interactive: false,
    env: configuration.env.toRecord(),
    home: context.home,
  });
  const target = {
    ...session.target,
    generationConfig: {
      ...session.target.generationConfig,
      maxRetries: 0,
      samplingParams: { ...session.target.generationConfig.samplingParams, max_tokens: 16 },
    },
  };
  log.step(`Checking ${target.model} at ${maskUrl(target.baseUrl) || 'the default URL'}…`, streams);
  try {
    await withCancelKeys(streams.input, context.signal, (signal) =>
      streamTurn(
        { target, messages: [{ role: 'user', content: 'Reply with the single word OK.' }] },
        {
          onEvent: () => undefined,
          signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
          fetchImplementation: context.fetchImplementation,
        },
      ),
    );
    log.success('The key works: the server answered.', streams);
  } catch (error) {
    if (error instanceof CliError && error.kind === 'cancelled') throw error;
    const failure = error instanceof CliError ? error : new CliError('api', String(error), { cause: error });
    // The settings stay written: a wrong model id or a server hiccup is fixed faster with /auth or /model.
    log.warn(`The check failed: ${oneLine(failure)}`, streams);
  }
}

/**
 * Runs a task that is not a prompt (the device login, the key check) so that Ctrl+C or Escape on the
 * terminal still cancels it: clack is not listening then, and the terminal is in raw mode (no SIGINT).
 */
async function withCancelKeys<T>(
  input: Readable | undefined,
  outer: AbortSignal,
  task: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(outer.reason);
  outer.addEventListener('abort', onOuterAbort, { once: true });
  const terminal = input as
    | (Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => void })
    | undefined;
  const onData = (chunk: Buffer | string) => {
    const keys = chunk.toString();
    if (keys.includes('\x03') || keys === '\x1b') controller.abort(new CliError('cancelled', 'Cancelled.'));
  };
  if (terminal !== undefined) {
    if (terminal.isTTY === true) terminal.setRawMode?.(true);
    terminal.on('data', onData);
    terminal.resume();
  }
  try {
    return await task(controller.signal);
  } finally {
    outer.removeEventListener('abort', onOuterAbort);
    if (terminal !== undefined) {
      terminal.off('data', onData);
      terminal.pause();
    }
  }
}

function loadFor(context: RunContext): LoadedConfiguration {
  return loadConfiguration({
    argvFlags: {},
    processEnv: context.env,
    cwd: context.cwd,
    home: context.home,
    platform: process.platform,
  });
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value.trim());
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function sameUrl(first: unknown, second: string): boolean {
  return typeof first === 'string' && first.replace(/\/+$/, '') === second.replace(/\/+$/, '');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
