// A file replaced by temp file + rename is a new file, owned by whoever runs qwen. `sudo qwen auth ...`
// (sudo keeps HOME) would then leave the user a root-owned 0600 settings.json or oauth_creds.json they can
// no longer read. So the new file takes the owner and group of the file it replaces, and a file created
// by root in someone else's directory (their ~/.qwen) takes that directory's owner.
import { chownSync, fchownSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import process from 'node:process';

export interface FileOwner {
  uid: number;
  gid: number;
}

/** The owner a file written at `path` should have, or undefined when the default (ours) is right. */
export function ownerToKeep(path: string): FileOwner | undefined {
  const existing = ownerOf(path);
  if (existing !== undefined) return existing;
  // A user's new file is theirs, as any file they create; only root creates files for someone else.
  return isRoot() ? ownerOf(dirname(path)) : undefined;
}

/** Gives the open file that owner. Root may always; a user may keep a group of theirs, else it stays ours. */
export function giveOwner(descriptor: number, owner: FileOwner | undefined): void {
  if (owner === undefined || process.getuid === undefined) return;
  if (owner.uid === process.getuid() && owner.gid === process.getgid?.()) return;
  try {
    fchownSync(descriptor, owner.uid, owner.gid);
  } catch (error) {
    if (isRoot()) throw error;
  }
}

/**
 * Root creating `first` .. `last` (mkdir -p) in someone else's directory ($HOME/.qwen under sudo) gives
 * them to that directory's owner, who could not otherwise open the files written inside.
 */
export function giveCreatedDirectoriesTheirParentsOwner(first: string, last: string): void {
  if (!isRoot()) return;
  const owner = ownerOf(dirname(resolve(first)));
  if (owner === undefined || owner.uid === 0) return;
  const top = resolve(first);
  for (let directory = resolve(last); ; directory = dirname(directory)) {
    chownSync(directory, owner.uid, owner.gid);
    if (directory === top || dirname(directory) === directory) return;
  }
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function ownerOf(path: string): FileOwner | undefined {
  try {
    const { uid, gid } = statSync(path);
    return { uid, gid };
  } catch {
    return undefined;
  }
}
