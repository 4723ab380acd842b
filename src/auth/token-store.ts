// The Qwen OAuth credential cache, shared with Qwen Code: `$QWEN_HOME/oauth_creds.json` (directory 0700,
// file 0600, written atomically) and the cross-process lock `oauth_creds.lock` that makes many processes
// (a CI matrix, several terminals) agree on one refresh instead of racing: refresh tokens are single-use
// on many servers, so two concurrent refreshes can log everyone out.
import {
  chmodSync,
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import process from 'node:process';
import {
  assertCanWriteIn,
  ensureDirectory,
  fileErrorReason,
  fileErrorRemedy,
  isAbsentFile,
  isMissingFile,
  writeFailureRemedy,
} from '../config/directories.ts';
import { giveOwner, ownerToKeep } from '../config/file-owner.ts';
import { CliError } from '../core/errors.ts';
import { isObject } from '../core/types.ts';

/** Qwen Code's file format; `expiry_date` is epoch milliseconds. */
export interface QwenCredentials {
  access_token: string;
  refresh_token: string;
  token_type: string;
  resource_url?: string;
  expiry_date: number;
  /** Fields we do not know are kept, so a file Qwen Code wrote survives our rewrite. */
  [field: string]: unknown;
}

export interface CredentialFiles {
  credentials: string;
  lock: string;
}

/** A token this close to its expiry is treated as expired, so it cannot lapse in the middle of a request. */
export const refreshMarginMs = 30_000;
/** A lock older than this belongs to a process that died (a refresh times out after 30 s). */
export const staleLockAfterMs = 35_000;

const privateFileMode = 0o600;
const privateDirectoryMode = 0o700;

/** The cached credentials, or undefined when the file is missing or not in Qwen Code's format. */
export function readCredentials(path: string): QwenCredentials | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (isAbsentFile(path, error)) return undefined;
    // A file-system problem, not a refused login: logging in again would not mend it.
    throw new CliError(
      'config',
      `${path}: cannot read the cached Qwen OAuth credentials (${fileErrorReason(error)})`,
      { hint: fileErrorRemedy(path, error), cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Qwen Code ignores such a file too; a new login overwrites it.
    return undefined;
  }
  return isCredentials(parsed) ? parsed : undefined;
}

/**
 * Whether a Qwen OAuth login is cached, for those who only mention it (status, the /model list): a file this
 * user cannot read (left by `sudo qwen auth qwen-oauth`) is an answer (`unreadable`), not a failure.
 */
export function cachedLogin(path: string): 'yes' | 'no' | 'unreadable' {
  try {
    return readCredentials(path) === undefined ? 'no' : 'yes';
  } catch {
    return 'unreadable';
  }
}

export function isCredentials(value: unknown): value is QwenCredentials {
  if (!isObject(value)) return false;
  return (
    typeof value['access_token'] === 'string' &&
    typeof value['refresh_token'] === 'string' &&
    typeof value['token_type'] === 'string' &&
    typeof value['expiry_date'] === 'number' &&
    (value['resource_url'] === undefined || typeof value['resource_url'] === 'string')
  );
}

/** True while the access token can still be used for a request (not within the refresh margin). */
export function isUsable(credentials: QwenCredentials, now: number = Date.now()): boolean {
  return credentials.access_token !== '' && now < credentials.expiry_date - refreshMarginMs;
}

// A file that cannot be written is the file system's problem (exit 52), not a refused login (41).
const savingCredentials = { kind: 'config', action: 'save the Qwen OAuth credentials' } as const;

/** Throws what would stop writeCredentials, writing nothing: checked before a login the user would lose. */
export function assertCanSaveCredentials(path: string): void {
  assertCanWriteIn(dirname(path), savingCredentials);
}

/** Writes the credentials as 2-space JSON, mode 0600, in a 0700 directory, via temp file + rename. */
export function writeCredentials(path: string, credentials: QwenCredentials): void {
  const directory = dirname(path);
  ensureDirectory(directory, privateDirectoryMode, savingCredentials);
  const temporary = join(
    directory,
    `.${basename(path)}.${process.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`,
  );
  // A refresh rewrites the file even when it is read-only, as Qwen Code does: the old refresh token is
  // spent by then. Its owner is kept, so `sudo qwen ...` does not lock the user out of their login.
  const owner = ownerToKeep(path);
  let created = false;
  try {
    // Created 0600 from the start: the token is never readable by others, not even for a moment.
    const descriptor = openSync(temporary, 'wx', privateFileMode);
    created = true;
    try {
      giveOwner(descriptor, owner);
      writeSync(descriptor, `${JSON.stringify(credentials, null, 2)}\n`);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    chmodSync(temporary, privateFileMode);
    renameSync(temporary, path);
  } catch (error) {
    if (created) removeQuietly(temporary);
    throw new CliError(
      'config',
      `${path}: cannot save the Qwen OAuth credentials (${fileErrorReason(error)})`,
      { hint: writeFailureRemedy(directory, error), cause: error },
    );
  }
}

/** Removes the file; true when there was one. */
export function deleteFile(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if (isMissingFile(error)) return false;
    throw new CliError('config', `${path}: cannot remove the file (${fileErrorReason(error)})`, {
      hint: writeFailureRemedy(dirname(path), error),
      cause: error,
    });
  }
}

export interface LockOptions {
  /** Total time to keep trying before giving up; by then a dead holder's lock has gone stale. */
  timeoutMs?: number;
  initialDelayMs?: number;
  maximumDelayMs?: number;
  staleAfterMs?: number;
  now?: () => number;
  sleep?: (milliseconds: number) => Promise<void>;
  /** Told once, after about 2 s of waiting: another process holds the lock (a silent wait looks like a hang). */
  onWaiting?: () => void;
}

/** How long a wait for the lock goes unmentioned: a refresh by another process usually takes less. */
const quietLockWaitMs = 2_000;

/** Locks we hold, removed if the process exits while holding them (Ctrl+C during a refresh). */
const heldLocks = new Map<string, string>();
let exitHandlerInstalled = false;

/**
 * Runs `action` while holding the lock file: created exclusively (`wx`) with a UUID inside, retried with
 * backoff (100 ms x1.5 up to 2 s, as Qwen Code does), taken over when older than 35 s.
 */
export async function withLock<T>(
  lockPath: string,
  action: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const owner = await acquireLock(lockPath, options);
  try {
    return await action();
  } finally {
    releaseLock(lockPath, owner);
  }
}

async function acquireLock(lockPath: string, options: LockOptions): Promise<string> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? delay;
  const staleAfterMs = options.staleAfterMs ?? staleLockAfterMs;
  const deadline = now() + (options.timeoutMs ?? staleAfterMs + 10_000);
  const maximumDelayMs = options.maximumDelayMs ?? 2_000;
  let waitMs = options.initialDelayMs ?? 100;
  const startedAt = now();
  let saidWaiting = false;
  const owner = crypto.randomUUID();
  ensureDirectory(dirname(lockPath), privateDirectoryMode, {
    kind: 'config',
    action: 'lock the Qwen OAuth credentials for a refresh',
  });

  for (;;) {
    try {
      const descriptor = openSync(lockPath, 'wx', privateFileMode);
      try {
        writeSync(descriptor, owner);
      } finally {
        closeSync(descriptor);
      }
      heldLocks.set(lockPath, owner);
      installExitHandler();
      return owner;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new CliError('config', `${lockPath}: cannot create the lock file (${fileErrorReason(error)})`, {
          hint: writeFailureRemedy(dirname(lockPath), error),
          cause: error,
        });
      }
    }
    if (removeIfStale(lockPath, staleAfterMs, now())) continue;
    if (now() >= deadline) {
      throw new CliError('auth', `Another qwen process has held ${lockPath} for too long.`, {
        hint: 'If no other qwen or Qwen Code process is running, delete that file and try again.',
      });
    }
    if (!saidWaiting && now() - startedAt >= quietLockWaitMs) {
      saidWaiting = true;
      options.onWaiting?.();
    }
    // A little jitter so processes that collided do not collide again in step.
    await sleep(waitMs * (0.75 + Math.random() * 0.5));
    waitMs = Math.min(maximumDelayMs, waitMs * 1.5);
  }
}

/** A holder that died leaves its lock behind; its age (mtime) tells. */
function removeIfStale(lockPath: string, staleAfterMs: number, now: number): boolean {
  try {
    const age = now - statSync(lockPath).mtimeMs;
    if (age <= staleAfterMs) return false;
    unlinkSync(lockPath);
    return true;
  } catch (error) {
    // Released between our attempt and the stat: try again at once.
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function releaseLock(lockPath: string, owner: string): void {
  heldLocks.delete(lockPath);
  try {
    // Only our own lock: after a stale takeover the file may belong to someone else.
    if (readFileSync(lockPath, 'utf8') === owner) unlinkSync(lockPath);
  } catch {
    // Already gone.
  }
}

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const [lockPath, owner] of heldLocks) releaseLock(lockPath, owner);
  });
}

export interface FreshCredentialsOptions {
  files: CredentialFiles;
  /** Exchanges the refresh token; throws CliError when the server refuses. */
  refresh: (current: QwenCredentials) => Promise<QwenCredentials>;
  /**
   * The access token a server just rejected (401): refresh even if the file says it is valid, unless
   * another process already replaced that token.
   */
  rejectedAccessToken?: string;
  now?: () => number;
  lock?: LockOptions;
}

/**
 * Usable credentials, refreshed under the lock when needed. Under the lock the file is read again: when
 * another process refreshed meanwhile, its result is used and no request is made. Undefined when there
 * are no cached credentials at all.
 */
export async function obtainFreshCredentials(
  options: FreshCredentialsOptions,
): Promise<QwenCredentials | undefined> {
  const now = options.now ?? Date.now;
  const needsRefresh = (credentials: QwenCredentials): boolean =>
    !isUsable(credentials, now()) ||
    (options.rejectedAccessToken !== undefined && credentials.access_token === options.rejectedAccessToken);

  const cached = readCredentials(options.files.credentials);
  if (cached === undefined) return undefined;
  if (!needsRefresh(cached)) return cached;

  return withLock(
    options.files.lock,
    async () => {
      const current = readCredentials(options.files.credentials);
      if (current === undefined) return undefined;
      if (!needsRefresh(current)) return current;
      return await keptUntilSaved(
        options.refresh(current).then((refreshed) => {
          writeCredentials(options.files.credentials, refreshed);
          return refreshed;
        }),
      );
    },
    { now, ...options.lock },
  );
}

/** Refreshes whose answer has not been saved yet: see refreshesSaved. */
const refreshesInFlight = new Set<Promise<unknown>>();

function keptUntilSaved<T>(refresh: Promise<T>): Promise<T> {
  const tracked = refresh.finally(() => refreshesInFlight.delete(tracked));
  refreshesInFlight.add(tracked);
  return tracked;
}

/**
 * Waits, at most `limitMs`, for token refreshes already sent to be answered and saved. A run that stops
 * (Ctrl+C, --max-wall-time) while one is in flight would otherwise exit before writing the answer; the
 * server has rotated the refresh token by then, so the file would hold a dead one and the user would have
 * to log in again. A second Ctrl+C still exits at once.
 */
export async function refreshesSaved(limitMs: number, onSlow?: () => void): Promise<void> {
  if (refreshesInFlight.size === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, limitMs);
  });
  // A wait that is noticed deserves a word: why the run has not ended yet.
  const slow = setTimeout(() => onSlow?.(), slowRefreshNoticeMs);
  await Promise.race([Promise.allSettled([...refreshesInFlight]), limit]);
  clearTimeout(timer);
  clearTimeout(slow);
}

const slowRefreshNoticeMs = 500;

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Nothing to clean up.
  }
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
