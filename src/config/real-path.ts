// Paths compared as the file system resolves them: a home directory reached through a symlink
// (HOME=/home/u pointing at /data/u) is still home. One realpath call per path, only where two paths are
// compared; a path that does not exist (or cannot be resolved) stands for itself.
import { realpathSync } from 'node:fs';

export function realPathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
