// The directories qwen writes its files into ($QWEN_HOME, a project's .qwen), created when missing. What
// stops that is most often the user's to mend (a file where the directory should be, a directory they may
// not write to), so it ends as one line naming the path and the fix, not as Node's EEXIST or ENOTDIR.
import { accessSync, constants, lstatSync, mkdirSync, type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import process from 'node:process';
import { CliError, type ErrorKind } from '../core/errors.ts';
import { giveCreatedDirectoriesTheirParentsOwner } from './file-owner.ts';

export interface DirectoryPurpose {
  /** The kind of the error when it cannot be created: the writer's own. */
  kind: ErrorKind;
  /** What could not be done, for `Cannot <action>: ...` ("save the settings"). */
  action: string;
}

/** Creates the directory and those above it as needed; throws a CliError naming what is in the way. */
export function ensureDirectory(
  directory: string,
  mode: number | undefined,
  purpose: DirectoryPurpose,
): void {
  try {
    const firstCreated = mkdirSync(directory, { recursive: true, mode });
    if (firstCreated !== undefined) giveCreatedDirectoriesTheirParentsOwner(firstCreated, directory);
  } catch (error) {
    const file = fileInTheWay(directory);
    if (file !== undefined) throw fileInTheWayError(file, purpose, error);
    // The directory to open up is the last one that exists, not the one to create.
    const parent = nearestExisting(directory)?.path ?? directory;
    throw new CliError(
      purpose.kind,
      `Cannot ${purpose.action}: cannot create ${directory} (${fileErrorReason(error)}).`,
      { hint: writeFailureRemedy(parent, error), cause: error },
    );
  }
}

/**
 * What ensureDirectory and a new file in the directory would meet, found without creating anything: for a
 * check before work the user would lose (a login approved in the browser) when its result cannot be saved.
 */
export function assertCanWriteIn(directory: string, purpose: DirectoryPurpose): void {
  const file = fileInTheWay(directory);
  if (file !== undefined) throw fileInTheWayError(file, purpose);
  const existing = nearestExisting(directory)?.path;
  if (existing === undefined) return;
  try {
    // Creating an entry needs both: write to add it, search to reach it.
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new CliError(
      purpose.kind,
      `Cannot ${purpose.action}: cannot write in ${existing} (${fileErrorReason(error)}).`,
      { hint: writeAccessRemedy(existing), cause: error },
    );
  }
}

/** What to do when a file in `directory` cannot be made, replaced or removed, when the error says. */
export function writeFailureRemedy(directory: string, error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return writeAccessRemedy(directory);
  if (code === 'ENOSPC') return 'Free some disk space, then try again.';
  return undefined;
}

/** The remedy for a directory this user may not write in. */
function writeAccessRemedy(directory: string): string {
  return `Let your user write there (chmod u+rwx ${directory}, or chown it to yourself), then try again.`;
}

function fileInTheWayError(file: string, purpose: DirectoryPurpose, cause?: unknown): CliError {
  return new CliError(purpose.kind, `Cannot ${purpose.action}: ${file} is a file, not a directory.`, {
    hint: 'Move or rename it, then try again.',
    cause,
  });
}

/** No such file: none there, or a file where a directory on its path should be (it has no files either). */
export function isMissingFile(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** No such file for a reader: missing (isMissingFile), or out of reach in someone else's directory. */
export function isAbsentFile(path: string, error: unknown): boolean {
  return isMissingFile(error) || isUnreachableFile(path, error);
}

/**
 * A file that cannot even be looked up here, where that is not the user's to mend: a directory on its way
 * closed by someone else (a job run as another user with HOME=/root), or a path too long to name one. As
 * Qwen Code's existsSync, it is taken as absent. A directory of the user's own (their ~/.qwen at mode 000,
 * or one in a directory of theirs) hides their settings: not absent, the reader reports it. So is a file
 * that is there but cannot be read (lstat finds it).
 */
function isUnreachableFile(path: string, error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENAMETOOLONG') return true;
  if (code !== 'EACCES' && code !== 'EPERM') return false;
  if (isPresent(path)) return false;
  const closed = closedDirectoryAbove(path);
  return closed === undefined || !(isOwnDirectory(closed) || isOwnDirectory(dirname(closed)));
}

/** The directory that stops a look-up of `path`: the deepest one above it that can be looked at itself. */
function closedDirectoryAbove(path: string): string | undefined {
  return nearestExisting(dirname(resolve(path)))?.path;
}

/** `path` or the nearest path above it that can be looked at (stat follows links), and what it is. */
function nearestExisting(path: string): { path: string; stats: Stats } | undefined {
  for (let candidate = resolve(path); ; candidate = dirname(candidate)) {
    try {
      return { path: candidate, stats: statSync(candidate) };
    } catch {
      if (dirname(candidate) === candidate) return undefined;
    }
  }
}

function isOwnDirectory(directory: string): boolean {
  const user = process.getuid?.();
  if (user === undefined) return false;
  try {
    return statSync(directory).uid === user;
  } catch {
    return false;
  }
}

/** Why a file operation failed, in words where the code is one a user can act on. */
export function fileErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOENT':
      return 'no such file';
    case 'ENOTDIR':
      return 'it is not a directory';
    case 'ELOOP':
      return 'a symbolic link on its path leads in a loop';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return String(code ?? error);
  }
}

/** What to do about a file that cannot be read, when the error says: the sentence after fileErrorReason's. */
export function fileErrorRemedy(path: string, error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return `Move or rename that directory (${path} must be a file), then try again.`;
  if (code === 'ELOOP') {
    return `Point the link at a real file, or remove it (ls -l ${path} shows where it leads), then try again.`;
  }
  if (code !== 'EACCES' && code !== 'EPERM') return undefined;
  const closed = isPresent(path) ? undefined : closedDirectoryAbove(path);
  return closed === undefined
    ? `Let your user read it (chmod u+r ${path}, or chown it to yourself), then try again.`
    : `Let your user into ${closed} (chmod u+rwx ${closed}, or chown it to yourself), then try again.`;
}

function isPresent(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The nearest existing path at or above `directory` when it is not a directory (a file, a socket). */
function fileInTheWay(directory: string): string | undefined {
  const existing = nearestExisting(directory);
  return existing === undefined || existing.stats.isDirectory() ? undefined : existing.path;
}
