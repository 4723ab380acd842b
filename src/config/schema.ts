// The one definition of settings.json. Every object is loose: keys we do not know (Qwen Code has many more)
// are kept as they are and never an error, so a file written for Qwen Code always loads here. Keys we do
// know must have the right type; a mistake names the JSON path and what was expected.
import * as v from 'valibot';
import { acceptedAuthTypes, isObject } from '../core/types.ts';

/** The largest generationConfig.maxRetries accepted (see its schema below). */
const mostRetries = 100;

/**
 * Built on first use rather than at load: a run without settings files (a CI job with keys in the environment)
 * never validates anything, and building the schema was about 0.5 ms of every start-up.
 */
function buildSettingsSchema() {
  const optionalString = v.optional(v.string('expected a string'));
  const optionalNumber = v.optional(v.number('expected a number'));
  const optionalBoolean = v.optional(v.boolean('expected true or false'));
  // valibot's record takes an array for an object ({"0": ...}): `extra_body: [1]` would send "0": 1.
  const objectOnly = <Output>(record: v.GenericSchema<unknown, Output>, message: string) =>
    v.pipe(
      v.unknown(),
      v.check((input) => !Array.isArray(input), message),
      record,
    );
  const stringRecord = objectOnly(
    v.record(v.string(), v.string('expected a string'), 'expected an object of strings'),
    'expected an object of strings',
  );
  const anyRecord = objectOnly(v.record(v.string(), v.unknown(), 'expected an object'), 'expected an object');

  /** A number that must be whole and within bounds: every failing check reads `message`. */
  const wholeNumber = (message: string, least = -Infinity, most = Infinity) =>
    v.optional(
      v.pipe(v.number(message), v.integer(message), v.minValue(least, message), v.maxValue(most, message)),
    );

  // Only max_tokens has a domain every server shares (a count of tokens, as QWEN_CODE_MAX_OUTPUT_TOKENS
  // takes): Qwen Code sends -5 as it is, and the server refuses it. The others are the server's to judge:
  // temperature runs to 1 on one provider and 2 on another, vLLM takes top_k -1 for "off".
  const samplingParamsSchema = v.looseObject(
    {
      temperature: optionalNumber,
      top_p: optionalNumber,
      top_k: optionalNumber,
      max_tokens: wholeNumber('expected a whole number of tokens, 1 or more', 1),
      presence_penalty: optionalNumber,
      frequency_penalty: optionalNumber,
      stop: v.optional(
        v.union([v.string(), v.array(v.string())], 'expected a string or an array of strings'),
      ),
    },
    'expected an object',
  );

  const generationConfigSchema = v.looseObject(
    {
      /**
       * Whole-request timeout in ms; 0 or less means none, as in Qwen Code (a negative one is used so, with a
       * note: config/resolve.ts). A fraction is no number of milliseconds anyone means (seconds, more likely).
       */
      timeout: wholeNumber('expected a whole number of milliseconds (0 for none)'),
      /**
       * Retries after the first request: a count, so 1.5 or -1 is a mistake, not a number to round. At most
       * 100: with the longest backoff (8 s, net/http.ts) that is already some 13 minutes of trying a failing
       * server; a billion would never end (Qwen Code's SDK would try them all).
       */
      maxRetries: wholeNumber(`expected a whole number from 0 to ${mostRetries}`, 0, mostRetries),
      samplingParams: v.optional(samplingParamsSchema),
      customHeaders: v.optional(stringRecord),
      extra_body: v.optional(anyRecord),
    },
    'expected an object',
  );

  const modelProviderEntrySchema = v.looseObject(
    {
      id: v.pipe(
        v.string('expected a string (every model entry needs an "id")'),
        v.nonEmpty('expected a non-empty string (every model entry needs an "id")'),
      ),
      name: optionalString,
      description: optionalString,
      /** The variable holding this model's API key. */
      envKey: optionalString,
      baseUrl: optionalString,
      capabilities: v.optional(anyRecord),
      /** `responses` is accepted and run over Chat Completions, with a note (config/resolve.ts). */
      wireApi: v.optional(
        v.picklist(['chat-completions', 'responses'], 'expected one of chat-completions, responses'),
      ),
      generationConfig: v.optional(generationConfigSchema),
    },
    'expected a model entry object with at least an "id"',
  );

  const authTypeSchema = v.picklist(acceptedAuthTypes, `expected one of ${acceptedAuthTypes.join(', ')}`);

  const settingsSchema = v.looseObject(
    {
      $version: optionalNumber,
      modelProviders: v.optional(
        v.record(
          v.string(),
          v.pipe(
            v.unknown(),
            // Qwen Code migrates its old `{ "protocol": …, "models": [ … ] }` wrapper; so do we, in memory only.
            v.transform(unwrapLegacyProviderList),
            v.array(
              modelProviderEntrySchema,
              'expected an array of model entries (or the old { "protocol", "models": [ … ] } form)',
            ),
          ),
          'expected an object mapping a protocol (openai, anthropic, gemini, vertex-ai) to an array of models',
        ),
      ),
      providerProtocol: v.optional(stringRecord),
      providerMetadata: v.optional(anyRecord),
      security: v.optional(
        v.looseObject(
          {
            auth: v.optional(
              v.looseObject(
                {
                  selectedType: v.optional(authTypeSchema),
                  enforcedType: v.optional(authTypeSchema),
                  useExternal: optionalBoolean,
                  /** Deprecated by Qwen Code in favour of `env` / `envKey`; still honoured as a last resort. */
                  apiKey: optionalString,
                  baseUrl: optionalString,
                },
                'expected an object',
              ),
            ),
          },
          'expected an object',
        ),
      ),
      model: v.optional(
        v.looseObject(
          {
            name: optionalString,
            /** Chooses between modelProviders entries that share an id. */
            baseUrl: optionalString,
            reasoningEffort: optionalString,
            /** Applies only to a model that is not in modelProviders. */
            generationConfig: v.optional(generationConfigSchema),
          },
          'expected an object',
        ),
      ),
      env: v.optional(stringRecord),
      proxy: optionalString,
      /** Lets customHeaders carry `${session_id}`; read from user and system settings only (settings.ts). */
      outboundCorrelation: v.optional(
        v.looseObject({ allowDynamicHeaderValues: optionalBoolean }, 'expected an object'),
      ),
      advanced: v.optional(
        v.looseObject(
          {
            excludedEnvVars: v.optional(
              v.array(v.string('expected a string'), 'expected an array of strings'),
            ),
          },
          'expected an object',
        ),
      ),
    },
    'expected a JSON object at the top level',
  );
  return settingsSchema;
}

/**
 * `{ "protocol": "openai", "models": [ … ] }` -> its models. The key it sits under decides the protocol, as
 * for the array form; anything else is left for the schema to judge.
 */
function unwrapLegacyProviderList(value: unknown): unknown {
  return legacyModelsOf(value) ?? value;
}

/** The models of a `modelProviders.<key>` value in the old `{ protocol, models }` form; undefined otherwise. */
export function legacyModelsOf(list: unknown): unknown[] | undefined {
  const models = isObject(list) ? list['models'] : undefined;
  return Array.isArray(models) ? models : undefined;
}

let settingsSchema: ReturnType<typeof buildSettingsSchema> | undefined;

export type Settings = v.InferOutput<ReturnType<typeof buildSettingsSchema>>;
export type ModelProviderEntry = NonNullable<Settings['modelProviders']>[string][number];
export type ModelGenerationConfig = NonNullable<ModelProviderEntry['generationConfig']>;

export type SettingsValidation =
  | { success: true; settings: Settings }
  | { success: false; problems: string[] };

/**
 * Validates one file's content; problems read `modelProviders.openai[1].id: expected a string (...)`.
 * `liftedFrom`: the flat keys flat-layout.ts moved, so a problem names the key the file has.
 */
export function validateSettings(
  value: unknown,
  liftedFrom: ReadonlyMap<string, string> = new Map(),
): SettingsValidation {
  // valibot's object schemas accept arrays; a settings file must be an object.
  if (Array.isArray(value)) {
    return {
      success: false,
      problems: ['(top level): expected a JSON object at the top level; found an array'],
    };
  }
  settingsSchema ??= buildSettingsSchema();
  const result = v.safeParse(settingsSchema, value);
  if (result.success) return { success: true, settings: result.output };
  const wrapped = legacyProviderKeys(value);
  return {
    success: false,
    problems: result.issues.map((issue) => describeIssue(issue, wrapped, liftedFrom)),
  };
}

/** The `modelProviders` keys written in the old `{ protocol, models }` form, which the schema unwraps. */
export function legacyProviderKeys(value: unknown): ReadonlySet<string> {
  const providers = isObject(value) ? value['modelProviders'] : undefined;
  if (!isObject(providers)) return new Set();
  const keys = Object.keys(providers).filter((key) => legacyModelsOf(providers[key]) !== undefined);
  return new Set(keys);
}

/**
 * The issue's path as the file spells it: inside an old-form list, valibot saw the unwrapped array
 * (`modelProviders.openai[1]`), while the entry sits at `modelProviders.openai.models[1]`.
 */
function pathAsWritten(
  items: readonly { key: unknown }[],
  wrapped: ReadonlySet<string>,
): readonly { key: unknown }[] {
  const [top, provider, index, ...rest] = items;
  if (top?.key !== 'modelProviders' || typeof provider?.key !== 'string' || !wrapped.has(provider.key)) {
    return items;
  }
  if (typeof index?.key !== 'number') return items;
  return [top, provider, { key: 'models' }, index, ...rest];
}

/** `model.name` -> `model` (and `model.generationConfig.timeout` -> `contentGenerator.timeout`) for a lifted flat key. */
function flatKeyPath(path: string, liftedFrom: ReadonlyMap<string, string>): string {
  for (const [nested, flat] of liftedFrom) {
    if (path === nested) return flat;
    if (path.startsWith(nested) && (path[nested.length] === '.' || path[nested.length] === '['))
      return flat + path.slice(nested.length);
  }
  return path;
}

// valibot reports a missing required key with the enclosing object's message; say what the key needs.
const missingKeyMessages: Record<string, string> = {
  id: 'expected a string (every model entry needs an "id")',
};

function describeIssue(
  issue: v.BaseIssue<unknown>,
  wrapped: ReadonlySet<string>,
  liftedFrom: ReadonlyMap<string, string>,
): string {
  const path = flatKeyPath(formatIssuePath(pathAsWritten(issue.path ?? [], wrapped)), liftedFrom);
  const missing = issue.received === 'undefined';
  const missingKey = missing && issue.type.endsWith('object') ? issue.path?.at(-1)?.key : undefined;
  const message =
    typeof missingKey === 'string'
      ? (missingKeyMessages[missingKey] ?? `expected a value for "${missingKey}"`)
      : issue.message;
  return `${path === '' ? '(top level)' : path}: ${message}; ${missing ? 'it is missing' : `found ${receivedValue(issue)}`}`;
}

/** Longest string value quoted back in a message: a mistyped number or name is short, API keys are longer. */
const longestQuotedValue = 20;
/** Where a string is quoted back: a number, true/false or a name from a fixed list was expected. */
const quotingIssueTypes: ReadonlySet<string> = new Set(['number', 'boolean', 'picklist']);

/**
 * What the file held, for the message. A string where an object was expected is often a secret pasted in
 * the wrong place (a key as the `env` object, a header line as `customHeaders`): only its kind is said.
 * A short one where a number, true/false or a listed name was expected (`"30s"`, a misspelt auth type) is
 * quoted; a longer one may be a key.
 */
function receivedValue(issue: v.BaseIssue<unknown>): string {
  const value = issue.input;
  // valibot names a container by its constructor ("Array", "Object"); the message says it in words.
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  if (typeof value !== 'string') return issue.received;
  if (quotingIssueTypes.has(issue.type) && value.length <= longestQuotedValue) return issue.received;
  return value === '' ? 'an empty string' : 'a string';
}

export function formatIssuePath(items: readonly { key: unknown }[]): string {
  let path = '';
  for (const item of items) {
    if (typeof item.key === 'number') path += `[${item.key}]`;
    else {
      const key = String(item.key);
      path += /^[A-Za-z_$][\w$-]*$/.test(key) ? (path === '' ? key : `.${key}`) : `[${JSON.stringify(key)}]`;
    }
  }
  return path;
}
