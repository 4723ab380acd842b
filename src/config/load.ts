// Wires the configuration together for the CLI: paths -> the `.env` file -> settings (with `$VAR` expanded
// from the process environment and that file) -> the layered environment. Reads only the files it needs
// and writes nothing, so startup stays cheap.

import { CliError } from '../core/errors.ts';
import { parseDotEnv } from './dotenv.ts';
import {
  type DotEnvFile,
  defaultExcludedProjectVariables,
  findDotEnvFile,
  isRegularFile,
  type LayeredEnvironment,
  layerEnvironment,
  projectForbiddenVariables,
  usableDotEnvValues,
} from './env.ts';
import type { ConfigPaths } from './paths.ts';
import { configPaths } from './paths.ts';
import { realPathOrSelf } from './real-path.ts';
import type { ResolveFlags } from './resolve.ts';
import { type LoadedSettings, loadSettings, readTextFileIfPresent } from './settings.ts';

export interface LoadConfigurationInput {
  argvFlags: ResolveFlags;
  processEnv: Record<string, string | undefined>;
  cwd: string;
  home: string;
  platform: NodeJS.Platform;
  /** Defaults to the real file system; returns undefined for a missing file. */
  readFile?: (path: string) => string | undefined;
  /** Defaults to the real file system; true for an existing regular file. */
  exists?: (path: string) => boolean;
}

export interface LoadedConfiguration {
  paths: ConfigPaths;
  settings: LoadedSettings;
  env: LayeredEnvironment;
  /** The `.env` file that was loaded, if any. */
  dotEnvPath?: string;
  /** Lines for stderr about the configuration as read (locationVariableNotes). */
  notes: string[];
}

/** The variables that say where the configuration files are (config/paths.ts). */
const locationVariables = ['QWEN_HOME', 'QWEN_CODE_SYSTEM_SETTINGS_PATH', 'QWEN_CODE_SYSTEM_DEFAULTS_PATH'];

/**
 * A variable that says where the files are cannot come from one of them: the files are found (from the process
 * environment, as Qwen Code does) before any is read. Set in a home `.env` or a settings `env`, it would be
 * ignored without a word, and the run would look for files that are not there; say so.
 */
function locationVariableNotes(env: LayeredEnvironment): string[] {
  const notes: string[] = [];
  for (const name of locationVariables) {
    const where = env.source(name)?.description;
    if (where === undefined || where === 'environment') continue;
    notes.push(
      `Note: ${name} in ${where} is not used: it says where the configuration files are, so only your shell can set it (export ${name}=...).`,
    );
  }
  return notes;
}

/**
 * What a project's files tried to set that they may not (projectForbiddenVariables): ignored, as in Qwen
 * Code, and said, so that a `QWEN_TLS_INSECURE=1` in a repository's `.env` is not a mystery either way.
 */
function projectSetNotes(
  dotEnv: (DotEnvFile & { values: Record<string, string> }) | undefined,
  settings: LoadedSettings,
): string[] {
  const sources: [path: string, variables: Record<string, string> | undefined][] = [];
  if (dotEnv?.isProject) sources.push([dotEnv.path, dotEnv.values]);
  for (const file of settings.files)
    if (file.scope === 'workspace') sources.push([file.path, file.settings.env]);
  const notes: string[] = [];
  for (const [path, variables] of sources) {
    const named = projectForbiddenVariables.filter((name) => Object.hasOwn(variables ?? {}, name));
    // Where the files are can come from the shell only (locationVariableNotes); the others also from home.
    const locations = named.filter((name) => locationVariables.includes(name));
    const others = named.filter((name) => !locationVariables.includes(name));
    for (const [group, remedy] of [
      [others, 'your shell, ~/.qwen/.env or ~/.env can'],
      [locations, 'only your shell can: they say where the configuration files are'],
    ] as const) {
      if (group.length === 0) continue;
      notes.push(
        `Note: ${group.join(', ')} in ${path} ${group.length === 1 ? 'is' : 'are'} ignored: a project's files cannot set ${group.length === 1 ? 'it' : 'them'} (${remedy}).`,
      );
    }
  }
  return notes;
}

export function loadConfiguration(input: LoadConfigurationInput): LoadedConfiguration {
  const readFile = input.readFile ?? readTextFileIfPresent;
  const exists = input.exists ?? isRegularFile;
  // Both the settings paths and the .env search ask where home really is: one look-up each path.
  const realPaths = new Map<string, string>();
  const realPath = (path: string): string => {
    const known = realPaths.get(path);
    if (known !== undefined) return known;
    const real = realPathOrSelf(path);
    realPaths.set(path, real);
    return real;
  };
  const paths = configPaths({
    env: input.processEnv,
    cwd: input.cwd,
    home: input.home,
    platform: input.platform,
    realPath,
  });

  const found = findDotEnvFile({
    cwd: input.cwd,
    home: input.home,
    qwenHome: paths.qwenHome,
    exists,
    realPath,
  });
  // A .env the user cannot read (a deployment's root-owned secrets above the project) is not ours to need:
  // the run goes on without one, and a note says why its variables are missing.
  let unreadableDotEnv: string | undefined;
  let dotEnvText: string | undefined;
  try {
    dotEnvText = found === undefined ? undefined : readFile(found.path);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    unreadableDotEnv = `Note: ${error.message}; no .env file is used for this run.`;
  }
  const dotEnv =
    found === undefined || dotEnvText === undefined
      ? undefined
      : { ...found, values: parseDotEnv(dotEnvText) };

  // `$VAR` in settings sees what the program will see, minus settings' own `env` (which may not refer to
  // itself), by the layers' rules: the project-file exclusions are the list the settings files set, and
  // a variable in the process environment, even empty, is never filled from the .env file.
  const expansionEnv = (excluded: readonly string[] | undefined) => {
    const values: Record<string, string | undefined> =
      dotEnv === undefined ? {} : usableDotEnvValues(dotEnv, excluded ?? defaultExcludedProjectVariables);
    for (const [name, value] of Object.entries(input.processEnv)) {
      if (value !== undefined) values[name] = value;
    }
    return values;
  };
  const settings = loadSettings(paths, { readFile, env: expansionEnv });

  const env = layerEnvironment({
    flags: { OPENAI_API_KEY: input.argvFlags.openaiApiKey, OPENAI_BASE_URL: input.argvFlags.openaiBaseUrl },
    processEnv: input.processEnv,
    dotEnv,
    settingsEnv: { values: settings.merged.env ?? {}, sources: settings.envSources },
    excludedProjectVariables: settings.merged.advanced?.excludedEnvVars ?? defaultExcludedProjectVariables,
  });
  const notes = [
    ...(unreadableDotEnv === undefined ? [] : [unreadableDotEnv]),
    ...locationVariableNotes(env),
    ...projectSetNotes(dotEnv, settings),
  ];
  return dotEnv === undefined
    ? { paths, settings, env, notes }
    : { paths, settings, env, notes, dotEnvPath: dotEnv.path };
}
