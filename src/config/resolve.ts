// Which model to call, with which key, at which URL: flags + layered environment + merged settings in,
// one ResolvedModel out. Pure. A missing key is not decided here (the auth layer knows about OAuth tokens
// and Google credentials); a missing auth type or an invalid flag is.
import { CliError } from '../core/errors.ts';
import { maskUrl } from '../core/redact.ts';
import {
  type AcceptedAuthType,
  type AuthType,
  acceptedAuthTypes,
  type GenerationConfig,
  isOneOf,
  nonEmpty,
  type Protocol,
  type ResolvedModel,
  sameBaseUrl,
  type ValueSource,
  whereSet,
} from '../core/types.ts';
import { defaultOpenAiBaseUrl } from '../protocols/openai.ts';
import { clientHeaders } from './client-headers.ts';
import { sendableCustomHeaders } from './custom-headers.ts';
import { dashScopeHeaders, isDashScopeEndpoint } from './dashscope.ts';
import { emptyVariableNote, type LayeredEnvironment } from './env.ts';
import { type ProviderEntry, providerEntriesFor, unreadProviderNotes } from './providers.ts';
import {
  formatIssuePath,
  type ModelGenerationConfig,
  type ModelProviderEntry,
  type Settings,
} from './schema.ts';

export interface ResolveFlags {
  authType?: string;
  model?: string;
  openaiApiKey?: string;
  openaiBaseUrl?: string;
  /** Qwen Code's --bare: security.auth.selectedType is not read (compat §6). */
  bare?: boolean;
}

export interface ResolveInput {
  flags: ResolveFlags;
  settings: Settings;
  env: LayeredEnvironment;
  /** The files `settings` was merged from, lowest first: sources then name the file a setting came from. */
  settingsFiles?: readonly SettingsOrigin[];
}

export interface SettingsOrigin {
  path: string;
  settings: Settings;
  /** Qwen Code's old flat keys the file has, by the nested key they are read as (flat-layout.ts). */
  liftedFrom?: ReadonlyMap<string, string>;
  /** The `modelProviders` keys whose list the file writes in the old `{ protocol, models }` form. */
  legacyProviderLists?: ReadonlySet<string>;
}

/**
 * Where a model is looked for in vain: a higher scope's modelProviders replaces a lower one's whole, so a
 * model listed only in the lower file (the user's, under a project's) is not there. Empty when one file has it.
 */
function hiddenProvidersNote(files: readonly SettingsOrigin[]): string {
  const withProviders = files.filter((file) => file.settings.modelProviders !== undefined);
  const used = withProviders.at(-1);
  if (used === undefined || withProviders.length < 2) return '';
  const hidden = withProviders.slice(0, -1).map((file) => file.path);
  return ` (those of ${used.path}, which replace the modelProviders of ${hidden.join(' and ')} whole)`;
}

/** A key as the file has it: `selectedAuthType` for `security.auth.selectedType` in an old flat file. */
export function keyAsWritten(file: SettingsOrigin, key: string): string {
  return file.liftedFrom?.get(key) ?? key;
}

/** The highest file in which `has` finds the setting (the one the merge kept). */
export function highestFileWith(
  files: readonly SettingsOrigin[],
  has: (settings: Settings) => boolean,
): SettingsOrigin | undefined {
  return files.findLast((file) => has(file.settings));
}

/** A setting as the merge kept it, and the file it came from. */
export interface WinningSetting {
  path: string;
  value: string;
}

/**
 * The auth type and model the merged settings hold where they differ from `wanted`, each with the file (the
 * highest scope) it comes from: a choice just written to another file that will not take effect.
 */
export function settingsThatWin(
  settings: { files: readonly SettingsOrigin[]; merged: Settings },
  wanted: { authType: string; model?: string },
): { selectedType?: WinningSetting; model?: WinningSetting } {
  const { files, merged } = settings;
  const winning = (value: string, has: (candidate: Settings) => boolean): WinningSetting => ({
    path: highestFileWith(files, has)?.path ?? 'another settings file',
    value,
  });
  const selected = merged.security?.auth?.selectedType;
  const name = merged.model?.name;
  return {
    ...(selected !== undefined && selected !== wanted.authType
      ? {
          selectedType: winning(
            selected,
            (candidate) => candidate.security?.auth?.selectedType !== undefined,
          ),
        }
      : {}),
    ...(wanted.model !== undefined && name !== undefined && name !== wanted.model
      ? { model: winning(name, (candidate) => candidate.model?.name !== undefined) }
      : {}),
  };
}

interface ProtocolVariables {
  key: string;
  /** Variables naming the model, in order. */
  model: string[];
  /** The base-URL variable; for the Google protocols, the one their SDKs honour. */
  baseUrl: string;
}

export const protocolVariables: Record<Protocol, ProtocolVariables> = {
  openai: { key: 'OPENAI_API_KEY', model: ['OPENAI_MODEL', 'QWEN_MODEL'], baseUrl: 'OPENAI_BASE_URL' },
  anthropic: { key: 'ANTHROPIC_API_KEY', model: ['ANTHROPIC_MODEL'], baseUrl: 'ANTHROPIC_BASE_URL' },
  gemini: { key: 'GEMINI_API_KEY', model: ['GEMINI_MODEL'], baseUrl: 'GOOGLE_GEMINI_BASE_URL' },
  'vertex-ai': { key: 'GOOGLE_API_KEY', model: ['GOOGLE_MODEL'], baseUrl: 'GOOGLE_VERTEX_BASE_URL' },
};

/** Qwen OAuth serves one model alias; the server picks the actual model. */
export const qwenOauthModel = 'coder-model';

export const noAuthenticationMessage =
  'No authentication configured. Set OPENAI_API_KEY with OPENAI_BASE_URL and OPENAI_MODEL (or pass ' +
  '--openai-api-key, --openai-base-url, --model), or choose a provider with --auth-type; or run `qwen` in a ' +
  'terminal for the setup wizard (from a script: `qwen auth coding-plan` or `qwen auth qwen-oauth`).';

/** No model for the chosen provider: `qwen auth status` then shows the auth type, without a model. */
export class NoModelSelectedError extends CliError {
  /** `skipped`: the warnings about model lists no protocol reads, which often explain why none was found. */
  constructor(providerKey: string, hint: string, skipped: readonly string[] = []) {
    const why = skipped.map((note) => `; ${note.replace(/^Warning: /, '').replace(/\.$/, '')}`).join('');
    super('auth', `No model selected for ${providerKey}${why}.`, { hint });
  }
}

/** Said on stderr when a setting asks for the Responses API, which qwen-lite does not speak. */
export function responsesApiNote(what: string): string {
  return `Note: ${what} asks for the OpenAI Responses API; qwen-lite speaks Chat Completions, so it sends the same model, key and base URL to <base URL>/chat/completions.`;
}

export function resolveModel(input: ResolveInput): ResolvedModel {
  const { flags, settings, env } = input;
  const requested = resolveAuthType(input);
  assertAuthTypeAllowed(settings, requested, `Use --auth-type ${settings.security?.auth?.enforcedType}`);
  const authType: AuthType = requested === 'openai-responses' ? 'openai' : requested;
  const protocol: Protocol = authType === 'qwen-oauth' ? 'openai' : authType;
  // Qwen Code keeps openai-responses models under their own key; they are looked up there.
  const providerKey: string = requested === 'openai-responses' ? requested : protocol;

  if (authType === 'qwen-oauth') {
    // The token, its base URL (resource_url) and headers come from the auth layer; keys and base URLs
    // meant for API-key providers must never be sent along with a Qwen OAuth token.
    const notes: string[] = [];
    const asked = nonEmpty(flags.model) ?? nonEmpty(stripRuntimePrefix(settings.model?.name));
    if (asked !== undefined && asked !== qwenOauthModel) {
      // Qwen Code's words (compat §1): the model asked for is not the one that answers.
      notes.push(`Unsupported Qwen OAuth model '${asked}', falling back to '${qwenOauthModel}'.`);
    }
    return {
      authType,
      protocol,
      model: qwenOauthModel,
      modelSource: { description: 'the one model Qwen OAuth serves' },
      baseUrl: '',
      generationConfig: generationConfigOf(
        settings.model?.generationConfig,
        modelGenerationConfigOrigin(input.settingsFiles ?? []),
        settings,
        env,
        notes,
      ),
      extraHeaders: clientHeaders(protocol, ''),
      ...(notes.length > 0 ? { notes } : {}),
    };
  }

  const variables = protocolVariables[protocol];
  const providerEntries = providerEntriesFor(settings, providerKey);
  const chosen = chooseModelId(protocol, providerKey, providerEntries, input);
  const found = findProviderEntry(
    providerEntries,
    chosen.id,
    // An empty model.baseUrl, as Qwen Code's /model and Coding Plan setup write it, is no preference.
    chosen.fromSettings ? nonEmpty(settings.model?.baseUrl) : undefined,
  );
  const entry = found?.entry;
  // Where the entry sits: its protocol's list, or a custom id's that providerProtocol maps to it.
  const entryKey = found?.key ?? providerKey;

  // The file whose modelProviders are in use (a higher scope's replaces a lower one's whole).
  const providersFile = highestFileWith(
    input.settingsFiles ?? [],
    (candidate) => candidate.modelProviders !== undefined,
  );

  const notes: string[] = unreadProviderNotes(settings);
  const ignoredModelConfig = Object.keys(settings.model?.generationConfig ?? {});
  if (entry !== undefined && ignoredModelConfig.length > 0) {
    // Qwen Code's warning (compat §3): a provider's model takes its generationConfig from its entry alone.
    const fields = ignoredModelConfig.map((field) => `model.generationConfig.${field}`).join(', ');
    notes.push(
      `Warning: ${fields} ${ignoredModelConfig.length === 1 ? 'is' : 'are'} ignored for provider model "${entry.id}" from modelProviders.${entryKey}. Move ${ignoredModelConfig.length === 1 ? 'it' : 'them'} to modelProviders.${entryKey}[].generationConfig.`,
    );
  }
  const resolved: ResolvedModel = {
    authType,
    protocol,
    model: chosen.id,
    modelSource: chosen.source,
    baseUrl: '',
    generationConfig: generationConfigOf(
      entry === undefined ? settings.model?.generationConfig : entry.generationConfig,
      found === undefined
        ? modelGenerationConfigOrigin(input.settingsFiles ?? [])
        : entryGenerationConfigOrigin(found, settings, providersFile),
      settings,
      env,
      notes,
    ),
  };
  if (entry !== undefined) resolved.displayName = entry.name ?? entry.id;
  if (requested === 'openai-responses') notes.push(responsesApiNote('auth type openai-responses'));
  else if (entry?.wireApi === 'responses') {
    notes.push(responsesApiNote(`wireApi "responses" of modelProviders.${entryKey} (${entry.id})`));
  }
  if (notes.length > 0) resolved.notes = notes;

  // Key: the flag always wins (seed), then the variable the entry names, else the protocol's variable.
  // An entry's envKey is never swapped for another variable: that would send one provider's key to another.
  const keyVariable = nonEmpty(entry?.envKey) ?? variables.key;
  resolved.apiKeyVariable = keyVariable;
  const flagKey = nonEmpty(flags.openaiApiKey);
  if (flagKey !== undefined) {
    resolved.apiKey = flagKey;
    resolved.apiKeySource = { description: 'flag --openai-api-key', name: 'OPENAI_API_KEY' };
  } else if (nonEmpty(env.get(keyVariable)) !== undefined) {
    resolved.apiKey = nonEmpty(env.get(keyVariable));
    resolved.apiKeySource = env.source(keyVariable) ?? { description: 'environment', name: keyVariable };
  } else if (
    protocol === 'anthropic' &&
    // An entry that names ANTHROPIC_API_KEY (the authentication docs' example) means the default, too.
    keyVariable === variables.key &&
    nonEmpty(env.get('ANTHROPIC_AUTH_TOKEN')) !== undefined
  ) {
    // A bearer token (Claude-compatible gateways): sent as `Authorization: Bearer`, not as x-api-key.
    resolved.accessToken = nonEmpty(env.get('ANTHROPIC_AUTH_TOKEN'));
    resolved.apiKeySource = env.source('ANTHROPIC_AUTH_TOKEN') ?? {
      description: 'environment',
      name: 'ANTHROPIC_AUTH_TOKEN',
    };
  } else if (
    nonEmpty(entry?.envKey) === undefined &&
    nonEmpty(settings.security?.auth?.apiKey) !== undefined
  ) {
    // Deprecated by Qwen Code, still read by it as the last resort; kept so old files keep working.
    resolved.apiKey = nonEmpty(settings.security?.auth?.apiKey);
    resolved.apiKeySource = { description: 'settings security.auth.apiKey', name: 'security.auth.apiKey' };
  } else if (env.get(keyVariable) === '') {
    resolved.emptyKeySource = env.source(keyVariable);
  }

  const baseUrl = resolveBaseUrl(
    protocol,
    entryKey,
    entry,
    flags,
    settings,
    env,
    providersFile?.path ?? 'settings',
  );
  // Said now, naming the value as set, before any output: not as a request to `notaurl/chat/completions`.
  if (baseUrl.value !== '') assertValidBaseUrl(baseUrl.value, baseUrl.source);
  resolved.baseUrl = baseUrl.value;
  if (baseUrl.source !== undefined) resolved.baseUrlSource = baseUrl.source;
  // A model the list does not hold goes, as in Qwen Code, where the protocol's variables say, and with no
  // URL set to the protocol's own endpoint: with a key set up for another provider, that can surprise.
  const protocolDefault = baseUrl.value === '' || baseUrl.source?.description === 'default';
  if (entry === undefined && providerEntries.length > 0 && protocolDefault) {
    const where = baseUrl.value === '' ? `${protocol}'s own endpoint` : baseUrl.value;
    const credential = resolved.apiKeySource?.name;
    notes.push(
      `Note: model "${chosen.id}" is not among the ${protocol} models in modelProviders${hiddenProvidersNote(input.settingsFiles ?? [])}, so it goes to ${where}${credential === undefined ? '' : ` with ${credential}`}; add it there to use it at the provider set up for them.`,
    );
    resolved.notes = notes;
  }
  resolved.extraHeaders = clientHeaders(protocol, baseUrl.value);
  if (protocol === 'openai' && isDashScopeEndpoint(baseUrl.value, env.get('DASHSCOPE_PROXY_BASE_URL'))) {
    resolved.dashScope = true;
    resolved.extraHeaders = { ...resolved.extraHeaders, ...dashScopeHeaders(authType) };
  }

  if (protocol === 'vertex-ai' && resolved.apiKey === undefined) {
    const project = nonEmpty(env.get('GOOGLE_CLOUD_PROJECT'));
    if (project !== undefined) {
      resolved.googleCloud = { project, location: nonEmpty(env.get('GOOGLE_CLOUD_LOCATION')) ?? 'global' };
    }
  }
  return resolved;
}

/** A base URL that is not an http(s) URL is a configuration mistake (or a bad flag), not a network failure. */
export function assertValidBaseUrl(url: string, source: ValueSource | undefined): void {
  const parsed = URL.canParse(url.trim()) ? new URL(url.trim()) : undefined;
  const http = parsed?.protocol === 'https:' || parsed?.protocol === 'http:';
  if (parsed && http && parsed.hostname) return;
  const fromFlag = source?.description.startsWith('flag') === true;
  // A reference left as written is a variable that is not set (settings keep `${VAR}` then, as Qwen Code).
  const unset = /\$\{?([A-Za-z_][A-Za-z0-9_]*)/.exec(url)?.[1];
  const cause = unset === undefined ? '' : ` (${unset} is not set)`;
  // `ftp://host/v1` is a URL, only not one a model is served at: saying it is no URL would puzzle.
  const otherScheme =
    parsed !== undefined && !http && /^[a-z][a-z0-9+.-]*:\/\//i.test(url.trim())
      ? parsed.protocol
      : undefined;
  throw new CliError(
    fromFlag ? 'input' : 'config',
    otherScheme === undefined
      ? `The base URL is not a valid URL: ${maskUrl(url)}${cause}`
      : `The base URL ${maskUrl(url)} uses ${otherScheme}//, which is not supported: only http:// and https:// are`,
    {
      hint:
        unset === undefined
          ? `Fix it where it was set (${source === undefined ? 'the model entry' : whereSet(source)}); it looks like https://host/v1.`
          : `Set ${unset} (in the environment, a .env file or the settings' env), or fix the URL where it was set (${source === undefined ? 'the model entry' : whereSet(source)}).`,
    },
  );
}

/**
 * Qwen Code's hard rule: with `security.auth.enforcedType` set, no other auth type is used, nor set up (a
 * login or a wizard that wrote another selectedType would leave every later run refused). Throws (exit 41)
 * when `requested` is not allowed; `remedy` starts the hint: what the user can do instead.
 */
export function assertAuthTypeAllowed(settings: Settings, requested: AcceptedAuthType, remedy: string): void {
  const enforced = settings.security?.auth?.enforcedType;
  if (enforced === undefined || enforced === requested) return;
  throw new CliError(
    'auth',
    `The configured auth type is ${enforced}, but the current auth type is ${requested}.`,
    { hint: `${remedy}, or ask whoever set security.auth.enforcedType.` },
  );
}

/** `--auth-type` > `security.auth.selectedType` (not with --bare) > detection from the environment. */
export function resolveAuthType(input: ResolveInput): AcceptedAuthType {
  const flag = input.flags.authType;
  if (flag !== undefined) {
    if (isOneOf(acceptedAuthTypes, flag)) return flag;
    throw new CliError(
      'input',
      `Invalid --auth-type "${flag}". Accepted values: ${acceptedAuthTypes.join(', ')}.`,
    );
  }
  const selected = input.flags.bare ? undefined : input.settings.security?.auth?.selectedType;
  if (selected !== undefined) return selected;
  const detected = detectAuthType(input);
  if (detected !== undefined) return detected;
  throw noAuthenticationFailure(input);
}

/**
 * Nothing chose an auth type. The usual advice, unless security.auth.enforcedType allows one type only
 * (then what that type needs), plus any key variable set but empty: it hides a key in a .env file or settings
 * env, and "set OPENAI_API_KEY" alone would puzzle whoever sees it set.
 */
function noAuthenticationFailure(input: ResolveInput): CliError {
  const enforced = input.settings.security?.auth?.enforcedType;
  let message = noAuthenticationMessage;
  if (enforced === 'qwen-oauth') {
    message =
      'No authentication configured. security.auth.enforcedType is qwen-oauth: run `qwen auth qwen-oauth`.';
  } else if (enforced !== undefined) {
    const variables = protocolVariables[enforced === 'openai-responses' ? 'openai' : enforced];
    message = `No authentication configured. security.auth.enforcedType is ${enforced}: set ${variables.key} and ${variables.model[0]} (or pass --auth-type ${enforced} with --model).`;
  }
  const emptyNotes = Object.values(protocolVariables).flatMap(({ key }) => {
    // Empty means some layer set it: there is a source.
    const source = input.env.get(key) === '' ? input.env.source(key) : undefined;
    return source === undefined ? [] : [` ${emptyVariableNote(key, source).note}.`];
  });
  return new CliError('auth', `${message}${emptyNotes.join('')}${nearMisses(input.env).join('')}`);
}

/**
 * A provider's key is set but detection (detectAuthType) did not choose it: what else it needs, so that
 * ANTHROPIC_API_KEY and ANTHROPIC_MODEL without ANTHROPIC_BASE_URL do not end in advice about OpenAI alone.
 */
function nearMisses(env: LayeredEnvironment): string[] {
  const has = (name: string): boolean => nonEmpty(env.get(name)) !== undefined;
  // Besides the key, each group of variables detection needs one of.
  const needs: [Protocol, string[][]][] = [
    ['openai', [protocolVariables.openai.model]],
    ['anthropic', [protocolVariables.anthropic.model, [protocolVariables.anthropic.baseUrl]]],
    ['gemini', [protocolVariables.gemini.model]],
    ['vertex-ai', [protocolVariables['vertex-ai'].model]],
  ];
  const misses = needs.flatMap(([protocol, groups]) => {
    const { key } = protocolVariables[protocol];
    const missing = groups.filter((group) => !group.some(has)).map((group) => group.join(' or '));
    if (!has(key) || missing.length === 0) return [];
    return [
      ` ${key} is set, but choosing ${protocol} from the environment also needs ${missing.join(' and ')} (or pass --auth-type ${protocol} with --model).`,
    ];
  });
  // Detection never looks at the bearer token: it is taken once anthropic is chosen.
  if (has('ANTHROPIC_AUTH_TOKEN') && !has(protocolVariables.anthropic.key)) {
    misses.push(
      ' ANTHROPIC_AUTH_TOKEN is set, but it is used only once the auth type is anthropic: pass --auth-type anthropic (or set security.auth.selectedType).',
    );
  }
  return misses;
}

/**
 * Qwen Code's detection order (compat §4), extended so that CI set-ups that give the key and the model
 * separately work: an explicit `--openai-api-key`, or OPENAI_API_KEY with a model from a flag, settings or
 * OPENAI_MODEL/QWEN_MODEL (the base URL then defaults to OpenAI's). The extension comes last: in Qwen Code
 * `--openai-api-key` and `--openai-base-url` apply to whichever auth type is active (compat §5), so a
 * complete Anthropic or Gemini environment keeps its auth type and takes the flag's key.
 */
export function detectAuthType(input: ResolveInput): AuthType | undefined {
  const { flags, settings, env } = input;
  const has = (name: string): boolean => nonEmpty(env.get(name)) !== undefined;
  if (has('QWEN_OAUTH')) return 'qwen-oauth';
  if (has('OPENAI_API_KEY') && (has('OPENAI_MODEL') || has('QWEN_MODEL')) && has('OPENAI_BASE_URL'))
    return 'openai';
  if (has('GEMINI_API_KEY') && has('GEMINI_MODEL')) return 'gemini';
  if (has('GOOGLE_API_KEY') && has('GOOGLE_MODEL')) return 'vertex-ai';
  if (has('GOOGLE_CLOUD_PROJECT') && has('GOOGLE_MODEL')) return 'vertex-ai';
  if (has('ANTHROPIC_API_KEY') && has('ANTHROPIC_MODEL') && has('ANTHROPIC_BASE_URL')) return 'anthropic';
  if (nonEmpty(flags.openaiApiKey) !== undefined) return 'openai';
  if (has('OPENAI_API_KEY')) {
    const hasModel =
      nonEmpty(flags.model) !== undefined ||
      nonEmpty(settings.model?.name) !== undefined ||
      has('OPENAI_MODEL') ||
      has('QWEN_MODEL') ||
      providerEntriesFor(settings, 'openai').length > 0;
    if (hasModel) return 'openai';
  }
  return undefined;
}

interface ChosenModel {
  id: string;
  /** Came from `model.name`: only then does `model.baseUrl` pick between entries (Qwen Code's rule). */
  fromSettings: boolean;
  source: ValueSource;
}

/** `--model` > `model.name` > the protocol's model variables > the first configured entry. */
function chooseModelId(
  protocol: Protocol,
  providerKey: string,
  providerEntries: readonly ProviderEntry[],
  input: ResolveInput,
): ChosenModel {
  const { flags, settings, env } = input;
  const fileWith = (has: (settings: Settings) => boolean) =>
    highestFileWith(input.settingsFiles ?? [], has)?.path ?? 'settings';
  const flagModel = nonEmpty(flags.model);
  if (flagModel !== undefined) {
    return { id: flagModel, fromSettings: false, source: { description: 'flag --model' } };
  }
  const settingsModel = nonEmpty(stripRuntimePrefix(settings.model?.name));
  if (settingsModel !== undefined) {
    const file = highestFileWith(
      input.settingsFiles ?? [],
      (candidate) => candidate.model?.name !== undefined,
    );
    return {
      id: settingsModel,
      fromSettings: true,
      source: {
        description: file?.path ?? 'settings',
        name: file === undefined ? 'model.name' : keyAsWritten(file, 'model.name'),
      },
    };
  }
  for (const name of protocolVariables[protocol].model) {
    const value = nonEmpty(env.get(name));
    if (value !== undefined) {
      return {
        id: value,
        fromSettings: false,
        source: env.source(name) ?? { description: 'environment', name },
      };
    }
  }
  const first = providerEntries[0];
  if (first !== undefined) {
    // modelProviders is replaced whole by a higher scope: the highest file that has it holds the list.
    const file = fileWith((candidate) => candidate.modelProviders !== undefined);
    return {
      id: first.entry.id,
      fromSettings: false,
      source: { description: `first entry of modelProviders.${first.key} in ${file}` },
    };
  }
  // Part of the provider setup, like the key (exit 41, as "no authentication configured"); no file is wrong.
  const variables = protocolVariables[protocol].model.join(' or ');
  throw new NoModelSelectedError(
    providerKey,
    `Pass -m/--model, set ${variables}, set model.name in settings.json, or add a model under modelProviders.${providerKey}${hiddenProvidersNote(input.settingsFiles ?? [])}.`,
    unreadProviderNotes(settings),
  );
}

/** `/model` in Qwen Code may store runtime models as `$runtime|<authType>|<id>`. */
function stripRuntimePrefix(name: string | undefined): string | undefined {
  if (name?.startsWith('$runtime|') !== true) return name;
  const parts = name.split('|');
  return parts.slice(2).join('|');
}

/** The first entry with this id; with `preferredBaseUrl`, the first with this id and that base URL if any. */
export function findProviderEntry(
  entries: readonly ProviderEntry[],
  id: string,
  preferredBaseUrl: string | undefined,
): ProviderEntry | undefined {
  const matching = entries.filter(({ entry }) => entry.id === id);
  if (preferredBaseUrl !== undefined) {
    const exact = matching.find(({ entry }) => sameBaseUrl(entry.baseUrl, preferredBaseUrl));
    if (exact !== undefined) return exact;
  }
  return matching[0];
}

/** The entry's baseUrl > `--openai-base-url` > the protocol's variable > legacy settings > default. */
function resolveBaseUrl(
  protocol: Protocol,
  providerKey: string,
  entry: ModelProviderEntry | undefined,
  flags: ResolveFlags,
  settings: Settings,
  env: LayeredEnvironment,
  providersFile: string,
): { value: string; source?: ValueSource } {
  const entryUrl = nonEmpty(entry?.baseUrl);
  if (entryUrl !== undefined) {
    return {
      value: entryUrl,
      source: {
        description: `${providersFile} modelProviders.${providerKey} (${entry?.id})`,
        name: 'baseUrl',
      },
    };
  }
  const flagUrl = nonEmpty(flags.openaiBaseUrl);
  if (flagUrl !== undefined)
    return { value: flagUrl, source: { description: 'flag --openai-base-url', name: 'OPENAI_BASE_URL' } };
  const variable = protocolVariables[protocol].baseUrl;
  const envUrl = nonEmpty(env.get(variable));
  if (envUrl !== undefined)
    return { value: envUrl, source: env.source(variable) ?? { description: 'environment', name: variable } };
  const legacyUrl = nonEmpty(settings.security?.auth?.baseUrl);
  if (legacyUrl !== undefined) {
    return {
      value: legacyUrl,
      source: { description: 'settings security.auth.baseUrl', name: 'security.auth.baseUrl' },
    };
  }
  // Named here (not left to the adapter) so messages can say which server was called.
  if (protocol === 'openai') return { value: defaultOpenAiBaseUrl, source: { description: 'default' } };
  return { value: '' };
}

/** Where the generationConfig in use is written, for the messages about its fields. */
interface GenerationConfigOrigin {
  /** Its timeout as settings.json names it, for the message of a request it stops. */
  timeoutName: string;
  /** `<file>: <JSON path>` of the customHeaders holding the header `name`. */
  customHeadersPlace: (name: string) => string;
}

/** model.generationConfig: for a model not in modelProviders, and for Qwen OAuth's. */
function modelGenerationConfigOrigin(files: readonly SettingsOrigin[]): GenerationConfigOrigin {
  return {
    timeoutName: 'model.generationConfig.timeout',
    customHeadersPlace: (name) => {
      // Merged key by key across files: the header is where the highest file that sets it has it.
      const file = highestFileWith(
        files,
        (settings) => settings.model?.generationConfig?.customHeaders?.[name] !== undefined,
      );
      const path =
        file === undefined ? 'model.generationConfig' : keyAsWritten(file, 'model.generationConfig');
      return `${file?.path ?? 'settings.json'}: ${path}.customHeaders`;
    },
  };
}

/** A modelProviders entry's generationConfig, in `file` (the highest with modelProviders: it holds them all). */
function entryGenerationConfigOrigin(
  found: ProviderEntry,
  settings: Settings,
  file: SettingsOrigin | undefined,
): GenerationConfigOrigin {
  // The merged list is the file's (modelProviders is replaced whole), so the index is the file's too.
  const index = settings.modelProviders?.[found.key]?.indexOf(found.entry) ?? 0;
  const list = file?.legacyProviderLists?.has(found.key) === true ? [found.key, 'models'] : [found.key];
  const path = formatIssuePath(
    ['modelProviders', ...list, index, 'generationConfig', 'customHeaders'].map((key) => ({ key })),
  );
  return {
    timeoutName: `generationConfig.timeout of the modelProviders.${found.key} entry "${found.entry.id}"`,
    customHeadersPlace: () => `${file?.path ?? 'settings.json'}: ${path}`,
  };
}

/**
 * The five fields the pipeline uses; QWEN_CODE_API_TIMEOUT_MS fills the timeout when settings do not (a
 * value that is not a number is ignored with a note in `notes`).
 */
function generationConfigOf(
  config: ModelGenerationConfig | undefined,
  origin: GenerationConfigOrigin,
  settings: Settings,
  env: LayeredEnvironment,
  notes: string[],
): GenerationConfig {
  const { timeoutName } = origin;
  const result: GenerationConfig = {};
  if (config?.timeout !== undefined) {
    result.timeout = config.timeout;
    result.timeoutSetting = `${timeoutName} in settings.json`;
    // Qwen Code reads any value of 0 or less as none, so a file written for it may say -1: kept, and said.
    if (config.timeout < 0) {
      notes.push(
        `Note: ${timeoutName} is ${config.timeout}, which means no request timeout (as 0 does, in Qwen Code too); set 0 to say so, or a number of milliseconds.`,
      );
    }
  }
  if (config?.maxRetries !== undefined) result.maxRetries = config.maxRetries;
  if (config?.samplingParams !== undefined) result.samplingParams = config.samplingParams;
  if (config?.customHeaders !== undefined) {
    result.customHeaders = sendableCustomHeaders(config.customHeaders, {
      allowDynamicValues: settings.outboundCorrelation?.allowDynamicHeaderValues === true,
      placeOf: origin.customHeadersPlace,
      notes,
    });
  }
  if (config?.extra_body !== undefined) result.extra_body = config.extra_body;
  if (result.timeout === undefined) {
    const fromEnv = millisecondsVariable(env, 'QWEN_CODE_API_TIMEOUT_MS', (note) => notes.push(note));
    if (fromEnv !== undefined) {
      result.timeout = fromEnv;
      result.timeoutSetting = 'QWEN_CODE_API_TIMEOUT_MS';
    }
  }
  // Qwen Code's cap on the answer's length, for every provider, unless the entry's samplingParams set one.
  if (result.samplingParams?.max_tokens === undefined) {
    const maxTokens = numberVariable(env, 'QWEN_CODE_MAX_OUTPUT_TOKENS', wholeTokens, (note) =>
      notes.push(note),
    );
    if (maxTokens !== undefined) result.samplingParams = { ...result.samplingParams, max_tokens: maxTokens };
  }
  return result;
}

/** What a numeric variable takes: which values are good, and the words for one that is not. */
interface NumberKind {
  accepts: (value: number) => boolean;
  /** `a number of milliseconds, such as 120000` */
  described: string;
}

const milliseconds: NumberKind = {
  accepts: (value) => Number.isFinite(value) && value >= 0,
  described: 'a number of milliseconds, such as 120000',
};

const wholeTokens: NumberKind = {
  accepts: (value) => Number.isInteger(value) && value >= 1,
  described: 'a whole number of tokens, such as 8192',
};

/**
 * A variable that takes a number: its value, or undefined when it is unset, or when it is no such number
 * (`2m`, `-5`), which `note` is told rather than keeping the default silently.
 */
function numberVariable(
  env: Pick<LayeredEnvironment, 'get'>,
  variable: string,
  kind: NumberKind,
  note: (line: string) => void,
): number | undefined {
  const typed = nonEmpty(env.get(variable));
  if (typed === undefined) return undefined;
  const value = Number(typed);
  if (kind.accepts(value)) return value;
  note(`Ignoring ${variable}="${typed}": it takes ${kind.described}.`);
  return undefined;
}

/** A variable that takes milliseconds (0 turning its limit off, as in Qwen Code). */
export function millisecondsVariable(
  env: Pick<LayeredEnvironment, 'get'>,
  variable: string,
  note: (line: string) => void,
): number | undefined {
  return numberVariable(env, variable, milliseconds, note);
}
