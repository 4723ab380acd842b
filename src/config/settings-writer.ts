// The one way settings files are written (auth setup, the /model picker, ...). Edits change only the bytes
// they concern (json-edit.ts), so the user's comments, key order and formatting survive; the file is replaced
// atomically (temp file in the same directory + rename), so a crash never leaves half a file; a file that
// does not parse is never touched.
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  fsyncSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from '../core/errors.ts';
import { isObject, nonEmpty } from '../core/types.ts';
import { assertCanWriteIn, ensureDirectory, fileErrorReason, writeFailureRemedy } from './directories.ts';
import { giveOwner, isRoot, ownerToKeep } from './file-owner.ts';
import { flatKeyMoves } from './flat-layout.ts';
import { setJsonValue } from './json-edit.ts';
import { writeTarget } from './link-target.ts';
import { configPaths, homeFromEnvironment } from './paths.ts';
import { formatIssuePath } from './schema.ts';
import { parseSettingsText, readTextFileIfPresent } from './settings.ts';

export interface SettingsEdit {
  path: (string | number)[];
  /** `undefined` removes the key. */
  value: unknown;
  /** With an array index last in `path`: insert there instead of replacing that element. */
  insert?: boolean;
}

export interface UpdateSettingsOptions {
  /** The file will hold a secret: written with mode 0600. */
  holdsSecret?: boolean;
}

const privateFileMode = 0o600;
const privateDirectoryMode = 0o700;

export function updateSettingsFile(
  path: string,
  edits: SettingsEdit[],
  options: UpdateSettingsOptions = {},
): void {
  writeSettingsFile(prepareSettingsFile(path, edits, options));
}

/** A settings file's new text, computed but not written yet. */
export interface PreparedSettingsFile {
  /** The file written: the symlink's target. */
  target: string;
  text: string;
  mode: number | undefined;
}

/**
 * Reads the file and applies the edits in memory. Throws a config error (the file unparseable, a key on
 * the way not an object) before anything is written, so several files can be prepared, then all written.
 */
export function prepareSettingsFile(
  path: string,
  edits: SettingsEdit[],
  options: UpdateSettingsOptions = {},
): PreparedSettingsFile {
  // Write through a symlink (dotfile managers link settings.json) instead of replacing the link.
  const target = writeTarget(path);
  const existingText = readTextFileIfPresent(target);
  const existingMode = existingText === undefined ? undefined : statSync(target).mode & 0o777;
  if (existingMode !== undefined) refuseProtectedFile(target, existingMode);

  const hasBom = existingText?.startsWith('\uFEFF') ?? false;
  const original = existingText === undefined ? '' : hasBom ? existingText.slice(1) : existingText;
  // Throws a config error naming line and column; nothing is written then.
  const parsed = parseSettingsText(original, target);
  if (parsed !== undefined && !isObject(parsed)) {
    throw new CliError(
      'config',
      `${target}: expected a JSON object at the top level; the file was not changed`,
    );
  }

  // A file of Qwen Code's flat layout gets the keys beside the edited ones moved to where the edits go.
  const moves = flatKeyMoves(
    parsed,
    edits.map((edit) => edit.path),
  );
  const updated = applySettingsEdits(original.trim() === '' ? '{}' : original, [...moves, ...edits], target);
  const text = `${hasBom ? '\uFEFF' : ''}${existingText === undefined && !updated.endsWith('\n') ? `${updated}\n` : updated}`;
  const mode =
    options.holdsSecret === true || existingMode === privateFileMode ? privateFileMode : existingMode;
  return { target, text, mode };
}

/**
 * The rename would replace a file its owner made read-only, or one this user may not write, and succeed
 * (it needs only the directory): Qwen Code, which writes in place, fails there. A file without its owner's
 * write bit means "do not change" even to root, who could write anything.
 */
function refuseProtectedFile(target: string, mode: number): void {
  if ((mode & 0o200) === 0) {
    throw new CliError('config', `${target}: the file is read-only; it was not changed`, {
      hint: `To let qwen change it, make it writable (chmod u+w ${target}) and run the command again.`,
    });
  }
  if (isRoot()) return;
  try {
    accessSync(target, constants.W_OK);
  } catch (error) {
    throw new CliError(
      'config',
      `${target}: cannot write the file (${fileErrorReason(error)}); it was not changed`,
      {
        hint: `To let qwen change it, make it writable for your user (chmod u+w ${target}, or chown it to yourself) and run the command again.`,
        cause: error,
      },
    );
  }
}

const savingSettings = { kind: 'config', action: 'save the settings' } as const;

/**
 * Throws what would stop updateSettingsFile (prepareSettingsFile's refusals, a directory closed to writes),
 * writing nothing: checked before work the user would lose (a browser login), and prepared again after it.
 */
export function assertCanUpdateSettingsFile(
  path: string,
  edits: SettingsEdit[],
  options: UpdateSettingsOptions = {},
): void {
  const { target } = prepareSettingsFile(path, edits, options);
  assertCanWriteIn(dirname(target), savingSettings);
}

export function writeSettingsFile(prepared: PreparedSettingsFile): void {
  const directory = dirname(prepared.target);
  ensureDirectory(directory, directoryMode(directory), savingSettings);
  writeFileAtomically(prepared.target, prepared.text, prepared.mode);
}

/** Applies edits to JSON-with-comments text, keeping everything else as written. */
export function applySettingsEdits(
  text: string,
  edits: readonly SettingsEdit[],
  fileForMessages: string,
): string {
  let result = text;
  for (const edit of edits) {
    try {
      result = setJsonValue(result, edit.path, edit.value, edit.insert === true);
    } catch (error) {
      const where = formatIssuePath(edit.path.map((key) => ({ key })));
      // A key on the way that is not an object (for example `"model": "x"`).
      throw new CliError('config', `${fileForMessages}: cannot set ${where}: ${(error as Error).message}`, {
        hint: 'Fix that key by hand; the file was not changed.',
        cause: error,
      });
    }
  }
  return result;
}

function directoryMode(directory: string): number | undefined {
  // `.qwen` (QWEN_HOME or a project's) holds credentials and settings with keys: keep it private.
  return basename(directory) === '.qwen' || isQwenHome(directory) ? privateDirectoryMode : undefined;
}

/** QWEN_HOME as every other path takes it (`~/x` and relative values too), not as written. */
function isQwenHome(directory: string): boolean {
  if (nonEmpty(process.env['QWEN_HOME']) === undefined) return false;
  const { qwenHome } = configPaths({
    env: process.env,
    cwd: process.cwd(),
    home: homeFromEnvironment() ?? homedir(),
    platform: process.platform,
  });
  return resolve(qwenHome) === resolve(directory);
}

/** Writes a sibling temp file, flushes it, then renames it over `path`; the temp file never stays behind. */
export function writeFileAtomically(path: string, text: string, mode: number | undefined): void {
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`,
  );
  const owner = ownerToKeep(path);
  let created = false;
  try {
    // Created 0600 when private, so the secret is never readable by others, not even for a moment.
    const descriptor = openSync(temporary, 'wx', mode ?? 0o644);
    created = true;
    try {
      giveOwner(descriptor, owner);
      writeSync(descriptor, text);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    // openSync's mode is reduced by the umask; an existing file's mode must come back exactly.
    if (mode !== undefined) chmodSync(temporary, mode);
    renameSync(temporary, path);
  } catch (error) {
    if (created) {
      try {
        unlinkSync(temporary);
      } catch {
        // Already renamed: nothing to clean up.
      }
    }
    throw new CliError('config', `${path}: cannot write the file (${fileErrorReason(error)})`, {
      hint: writeFailureRemedy(dirname(path), error),
      cause: error,
    });
  }
}
