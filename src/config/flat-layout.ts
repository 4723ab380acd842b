// Qwen Code's first settings layout kept some keys at the top level (`"model": "qwen3-coder-plus"`,
// `"selectedAuthType": "openai"`). Qwen Code moves them to their nested homes when it reads such a file (and
// writes it back, with `"$version"`); qwen-lite never rewrites a file to read it, so it reads them where they
// are, in memory. Only the keys whose nested home qwen-lite reads are lifted; the others stay unknown keys.
import { isObject } from '../core/types.ts';

/** Flat key -> where Qwen Code's migration puts it. */
const nestedHomes: Readonly<Record<string, readonly string[]>> = {
  model: ['model', 'name'],
  contentGenerator: ['model', 'generationConfig'],
  selectedAuthType: ['security', 'auth', 'selectedType'],
  enforcedAuthType: ['security', 'auth', 'enforcedType'],
  useExternalAuth: ['security', 'auth', 'useExternal'],
  excludedProjectEnvVars: ['advanced', 'excludedEnvVars'],
};

/** Qwen Code stops looking for flat keys once a file says it is of this layout version or later. */
const nestedLayoutVersion = 3;

export interface LiftedSettings {
  value: unknown;
  /** Nested path as formatIssuePath spells it (`security.auth.selectedType`) -> the flat key it came from. */
  liftedFrom: ReadonlyMap<string, string>;
}

/** The flat keys of a file, each with its nested home; none for a file of the nested layout. */
function flatKeysOf(value: Record<string, unknown>): Array<[string, readonly string[]]> {
  const version = value['$version'];
  if (typeof version === 'number' && version >= nestedLayoutVersion) return [];
  return Object.entries(nestedHomes).filter(
    // `model` is both a flat key and the nested container: an object there is the nested layout.
    ([key]) => Object.hasOwn(value, key) && !(key === 'model' && isObject(value[key])),
  );
}

/**
 * The file's content with its flat keys moved to their nested homes. A value already set at the nested home
 * wins over the flat key: a file that has both was edited since (qwen-lite's writer moves a flat key when it
 * writes beside it), and the nested value is the newer one.
 */
export function liftFlatKeys(value: unknown): LiftedSettings {
  const liftedFrom = new Map<string, string>();
  if (!isObject(value)) return { value, liftedFrom };
  const flatKeys = flatKeysOf(value);
  if (flatKeys.length === 0) return { value, liftedFrom };
  const lifted: Record<string, unknown> = { ...value };
  for (const [key] of flatKeys) delete lifted[key];
  for (const [key, home] of flatKeys) {
    if (placeValue(lifted, home, value[key])) liftedFrom.set(home.join('.'), key);
  }
  return { value: lifted, liftedFrom };
}

/** Sets `path` in `target` (copying the objects on the way) unless it is set, or a key on the way is no object. */
function placeValue(target: Record<string, unknown>, path: readonly string[], value: unknown): boolean {
  let container = target;
  for (const key of path.slice(0, -1)) {
    const next = container[key] ?? {};
    if (!isObject(next)) return false;
    const copy = { ...next };
    container[key] = copy;
    container = copy;
  }
  const last = path[path.length - 1] as string;
  if (Object.hasOwn(container, last)) return false;
  container[last] = value;
  return true;
}

export interface FlatKeyMove {
  path: string[];
  value: unknown;
}

/**
 * Before a writer edits `editedPaths` in a file: the edits that move the flat keys living under the same
 * top-level keys to their nested homes (remove the flat key, then set its home unless it is set). Without
 * them, `"model": "x"` blocks writing `model.name`, and a flat `selectedAuthType` left beside a newly
 * written `security.auth.selectedType` would win again when Qwen Code migrates the file.
 */
export function flatKeyMoves(parsed: unknown, editedPaths: ReadonlyArray<readonly unknown[]>): FlatKeyMove[] {
  if (!isObject(parsed)) return [];
  const editedTops = new Set(editedPaths.map((path) => path[0]));
  const { liftedFrom } = liftFlatKeys(parsed);
  const moves: FlatKeyMove[] = [];
  for (const [key, home] of flatKeysOf(parsed)) {
    if (!editedTops.has(home[0])) continue;
    if (liftedFrom.has(home.join('.'))) {
      moves.push({ path: [key], value: undefined }, { path: [...home], value: parsed[key] });
    } else if (valueAt(parsed, home) !== undefined) {
      // The nested value already wins: the flat key is only a stale copy.
      moves.push({ path: [key], value: undefined });
    }
    // Otherwise a key on the way is no object: the edit fails on it and says so; nothing is moved.
  }
  return moves;
}

function valueAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return current;
}
