// Reading settings: each scope's file is parsed as JSON with comments, `$VAR` references are expanded,
// the result is validated on its own (so an error names the right file), then the scopes are merged.
// Reading never writes: a broken file is reported, never renamed or "repaired" (Qwen Code copies it to
// settings.json.corrupted; the issue forbids that).
import { readFileSync, statSync } from 'node:fs';
import { type ParseError, type ParseErrorCode, parse } from 'jsonc-parser';
import { CliError } from '../core/errors.ts';
import { isObject } from '../core/types.ts';
import { fileErrorReason, fileErrorRemedy, isAbsentFile } from './directories.ts';
import { projectForbiddenVariables } from './env.ts';
import { liftFlatKeys } from './flat-layout.ts';
import type { ConfigPaths } from './paths.ts';
import { legacyModelsOf, legacyProviderKeys, type Settings, validateSettings } from './schema.ts';

/** Lowest to highest, as merged. */
export type SettingsScope = 'system-defaults' | 'user' | 'workspace' | 'system';

export interface SettingsFile {
  scope: SettingsScope;
  path: string;
  settings: Settings;
  exists: boolean;
  /** Qwen Code's old flat keys the file has, by the nested key they are read as (flat-layout.ts). */
  liftedFrom: ReadonlyMap<string, string>;
  /** The `modelProviders` keys whose list the file writes in the old `{ protocol, models }` form. */
  legacyProviderLists: ReadonlySet<string>;
}

export interface LoadedSettings {
  merged: Settings;
  /** Lowest scope first; only files that exist. */
  files: SettingsFile[];
  /** Variable -> path of the highest file whose `env` sets it. */
  envSources: Record<string, string>;
}

export interface LoadSettingsOptions {
  /** Returns the file's text, or undefined when there is no such file. Defaults to the real file system. */
  readFile?: (path: string) => string | undefined;
  /**
   * Values for `$VAR` / `${VAR}` expansion; or a function of the `advanced.excludedEnvVars` the files set
   * (undefined when none does), since which project `.env` variables count depends on that list.
   */
  env: ExpansionEnvironment | ((excludedEnvVars: readonly string[] | undefined) => ExpansionEnvironment);
}

type ExpansionEnvironment = Record<string, string | undefined>;

export function loadSettings(paths: ConfigPaths, options: LoadSettingsOptions): LoadedSettings {
  const readFile = options.readFile ?? readTextFileIfPresent;
  const candidates: Array<{ scope: SettingsScope; path: string | undefined }> = [
    { scope: 'system-defaults', path: paths.systemDefaults },
    { scope: 'user', path: paths.userSettings },
    { scope: 'workspace', path: paths.workspaceSettings },
    { scope: 'system', path: paths.systemSettings },
  ];
  const parsedFiles: Array<{
    scope: SettingsScope;
    path: string;
    value: unknown;
    liftedFrom: ReadonlyMap<string, string>;
  }> = [];
  for (const candidate of candidates) {
    if (candidate.path === undefined) continue;
    const text = readFile(candidate.path);
    if (text === undefined) continue;
    // An empty file is an empty object; `null` is a value of the wrong type, reported as `[]` is.
    const parsed = parseSettingsText(text, candidate.path);
    const { value, liftedFrom } = liftFlatKeys(parsed === undefined ? {} : parsed);
    parsedFiles.push({ scope: candidate.scope, path: candidate.path, value, liftedFrom });
  }
  // Expansion needs the exclusion list before the files are expanded and validated: read it as written.
  // With no file (keys in the environment, as CI runs) there is nothing to expand: not worked out.
  const env: ExpansionEnvironment =
    parsedFiles.length === 0
      ? {}
      : typeof options.env === 'function'
        ? options.env(excludedEnvVarsAsWritten(parsedFiles.map((file) => file.value)))
        : options.env;
  const files: SettingsFile[] = parsedFiles.map((file) => ({
    scope: file.scope,
    path: file.path,
    settings: validateFile(expandEnvironmentReferences(file.value, env), file.path, file.liftedFrom),
    exists: true,
    liftedFrom: file.liftedFrom,
    legacyProviderLists: legacyProviderKeys(file.value),
  }));

  const layers = files.map((file) =>
    file.scope === 'workspace' ? withoutUserOnlySettings(file.settings) : file.settings,
  );
  const envSources: Record<string, string> = {};
  layers.forEach((layer, index) => {
    for (const name of Object.keys(layer.env ?? {})) envSources[name] = (files[index] as SettingsFile).path;
  });
  return { merged: mergeSettings(layers), files, envSources };
}

/**
 * What a project's settings file cannot set, as a cloned repository must not: `outboundCorrelation.
 * allowDynamicHeaderValues` (Qwen Code ignores it there too; requests would carry the session id to wherever
 * the project points them), and in `env` the variables no project `.env` may set either (projectForbiddenVariables).
 */
function withoutUserOnlySettings(settings: Settings): Settings {
  let kept = settings;
  if (settings.outboundCorrelation?.allowDynamicHeaderValues !== undefined) {
    const { allowDynamicHeaderValues: _ignored, ...outboundCorrelation } = settings.outboundCorrelation;
    kept = { ...kept, outboundCorrelation };
  }
  const env = settings.env;
  if (env !== undefined && projectForbiddenVariables.some((name) => Object.hasOwn(env, name))) {
    const allowed = Object.entries(env).filter(([name]) => !projectForbiddenVariables.includes(name));
    kept = { ...kept, env: Object.fromEntries(allowed) };
  }
  return kept;
}

/**
 * `advanced.excludedEnvVars` merged as mergeSettings merges it (a union across files), from the files as
 * parsed; undefined when no file sets it. A value of the wrong type is left for validation to report.
 */
function excludedEnvVarsAsWritten(values: readonly unknown[]): string[] | undefined {
  let union: Set<string> | undefined;
  for (const value of values) {
    const advanced = isObject(value) ? value['advanced'] : undefined;
    const list = isObject(advanced) ? advanced['excludedEnvVars'] : undefined;
    if (!Array.isArray(list)) continue;
    union ??= new Set();
    for (const name of list) if (typeof name === 'string') union.add(name);
  }
  return union === undefined ? undefined : [...union];
}

function validateFile(value: unknown, path: string, liftedFrom: ReadonlyMap<string, string>): Settings {
  const result = validateSettings(value, liftedFrom);
  if (result.success) return result.settings;
  const [first, ...rest] = result.problems;
  const more = rest.length === 0 ? '' : ` (and ${rest.length} more problem${rest.length === 1 ? '' : 's'})`;
  throw new CliError('config', `${path}: ${first ?? 'invalid settings'}${more}`, {
    hint: 'Fix the file and run again; qwen never changes a settings file it cannot use.',
  });
}

/** The real-file-system reader: undefined for a missing file, a config error for one we cannot read. */
export function readTextFileIfPresent(path: string): string | undefined {
  try {
    // A FIFO (or a device) would block the read for good: a synchronous read that no signal can end.
    const status = statSync(path);
    if (!status.isFile() && !status.isDirectory()) {
      throw new CliError(
        'config',
        `${path}: not a regular file (a pipe or a device); settings must be a file.`,
      );
    }
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (isAbsentFile(path, error)) return undefined;
    throw new CliError('config', `${path}: cannot read the file (${fileErrorReason(error)})`, {
      hint: fileErrorRemedy(path, error),
      cause: error,
    });
  }
}

// Keyed by jsonc-parser's ParseErrorCode values (a numeric enum, stable since 2.0): only `parse` is imported
// from the package, so that the compiled binary can load its parser module alone (scripts/build.ts).
const parseErrorWords: Record<ParseErrorCode, string> = {
  1: 'unexpected character', // InvalidSymbol
  2: 'invalid number', // InvalidNumberFormat
  3: 'expected a property name in double quotes', // PropertyNameExpected
  4: 'expected a value', // ValueExpected
  5: 'expected a colon after the property name', // ColonExpected
  6: 'expected a comma between values', // CommaExpected
  7: 'expected a closing brace "}"', // CloseBraceExpected
  8: 'expected a closing bracket "]"', // CloseBracketExpected
  9: 'unexpected text after the end of the JSON value', // EndOfFileExpected
  10: 'invalid comment', // InvalidCommentToken
  11: 'comment is not closed', // UnexpectedEndOfComment
  12: 'string is not closed', // UnexpectedEndOfString
  13: 'number is not complete', // UnexpectedEndOfNumber
  14: 'invalid unicode escape', // InvalidUnicode
  15: 'invalid escape character', // InvalidEscapeCharacter
  16: 'invalid character in a string', // InvalidCharacter
};

/**
 * Parses JSON with comments and trailing commas (a leading BOM is ignored). Returns undefined for an empty
 * file. A syntax error throws a config error `<path>:<line>:<column>: <what>`.
 */
export function parseSettingsText(text: string, path: string): unknown {
  const source = stripBom(text);
  const errors: ParseError[] = [];
  let value: unknown;
  try {
    value = parse(source, errors, {
      allowTrailingComma: true,
      disallowComments: false,
      allowEmptyContent: true,
    });
  } catch (error) {
    // The parser recurses once per level: tens of thousands of nested brackets overflow the stack.
    if (!(error instanceof RangeError)) throw error;
    throw new CliError(
      'config',
      `${path}: nested too deeply to read (objects or arrays inside each other).`,
      {
        hint: 'Fix the file by hand; qwen never rewrites a file it cannot parse.',
      },
    );
  }
  const first = errors[0];
  if (first !== undefined) {
    const { line, column } = lineAndColumn(source, first.offset);
    const words = parseErrorWords[first.error] ?? `syntax error ${first.error}`;
    throw new CliError('config', `${path}:${line}:${column}: ${words}`, {
      hint: 'Fix the JSON by hand (comments and trailing commas are fine); qwen never rewrites a file it cannot parse.',
    });
  }
  return value;
}

export function stripBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** 1-based line and column of a character offset, as editors count them: a line ends at \n, \r\n or a lone \r. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let index = 0; index < end; index += 1) {
    const code = text.charCodeAt(index);
    if (code === 10 || (code === 13 && text.charCodeAt(index + 1) !== 10)) {
      line += 1;
      lineStart = index + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

// Qwen Code's own pattern: `$NAME` or `${NAME}`; a variable that is not set is left as written (so a
// literal `$` in a header value survives), a variable set to "" expands to "".
const referencePattern = /\$(?:(\w+)|\{([^}]+)\})/g;

/** Expands `$VAR` and `${VAR}` in every string value (never in keys). */
export function expandEnvironmentReferences(
  value: unknown,
  env: Record<string, string | undefined>,
): unknown {
  if (typeof value === 'string') {
    return value.replace(referencePattern, (match, bare: string | undefined, braced: string | undefined) => {
      const replacement = env[bare ?? braced ?? ''];
      return typeof replacement === 'string' ? replacement : match;
    });
  }
  if (Array.isArray(value)) return value.map((item) => expandEnvironmentReferences(item, env));
  if (isObject(value)) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (isUnsafeKey(key)) continue;
      result[key] = expandEnvironmentReferences(item, env);
    }
    return result;
  }
  return value;
}

// A higher scope's `modelProviders` replaces the lower one's whole: merging two model lists would
// interleave providers from different files and make "the first entry with this id" unpredictable.
const replacedKeys = new Set(['modelProviders', 'providerProtocol']);
const shallowMergedKeys = new Set(['env', 'mcpServers']);
// Qwen Code unions this list across scopes, so a project cannot re-enable a variable the user excluded.
const unionedPaths = new Set(['advanced.excludedEnvVars']);

/** Merges settings lowest first; the last one wins. */
export function mergeSettings(layers: readonly Settings[]): Settings {
  let merged: Record<string, unknown> = {};
  for (const layer of layers) merged = mergeObjects(merged, layer, '');
  // Every layer was validated and merging keeps each key's type, so the result is Settings too.
  return merged as Settings;
}

function mergeObjects(
  lower: Record<string, unknown>,
  higher: Record<string, unknown>,
  path: string,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...lower };
  for (const [key, value] of Object.entries(higher)) {
    if (isUnsafeKey(key) || value === undefined) continue;
    const keyPath = path === '' ? key : `${path}.${key}`;
    const existing = result[key];
    if (path === '' && replacedKeys.has(key)) {
      result[key] = structuredClone(value);
    } else if (path === '' && shallowMergedKeys.has(key) && isObject(existing) && isObject(value)) {
      result[key] = { ...existing, ...structuredClone(value) };
    } else if (unionedPaths.has(keyPath) && Array.isArray(existing) && Array.isArray(value)) {
      result[key] = [...new Set([...existing, ...value])];
    } else if (isObject(existing) && isObject(value)) {
      result[key] = mergeObjects(existing, value, keyPath);
    } else {
      result[key] = structuredClone(value);
    }
  }
  return result;
}

/** `__proto__` from a JSON file must never reach an object's prototype. */
function isUnsafeKey(key: string): boolean {
  return key === '__proto__';
}

/** The entries of one `modelProviders.<protocol>` list as written, and the JSON path of that list. */
export interface ProviderListAsWritten {
  entries: unknown[];
  /** `['modelProviders', protocol]`, or `[..., 'models']` in Qwen Code's old `{ protocol, models }` form. */
  path: (string | number)[];
}

/**
 * The entries of `modelProviders.<protocol>` exactly as written in one file (unknown fields kept), for
 * writers that edit that array in place (the old wrapper form stays a wrapper). A missing file has none;
 * a broken file throws (exit 52).
 */
export function readProviderEntriesAsWritten(path: string, protocol: string): ProviderListAsWritten {
  const listPath = ['modelProviders', protocol];
  const parsed = readSettingsAsWritten(path);
  const providers = isObject(parsed) ? parsed['modelProviders'] : undefined;
  const list = isObject(providers) ? providers[protocol] : undefined;
  if (Array.isArray(list)) return { entries: list, path: listPath };
  const legacyModels = legacyModelsOf(list);
  if (legacyModels !== undefined) return { entries: legacyModels, path: [...listPath, 'models'] };
  return { entries: [], path: listPath };
}

/**
 * `env.<variable>` exactly as written in one file (a `$VAR` in it not expanded), when it is a string. A
 * missing file has none; a broken file throws (exit 52).
 */
export function readEnvValueAsWritten(path: string, variable: string): string | undefined {
  const parsed = readSettingsAsWritten(path);
  const env = isObject(parsed) ? parsed['env'] : undefined;
  const value = isObject(env) && Object.hasOwn(env, variable) ? env[variable] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** One file parsed, neither expanded nor validated; undefined for a missing or empty file. */
function readSettingsAsWritten(path: string): unknown {
  const text = readTextFileIfPresent(path);
  return text === undefined ? undefined : parseSettingsText(stripBom(text), path);
}
