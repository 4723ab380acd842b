// The environment the rest of the program sees, in the seed's order, highest first:
//   CLI flags > the process environment > the first `.env` file found > `env` in the merged settings.
// Nothing here writes to `process.env`: a lookup says both the value and where it came from, so messages
// and `qwen auth status` can explain why a key is used.
import { statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type ValueSource, whereSet } from '../core/types.ts';
import { isAbsentFile } from './directories.ts';
import { realPathOrSelf } from './real-path.ts';

export interface DotEnvFile {
  path: string;
  /** Found while walking up from the working directory (not a home-directory fallback). */
  isProject: boolean;
}

export interface FindDotEnvInput {
  cwd: string;
  home: string;
  qwenHome: string;
  exists: (path: string) => boolean;
  /** Resolves symlinks, to recognise home reached through one; the real file system by default. */
  realPath?: (path: string) => string;
}

/**
 * The seed's search: from cwd up to `/`, in each directory `.qwen/.env` then `.env`; if none, `$QWEN_HOME/.env`,
 * `~/.qwen/.env`, `~/.env`. Only the first file found is used (Qwen Code 0.24.4 also loads the home files
 * after a project one; the seed and the issue say first file only, and they win).
 */
export function findDotEnvFile(input: FindDotEnvInput): DotEnvFile | undefined {
  const home = resolve(input.home);
  // The working directory is already a real path (process.cwd()); HOME may be a link to it or above it.
  const realHome = (input.realPath ?? realPathOrSelf)(home);
  const qwenHomeFile = join(resolve(input.qwenHome), '.env');
  // Each path is looked at once: $QWEN_HOME/.env is ~/.qwen/.env by default, and the home files met on the
  // way up are the fallback's too (one stat each on every run).
  const looked = new Set<string>();
  const exists = (path: string): boolean => {
    if (looked.has(path)) return false;
    looked.add(path);
    return input.exists(path);
  };
  let directory = resolve(input.cwd);
  for (;;) {
    // A file in the home directory met on the way up is the user's own, not the project's; there, as when
    // the walk finds nothing, $QWEN_HOME/.env comes first, so the order of the user's own files does not
    // depend on where the run starts.
    const isProject = directory !== home && directory !== realHome;
    const candidates = [join(directory, '.qwen', '.env'), join(directory, '.env')];
    for (const candidate of isProject ? candidates : [qwenHomeFile, ...candidates]) {
      if (exists(candidate)) return { path: candidate, isProject };
    }
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  for (const candidate of [qwenHomeFile, join(home, '.qwen', '.env'), join(home, '.env')]) {
    if (exists(candidate)) return { path: candidate, isProject: false };
  }
  return undefined;
}

/**
 * The real-file-system `exists` for findDotEnvFile: a directory named `.env` does not count. One that cannot
 * be looked at, though not absent (isAbsentFile: in the user's own closed ~/.qwen, say), counts as found:
 * the read then fails, and the run says that no .env file is used, instead of skipping it without a word.
 */
export function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch (error) {
    return !isAbsentFile(path, error);
  }
}

export const defaultExcludedProjectVariables: readonly string[] = ['DEBUG', 'DEBUG_MODE'];

/**
 * Whether `advanced.excludedEnvVars` applies to this file. Like Qwen Code, only a plain project `.env` is
 * filtered: it is often shared with other tools (whose DEBUG=1 must not switch ours on), while
 * `.qwen/.env` and the home files are written for Qwen Code on purpose.
 */
export function filtersExcludedVariables(file: DotEnvFile): boolean {
  return file.isProject && basename(dirname(file.path)) !== '.qwen';
}

/**
 * Variables a project's files (its `.env` or `.qwen/.env`, and the `env` of its `.qwen/settings.json`) may
 * never set, whatever the settings say, as in Qwen Code: a cloned repository must not be able to move our
 * config home, turn off TLS checks, or send the Qwen OAuth refresh token to a server of its choosing.
 */
export const projectForbiddenVariables: readonly string[] = [
  'QWEN_HOME',
  'QWEN_CODE_SYSTEM_SETTINGS_PATH',
  'QWEN_CODE_SYSTEM_DEFAULTS_PATH',
  'QWEN_OAUTH_BASE_URL',
  'QWEN_TLS_INSECURE',
  'NODE_TLS_REJECT_UNAUTHORIZED',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

/** The `.env` values the layered environment uses: exclusions and forbidden variables removed. */
export function usableDotEnvValues(
  file: DotEnvFile & { values: Record<string, string> },
  excludedProjectVariables: readonly string[],
): Record<string, string> {
  const dropped = new Set<string>();
  if (file.isProject) for (const name of projectForbiddenVariables) dropped.add(name);
  if (filtersExcludedVariables(file)) for (const name of excludedProjectVariables) dropped.add(name);
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(file.values)) if (!dropped.has(name)) values[name] = value;
  return values;
}

export interface LayeredEnvironment {
  /** The effective value: the highest layer that sets the variable, even to '' (an empty flag sets none). */
  get(name: string): string | undefined;
  source(name: string): ValueSource | undefined;
  /** Every variable with its effective value, for code that takes a plain environment record. */
  toRecord(): Record<string, string>;
}

export interface LayerEnvironmentInput {
  /** Variables set by flags, keyed by variable name: `{ OPENAI_API_KEY: <--openai-api-key> }`. */
  flags: Record<string, string | undefined>;
  processEnv: Record<string, string | undefined>;
  dotEnv?: DotEnvFile & { values: Record<string, string> };
  settingsEnv: { values: Record<string, string>; sources: Record<string, string> };
  excludedProjectVariables: readonly string[];
}

interface Layer {
  values: Record<string, string | undefined>;
  describe: (name: string) => string;
}

const flagNames: Record<string, string> = {
  OPENAI_API_KEY: '--openai-api-key',
  OPENAI_BASE_URL: '--openai-base-url',
};

export function layerEnvironment(input: LayerEnvironmentInput): LayeredEnvironment {
  const layers: Layer[] = [
    {
      values: input.flags,
      describe: (name) => `flag ${flagNames[name] ?? `--${name.toLowerCase().replaceAll('_', '-')}`}`,
    },
    { values: input.processEnv, describe: () => 'environment' },
  ];
  if (input.dotEnv !== undefined) {
    const dotEnv = input.dotEnv;
    layers.push({
      values: usableDotEnvValues(dotEnv, input.excludedProjectVariables),
      describe: () => dotEnv.path,
    });
  }
  layers.push({
    values: input.settingsEnv.values,
    describe: (name) => `settings env (${input.settingsEnv.sources[name] ?? 'settings.json'})`,
  });

  // The seed: a lower layer only fills a variable the layers above do not have. A variable present in the
  // process environment, even empty (`OPENAI_BASE_URL= qwen`), is set, and neither a .env file nor settings
  // env replace it (Qwen Code 0.24.4 fills empty ones; the seed wins). An empty flag is no flag
  // (`--model="$MODEL"` with MODEL unset), as everywhere on the command line.
  const lookup = (name: string): { value: string; layer: Layer } | undefined => {
    for (const layer of layers) {
      if (!Object.hasOwn(layer.values, name)) continue;
      const value = layer.values[name];
      if (value === undefined || (value === '' && layer === layers[0])) continue;
      return { value, layer };
    }
    return undefined;
  };

  return {
    get: (name) => lookup(name)?.value,
    toRecord: () => {
      const record: Record<string, string> = {};
      for (const layer of layers) {
        for (const name of Object.keys(layer.values)) {
          const value = lookup(name)?.value;
          if (value !== undefined) record[name] = value;
        }
      }
      return record;
    },
    source: (name) => {
      const found = lookup(name);
      return found === undefined ? undefined : { description: found.layer.describe(name), name };
    },
  };
}

/**
 * What an empty value hides and how to mend it, by the layer it sits in: one in the environment hides the
 * .env file and settings env, one in a .env file hides settings env, one in settings env hides nothing.
 */
function emptyValueAdvice(source: ValueSource): { hides: string; remedy: string } {
  const { description } = source;
  if (description === 'environment') {
    return {
      hides: ', so no .env file or settings env can set it',
      remedy: 'put the key in it, or unset it',
    };
  }
  if (description.startsWith('settings env')) return { hides: '', remedy: 'fill it in there' };
  return { hides: ', so settings env cannot set it', remedy: 'fill it in, or remove that line' };
}

/** `NAME is set but empty (where), so ... cannot set it`, and how to use a value after all. */
export function emptyVariableNote(name: string, source: ValueSource): { note: string; remedy: string } {
  const advice = emptyValueAdvice(source);
  return { note: `${name} is set but empty (${whereSet(source)})${advice.hides}`, remedy: advice.remedy };
}
