// The /auth wizard (also shown on a first run with nothing configured), with @clack/prompts. Every answer
// is collected first; when the user asks for a check, the key is tried with the settings as they would be
// written (in memory), and the files are written once at the end, only with what works or what the user
// chose to keep. So Escape or Ctrl+C at any step, the check included, leaves every file as it was. The
// branches reuse what `qwen auth` uses: the device login of `qwen auth qwen-oauth`, the edits of `qwen auth
// coding-plan`, and the one comment-preserving writer.
import type { Readable } from 'node:stream';
import { cancel, confirm, intro, isCancel, log, note, outro, select } from '@clack/prompts';
import {
  type CodingPlanRegion,
  codingPlanBaseUrls,
  codingPlanEnvKey,
  codingPlanFiles,
  codingPlanModels,
  codingPlanRegionLabels,
  codingPlanRegions,
  replacing,
  validateCodingPlanKey,
} from '../auth/coding-plan.ts';
import { oauthFilesIn, prepareCredentials } from '../auth/credentials.ts';
import { emptyVariableNote, type LayeredEnvironment } from '../config/env.ts';
import { isEnvReference, shownStoredValue } from '../config/env-reference.ts';
import type { LoadedConfiguration } from '../config/load.ts';
import { assertAuthTypeAllowed, resolveModel } from '../config/resolve.ts';
import {
  readEnvValueAsWritten,
  readProviderEntriesAsWritten,
  readTextFileIfPresent,
} from '../config/settings.ts';
import { prepareSettingsFile, type SettingsEdit } from '../config/settings-writer.ts';
import {
  modelSettingsPath,
  type PlannedSettingsFile,
  setupFiles,
  writeSetupFiles,
} from '../config/setup-files.ts';
import { asSentence, CliError, oneLine } from '../core/errors.ts';
import { keyPasteProblem } from '../core/header-text.ts';
import { isVariableName, looksLikeKey } from '../core/key-variable.ts';
import { maskSecret, maskUrl } from '../core/redact.ts';
import {
  type AcceptedAuthType,
  authTypes,
  isObject,
  isOneOf,
  nonEmpty,
  normalizedBaseUrl,
  type Protocol,
  sameBaseUrl,
} from '../core/types.ts';
import { defaultAnthropicBaseUrl } from '../protocols/anthropic.ts';
import { defaultGeminiBaseUrl, defaultVertexBaseUrl } from '../protocols/gemini.ts';
import { defaultOpenAiBaseUrl } from '../protocols/openai.ts';
import { loadConfigurationFor, pathsOf, runAuthCommand } from './auth-command.ts';
import type { RunContext } from './context.ts';
import { type PromptStreams, passwordField, textField } from './dialog-terminal.ts';
import { protocolLabels } from './model-picker.ts';
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

export type AuthAnswers = { kind: 'qwen-oauth' } | KeyAnswers;

/** The answers of the two API-key branches: saved as settings, checked first when `checkKey`. */
export type KeyAnswers =
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
  /**
   * The environment qwen was started with, which later sessions started the same way see too; by default
   * context.env as it is now. context.env also holds the keys earlier wizards of this session set for it.
   */
  launchEnv?: Readonly<Record<string, string | undefined>>;
  /** How long the key check waits for the server; 30 s by default (tests shorten it). */
  keyCheckTimeoutMs?: number;
  /** The setup a session already uses (/auth mid-session), which a failed setup leaves in place. */
  current?: string;
}

export interface WizardOutcome {
  /** False when the user cancelled or the setup failed: nothing was written then. */
  configured: boolean;
}

/** Runs the whole wizard; never throws for a user's doing, it reports and returns instead. */
export async function runAuthWizard(options: WizardOptions): Promise<WizardOutcome> {
  const streams = options.streams ?? {};
  const { context } = options;
  const launchEnv = options.launchEnv ?? { ...context.env };
  const userSettings = pathsOf(context).userSettings;
  const { enforced, codingPlanRegion } = setupSoFar(context);
  const keys: SetupLookup = {
    inEnvironment: (variable) => nonEmpty(context.env[variable]) ?? keyThisSessionHas(context, variable),
    storedInSettings: (variable) => nonEmpty(readEnvValueAsWritten(userSettings, variable)),
    enforcedType: enforced,
    codingPlanRegion,
  };
  // An auth type that security.auth.enforcedType forbids cannot be chosen (its option is shown disabled),
  // and is refused again before anything is saved: nothing forbidden is ever written.
  const allowed = (type: AcceptedAuthType) =>
    assertAuthTypeAllowed(
      loadConfigurationFor(context).settings.merged,
      type,
      'Choose that provider instead',
    );
  intro('Authentication', streams);
  if (options.reason !== undefined) log.info(options.reason, streams);
  // `openai-responses`, say: a type this wizard cannot write, so every choice would be disabled.
  if (enforced !== undefined && !isOneOf(authTypes, enforced)) {
    log.error(
      `security.auth.enforcedType is ${enforced}, which this wizard cannot set up: set it up in settings.json.`,
      streams,
    );
    outro('Not configured.', streams);
    return { configured: false };
  }
  try {
    const first = await askAuthAnswers(streams, keys);
    if (first?.kind === 'qwen-oauth') {
      await withCancelKeys(streams.input, context.signal, (signal) =>
        runAuthCommand(
          'qwen-oauth',
          { outputFormat: 'text', ...options.networkFlags },
          { ...context, signal },
        ),
      );
    } else {
      // The check comes before any write; after a failed one the user chooses what happens.
      let answers = first;
      while (answers?.checkKey === true) {
        const failure = await checkKey(answers, options);
        if (failure === undefined) break;
        answers = await askAfterFailedCheck(failure, answers, streams, keys);
      }
      if (answers === undefined) {
        cancel('Cancelled; nothing was changed.', streams);
        return { configured: false };
      }
      allowed(answers.kind === 'coding-plan' ? 'openai' : answers.protocol);
      note(save(answers, context, launchEnv).join('\n'), 'Saved', streams);
    }
  } catch (error) {
    const failure = error instanceof CliError ? error : new CliError('api', String(error), { cause: error });
    // A login's hint names `qwen auth qwen-oauth`, a command of the shell: here /auth is the way again.
    log.error(failure.kind === 'auth' ? asSentence(failure.message) : oneLine(failure), streams);
    const kept = options.current === undefined ? '' : ` Still using ${options.current}.`;
    outro(
      failure.kind === 'cancelled'
        ? `Cancelled; nothing was changed.${kept}`
        : options.current === undefined
          ? 'Not configured. Run /auth to try again.'
          : `Nothing was changed.${kept} Run /auth to try again.`,
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
  keys: SetupLookup,
): Promise<AuthAnswers | undefined> {
  const enforced = keys.enforcedType;
  const method = await select<'qwen-oauth' | 'api-key'>({
    message: 'How do you want to sign in?',
    options: [
      permitted(enforced, 'qwen-oauth', {
        value: 'qwen-oauth',
        label: 'Qwen OAuth',
        hint: 'log in with a qwen.ai account in the browser',
      }),
      // Every key is for some other auth type than Qwen OAuth.
      permitted(enforced === 'qwen-oauth' ? enforced : undefined, 'api-key', {
        value: 'api-key',
        label: 'API Key',
        hint: 'Coding Plan, OpenAI-compatible, Anthropic, Gemini, Vertex AI',
      }),
    ],
    ...streams,
  });
  if (isCancel(method)) return undefined;
  if (method === 'qwen-oauth') return { kind: 'qwen-oauth' };

  const source = await select<'coding-plan' | 'third-party'>({
    message: 'Which API key?',
    options: [
      permitted(enforced, 'openai', {
        value: 'coding-plan',
        label: 'Coding Plan',
        hint: 'Alibaba Cloud Bailian (ModelStudio), keys start with sk-sp-',
      }),
      { value: 'third-party', label: 'Third-party provider', hint: 'any provider or self-hosted endpoint' },
    ],
    ...streams,
  });
  if (isCancel(source)) return undefined;
  if (source === 'coding-plan') return askCodingPlan(streams, { region: keys.codingPlanRegion });
  return askThirdParty(streams, keys);
}

interface Choice<T> {
  value: T;
  label: string;
  hint?: string;
  disabled?: boolean;
}

/**
 * The choice as it is, or disabled, saying why, when security.auth.enforcedType names an auth type other
 * than the one it sets up: the menu offers only what may be saved.
 */
function permitted<T>(enforced: AcceptedAuthType | undefined, type: string, choice: Choice<T>): Choice<T> {
  if (enforced === undefined || enforced === type) return choice;
  return { ...choice, disabled: true, hint: `not allowed: security.auth.enforcedType is ${enforced}` };
}

type CodingPlanAnswers = Extract<KeyAnswers, { kind: 'coding-plan' }>;
type ThirdPartyAnswers = Extract<KeyAnswers, { kind: 'third-party' }>;

/**
 * `previous`: the answers given before, offered again (going back after a failed check); without its key
 * after the server rejected that key.
 */
async function askCodingPlan(
  streams: PromptStreams,
  previous?: Partial<CodingPlanAnswers>,
): Promise<KeyAnswers | undefined> {
  const region = await select<CodingPlanRegion>({
    message: 'Region of your Coding Plan subscription',
    options: codingPlanRegions.map((value) => ({ value, label: codingPlanRegionLabels[value] })),
    initialValue: previous?.region,
    ...streams,
  });
  if (isCancel(region)) return undefined;
  const apiKey = await askCodingPlanKey(streams, previous?.apiKey);
  if (apiKey === undefined) return undefined;
  const models = codingPlanModels(region);
  const model = await select<string>({
    message: `Model to start with (all ${models.length} stay available through /model)`,
    options: models.map((entry) => ({ value: entry.id, label: entry.id, hint: entry.description })),
    initialValue: models.some((entry) => entry.id === previous?.model) ? previous?.model : models[0]?.id,
    maxItems: 10,
    ...streams,
  });
  if (isCancel(model)) return undefined;
  const checkKey = await askCheck(streams);
  if (checkKey === undefined) return undefined;
  return { kind: 'coding-plan', region, apiKey, model, checkKey };
}

/** A Coding Plan key; with `kept`, an empty answer keeps that one. */
async function askCodingPlanKey(streams: PromptStreams, kept?: string): Promise<string | undefined> {
  const apiKey = await passwordField({
    message:
      kept === undefined
        ? 'Coding Plan API key (sk-sp-...)'
        : `Coding Plan API key (sk-sp-...; leave empty to keep the one you entered, ${maskSecret(kept)})`,
    validate: (value) => {
      if (kept !== undefined && nonEmpty(value) === undefined) return undefined;
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
  return nonEmpty(apiKey) === undefined && kept !== undefined ? kept : validateCodingPlanKey(apiKey);
}

async function askThirdParty(
  streams: PromptStreams,
  keys: SetupLookup,
  previous?: ThirdPartyAnswers,
): Promise<KeyAnswers | undefined> {
  const protocol = await select<Protocol>({
    message: 'Protocol the provider speaks',
    options: (Object.keys(thirdPartyDefaults) as Protocol[]).map((value) =>
      permitted(keys.enforcedType, value, { value, label: protocolLabels[value] }),
    ),
    initialValue: previous?.protocol,
    ...streams,
  });
  if (isCancel(protocol)) return undefined;
  const defaults = thirdPartyDefaults[protocol];
  const same = previous?.protocol === protocol ? previous : undefined;
  const baseUrl = await textField({
    message: 'Base URL',
    initialValue: same?.baseUrl ?? defaults.baseUrl,
    validate: (value) => (isHttpUrl(value ?? '') ? undefined : 'Enter an http:// or https:// URL.'),
    ...streams,
  });
  if (isCancel(baseUrl)) return undefined;
  const model = await textField({
    // The example is in the question, not a placeholder: without colours (NO_COLOR) a placeholder looks
    // like a value already there, which Enter would then refuse as empty.
    message: `Model id (as the provider spells it, such as ${defaults.modelExample})`,
    initialValue: same?.model,
    validate: (value) => (nonEmpty(value) === undefined ? 'Enter the model id.' : undefined),
    ...streams,
  });
  if (isCancel(model)) return undefined;
  const envKey = await textField({
    message: 'Environment variable that holds the key',
    initialValue: same?.envKey ?? defaults.envKey,
    validate: (value) => {
      const name = value?.trim() ?? '';
      // The key itself goes in the next step: typed here it would be saved as a name, and shown.
      if (looksLikeKey(name))
        return `That looks like the key itself: enter the name of a variable to keep it in (such as ${defaults.envKey}); the key comes next.`;
      return isVariableName(name) ? undefined : 'Letters, digits and _ only, not starting with a digit.';
    },
    ...streams,
  });
  if (isCancel(envKey)) return undefined;
  const variable = envKey.trim();
  const key = await askThirdPartyKey(streams, {
    variable,
    typedBefore: same?.envKey === variable ? same.apiKey : undefined,
    inEnvironment: keys.inEnvironment(variable),
    storedInSettings: keys.storedInSettings(variable),
    storedBefore: same?.storeKey,
  });
  if (key === undefined) return undefined;
  const checkKey = await askCheck(streams);
  if (checkKey === undefined) return undefined;
  const answers: ThirdPartyAnswers = {
    kind: 'third-party',
    protocol,
    baseUrl: normalizedBaseUrl(baseUrl),
    model: model.trim(),
    envKey: variable,
    storeKey: key.storeKey,
    checkKey,
  };
  if (key.apiKey !== undefined) answers.apiKey = key.apiKey;
  return answers;
}

/** What a key variable holds already, for the key question. */
interface SetupLookup {
  /**
   * The value the session has for it (the environment, a .env file, settings `env`, a `${VAR}` there
   * expanded): an empty answer keeps it, where it is.
   */
  inEnvironment(variable: string): string | undefined;
  /**
   * The user settings' `env` value as written: saving another key replaces it; not saving removes a key
   * (a `${VAR}` reference is the user's, and stays).
   */
  storedInSettings(variable: string): string | undefined;
  /** security.auth.enforcedType: the one auth type that may be set up, when settings name one. */
  enforcedType?: AcceptedAuthType;
  /** The region of the Coding Plan set up before, offered first when it is set up again. */
  codingPlanRegion?: CodingPlanRegion;
}

interface KeyQuestion {
  variable: string;
  /** Entered before going back: an empty answer keeps it. */
  typedBefore?: string;
  /** The environment's value: an empty answer keeps it (and nothing is stored). */
  inEnvironment?: string;
  /** Where the key goes, when already answered. */
  storeKey?: boolean;
  /** The answer given before going back, offered first. */
  storedBefore?: boolean;
  /** The key the user settings hold now, named in the choice of where the key goes. */
  storedInSettings?: string;
}

/** The key and where it is kept; a key is required when there is none to keep. Undefined when cancelled. */
async function askThirdPartyKey(
  streams: PromptStreams,
  question: KeyQuestion,
): Promise<{ apiKey?: string; storeKey: boolean } | undefined> {
  const { variable, typedBefore, inEnvironment } = question;
  const keep =
    typedBefore !== undefined
      ? `leave empty to keep the one you entered, ${maskSecret(typedBefore)}`
      : inEnvironment !== undefined
        ? `leave empty to keep the one already set, ${maskSecret(inEnvironment)}`
        : undefined;
  const apiKey = await passwordField({
    message: keep === undefined ? `API key (${variable})` : `API key (${variable}; ${keep})`,
    validate: (value) => {
      const typed = nonEmpty(value);
      if (typed === undefined) return keep === undefined ? 'Enter the API key.' : undefined;
      const problem = keyPasteProblem(typed);
      return problem === undefined
        ? undefined
        : `That key cannot be right: it has ${problem}. Paste the key alone.`;
    },
    ...streams,
  });
  if (isCancel(apiKey)) return undefined;
  const key = nonEmpty(apiKey) ?? typedBefore;
  if (key === undefined) return { storeKey: false };
  if (question.storeKey !== undefined) return { apiKey: key, storeKey: question.storeKey };
  const stored = question.storedInSettings;
  // A reference names where the user keeps the key: shown as written, never masked, never removed.
  const reference = stored !== undefined && isEnvReference(stored);
  const replaced = stored === undefined ? '' : `, replacing ${shownStoredValue(stored)}`;
  const removed = stored === undefined || reference ? '' : `; the stored ${maskSecret(stored)} is removed`;
  const where = await select<'store' | 'export'>({
    message: `Where should ${variable} come from?`,
    options: [
      {
        value: 'store',
        label: 'Save it in the user settings',
        hint: `env.${variable}, file mode 0600${replaced}`,
      },
      {
        value: 'export',
        label: 'Do not save it',
        hint: `I will export ${variable} in my shell myself${removed}`,
      },
    ],
    initialValue: question.storedBefore === false ? 'export' : 'store',
    ...streams,
  });
  return isCancel(where) ? undefined : { apiKey: key, storeKey: where === 'store' };
}

async function askCheck(streams: PromptStreams): Promise<boolean | undefined> {
  const answer = await confirm({
    message: 'Check the key now, before saving, with one tiny request?',
    initialValue: true,
    ...streams,
  });
  return isCancel(answer) ? undefined : answer;
}

/**
 * After a failed check, nothing is written yet: a rejected key (401/403) can be entered again or the
 * answers changed; any other failure (a wrong model id, a server down) may also be saved as it is.
 * Undefined when the user cancels.
 */
async function askAfterFailedCheck(
  failure: CliError,
  answers: KeyAnswers,
  streams: PromptStreams,
  keys: SetupLookup,
): Promise<KeyAnswers | undefined> {
  // The server said no to the key (401/403), as opposed to no credentials found before asking.
  const rejected = failure.kind === 'auth' && failure.status !== undefined;
  log.warn(
    rejected ? `The key was rejected: ${failure.message}` : `The check failed: ${oneLine(failure)}`,
    streams,
  );
  const choice = await select<'key' | 'back' | 'save' | 'cancel'>({
    message: 'Nothing is saved yet. What now?',
    options: [
      { value: 'key', label: 'Enter the key again' },
      {
        value: 'back',
        label: 'Go back',
        hint: answers.kind === 'coding-plan' ? 'region, key, model' : 'protocol, base URL, model, key',
      },
      ...(rejected
        ? []
        : [{ value: 'save' as const, label: 'Save anyway', hint: 'fix it later with /auth or /model' }]),
      { value: 'cancel', label: 'Cancel', hint: 'write nothing' },
    ],
    // The key is what a refusal is about; any other failure (no answer, a wrong model id or URL) is not.
    initialValue: rejected ? 'key' : 'back',
    ...streams,
  });
  if (isCancel(choice) || choice === 'cancel') return undefined;
  if (choice === 'save') return { ...answers, checkKey: false };
  if (choice === 'back') {
    if (!rejected) {
      return answers.kind === 'coding-plan'
        ? askCodingPlan(streams, answers)
        : askThirdParty(streams, keys, answers);
    }
    // The other answers are offered again, never the rejected key: an empty answer would save it unchecked.
    if (answers.kind === 'coding-plan') return askCodingPlan(streams, { ...answers, apiKey: undefined });
    const rejectedKey = answers.apiKey ?? keys.inEnvironment(answers.envKey);
    const { apiKey: _rejected, ...others } = answers;
    const inEnvironment = (variable: string) => {
      const value = keys.inEnvironment(variable);
      return value === rejectedKey ? undefined : value;
    };
    return askThirdParty(streams, { ...keys, inEnvironment }, others);
  }
  if (answers.kind === 'coding-plan') {
    const apiKey = await askCodingPlanKey(streams);
    return apiKey === undefined ? undefined : { ...answers, apiKey };
  }
  // Where a typed key goes was answered already; a key that came from the environment gets that question.
  const key = await askThirdPartyKey(streams, {
    variable: answers.envKey,
    storeKey: answers.apiKey === undefined ? undefined : answers.storeKey,
    storedInSettings: keys.storedInSettings(answers.envKey),
  });
  return key === undefined ? undefined : { ...answers, ...key };
}

/** What saving the answers writes, computed without writing. */
interface SavePlan {
  files: PlannedSettingsFile[];
  /** The key this session uses once saved; undefined: the environment's own. */
  sessionKey?: { variable: string; value: string };
  /** For the "Saved" note. */
  lines: string[];
}

/**
 * Writes every file of the plan, all or none when one cannot be edited; returns the "Saved" note. This
 * session uses the new key at once; the note says when later sessions would see another value.
 */
function save(
  answers: KeyAnswers,
  context: RunContext,
  launchEnv: Readonly<Record<string, string | undefined>>,
): string[] {
  const plan = planSave(answers, loadConfigurationFor(context));
  writeSetupFiles(plan.files);
  const key = plan.sessionKey;
  if (key === undefined) return plan.lines;
  context.env[key.variable] = key.value;
  const later = loadConfigurationFor({ ...context, env: { ...launchEnv } }).env;
  const warning = laterSessionWarning(key, answers.kind === 'coding-plan' || answers.storeKey, later);
  return warning === undefined ? plan.lines : [...plan.lines, warning];
}

function planSave(answers: KeyAnswers, configuration: LoadedConfiguration): SavePlan {
  return answers.kind === 'coding-plan'
    ? planCodingPlan(answers, configuration)
    : planThirdParty(answers, configuration);
}

/** What `qwen auth coding-plan` writes, with the chosen model, in the files it writes to. */
function planCodingPlan(answers: CodingPlanAnswers, configuration: LoadedConfiguration): SavePlan {
  const { files, configuration: result } = codingPlanFiles({
    userSettingsPath: configuration.paths.userSettings,
    modelSettingsPath: modelSettingsPath(configuration),
    region: answers.region,
    apiKey: answers.apiKey,
    model: answers.model,
  });
  return {
    files,
    sessionKey: { variable: codingPlanEnvKey, value: answers.apiKey },
    lines: [
      `Coding Plan (${codingPlanRegionLabels[answers.region]}): ${result.modelCount} models at ${result.baseUrl}, in ${result.settingsPath}.`,
      `Model: ${answers.model}. Key ${maskSecret(answers.apiKey)} in ${result.keyLocation}${replacing(result)}.`,
    ],
  };
}

/**
 * A modelProviders entry (updating one with the same id and base URL), selectedType, model.name and
 * model.baseUrl in the file /model writes to; the key, when kept, in the user file's `env` (mode 0600).
 */
function planThirdParty(answers: ThirdPartyAnswers, configuration: LoadedConfiguration): SavePlan {
  const userPath = configuration.paths.userSettings;
  const modelPath = modelSettingsPath(configuration);
  const { entries, path: providerPath } = readProviderEntriesAsWritten(modelPath, answers.protocol);
  const existingIndex = entries.findIndex(
    (entry) =>
      isObject(entry) && entry['id'] === answers.model && sameBaseUrl(entry['baseUrl'], answers.baseUrl),
  );
  // An entry being updated keeps its other fields and its layout: only these two values are set. A new
  // one is appended (-1), so comments between the user's entries survive; id first, as people write them.
  const entry = { id: answers.model, name: answers.model, baseUrl: answers.baseUrl, envKey: answers.envKey };
  const entryEdits: SettingsEdit[] =
    existingIndex >= 0
      ? [
          { path: [...providerPath, existingIndex, 'baseUrl'], value: answers.baseUrl },
          { path: [...providerPath, existingIndex, 'envKey'], value: answers.envKey },
        ]
      : [
          entries.length === 0
            ? { path: providerPath, value: [entry] }
            : { path: [...providerPath, -1], value: entry },
        ];
  const modelEdits: SettingsEdit[] = [
    ...entryEdits,
    { path: ['security', 'auth', 'selectedType'], value: answers.protocol },
    { path: ['model', 'name'], value: answers.model },
    { path: ['model', 'baseUrl'], value: answers.baseUrl },
  ];
  const keyEdits: SettingsEdit[] = [];
  if (answers.apiKey !== undefined && answers.storeKey) {
    keyEdits.push({ path: ['env', answers.envKey], value: answers.apiKey });
  }
  // A typed key not saved removes the one stored before, which later sessions would otherwise use unasked.
  const stored =
    answers.apiKey === undefined || answers.storeKey ? undefined : storedKey(userPath, answers.envKey);
  if (stored !== undefined) keyEdits.push({ path: ['env', answers.envKey], value: undefined });
  const files = setupFiles({ userPath, modelPath, keyEdits, modelEdits });

  const lines = [
    `${protocolLabels[answers.protocol]} model ${answers.model} at ${maskUrl(answers.baseUrl)}`,
    `${existingIndex >= 0 ? 'updated in' : 'added to'} ${modelPath} (modelProviders.${answers.protocol}).`,
  ];
  if (answers.apiKey === undefined) {
    const source = configuration.env.source(answers.envKey)?.description ?? 'environment';
    lines.push(
      `Key: ${answers.envKey} as already set (${source === 'environment' ? 'in the environment' : source}).`,
    );
    return { files, lines };
  }
  if (answers.storeKey) {
    lines.push(`Key ${maskSecret(answers.apiKey)} in ${userPath} (env.${answers.envKey}, file mode 0600).`);
  } else {
    const removed =
      stored === undefined
        ? ''
        : ` The one stored before (${maskSecret(stored)}) was removed from ${userPath}.`;
    lines.push(
      `Key not saved; this session uses it.${removed} For later sessions add to your shell profile:`,
    );
    lines.push(`  export ${answers.envKey}='<your key ${maskSecret(answers.apiKey)}>'`);
  }
  return { files, sessionKey: { variable: answers.envKey, value: answers.apiKey }, lines };
}

/**
 * When a later session started as this one was would find another value for the key's variable: the shell's
 * or a .env file's, which win over settings env, or one a workspace's settings env keeps.
 */
function laterSessionWarning(
  key: { variable: string; value: string },
  stored: boolean,
  later: LayeredEnvironment,
): string | undefined {
  const { variable } = key;
  const value = later.get(variable);
  const source = later.source(variable);
  if (value === undefined || source === undefined || value.trim() === key.value) return undefined;
  if (value.trim() === '') {
    const empty = emptyVariableNote(variable, source);
    return `Warning: ${empty.note}; ${empty.remedy}.`;
  }
  const inShell = source.description === 'environment';
  const where = inShell ? 'your shell' : source.description;
  const wins =
    stored || inShell
      ? 'that value wins in later sessions'
      : `later sessions use that value unless ${variable} is exported`;
  return `Warning: ${variable} is also set in ${where} (${maskSecret(value.trim())}); ${wins}.`;
}

/**
 * One tiny request with the settings as saving would write them, read from memory: nothing is written.
 * Returns the failure, or undefined when the server answered; a cancel (Ctrl+C, Escape) throws.
 */
async function checkKey(answers: KeyAnswers, options: WizardOptions): Promise<CliError | undefined> {
  const { context } = options;
  const streams = options.streams ?? {};
  const plan = planSave(answers, loadConfigurationFor(context));
  const pending = new Map(
    plan.files.map((file) => [file.path, prepareSettingsFile(file.path, file.edits).text]),
  );
  const key = plan.sessionKey;
  const timeoutMs = options.keyCheckTimeoutMs ?? keyCheckTimeoutMs;
  const checkTimeout = AbortSignal.timeout(timeoutMs);
  const configuration = loadConfigurationFor(
    key === undefined ? context : { ...context, env: { ...context.env, [key.variable]: key.value } },
    (path) => pending.get(path) ?? readTextFileIfPresent(path),
  );
  try {
    const resolved = resolveModel({
      flags: {},
      settings: configuration.settings.merged,
      env: configuration.env,
    });
    const session = await prepareCredentials(resolved, {
      interactive: false,
      env: configuration.env.toRecord(),
      oauthFiles: oauthFilesIn(configuration.paths),
      home: context.home,
    });
    const target = {
      ...session.target,
      // Nothing is saved yet: a failure must not name a settings file as where the URL came from.
      baseUrlSource: undefined,
      generationConfig: {
        ...session.target.generationConfig,
        maxRetries: 0,
        samplingParams: { ...session.target.generationConfig.samplingParams, max_tokens: 16 },
      },
    };
    const where = maskUrl(target.baseUrl) || 'the default URL';
    // No answer may take a while to tell from a slow one: say how long it may take, and how to stop it.
    log.step(`Checking ${target.model} at ${where}… (up to ${timeoutMs / 1000} s; Escape cancels)`, streams);
    await withCancelKeys(streams.input, context.signal, (signal) =>
      streamTurn(
        { target, messages: [{ role: 'user', content: 'Reply with the single word OK.' }] },
        {
          onEvent: () => undefined,
          signal: AbortSignal.any([signal, checkTimeout]),
          fetchImplementation: context.fetchImplementation,
        },
      ),
    );
    log.success('The key works: the server answered.', streams);
    return undefined;
  } catch (error) {
    // A server that does not answer in time is a failed check (save anyway is offered), not a cancel.
    if (checkTimeout.aborted) {
      return new CliError('network', `No answer within ${timeoutMs / 1000} s.`, { cause: error });
    }
    if (error instanceof CliError && error.kind === 'cancelled') throw error;
    return error instanceof CliError ? error : new CliError('api', String(error), { cause: error });
  }
}

/** How long the key check waits for the server's answer. */
const keyCheckTimeoutMs = 30_000;

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

/**
 * What the settings say now, for the questions (nothing when they cannot be read): security.auth.enforcedType,
 * and the region of a Coding Plan set up before (its providerMetadata record's base URL).
 */
function setupSoFar(context: RunContext): {
  enforced?: AcceptedAuthType;
  codingPlanRegion?: CodingPlanRegion;
} {
  let merged: LoadedConfiguration['settings']['merged'];
  try {
    merged = loadConfigurationFor(context).settings.merged;
  } catch {
    return {};
  }
  const record = merged.providerMetadata?.['coding-plan'];
  const baseUrl = isObject(record) ? record['baseUrl'] : undefined;
  return {
    enforced: merged.security?.auth?.enforcedType,
    codingPlanRegion: codingPlanRegions.find((region) => sameBaseUrl(baseUrl, codingPlanBaseUrls[region])),
  };
}

/** The key the session would send: what loading the configuration now finds (undefined if it cannot). */
function keyThisSessionHas(context: RunContext, variable: string): string | undefined {
  try {
    return nonEmpty(loadConfigurationFor(context).env.get(variable)?.trim());
  } catch {
    return undefined;
  }
}

/** A key in the user settings' `env` as written; a `$VAR` reference there is the user's, not a key. */
function storedKey(userPath: string, variable: string): string | undefined {
  const value = nonEmpty(readEnvValueAsWritten(userPath, variable));
  return value === undefined || isEnvReference(value) ? undefined : value;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value.trim());
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
