// Where a settings file is written when its path is a symlink (dotfile managers link settings.json): the
// link's target, so the link survives. A link whose target is missing is followed too, and the target is
// created, as `echo > link` does in a shell; only when the target's directory is missing as well is there
// nowhere to write: that is refused rather than replacing the link with a regular file.
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from '../core/errors.ts';
import { isMissingFile } from './directories.ts';
import { realPathOrSelf } from './real-path.ts';

/** As many links in a row as Linux follows before ELOOP. */
const maximumLinks = 40;

/** The file to write for `path`: itself, or the file its symlink (chain) ends at, existing or not. */
export function writeTarget(path: string): string {
  let current = path;
  for (let links = 0; links <= maximumLinks; links += 1) {
    if (!isSymlink(current)) return links === 0 ? realPathOrSelf(path) : inRealDirectory(path, current);
    current = resolve(dirname(current), readlinkSync(current));
  }
  throw new CliError('config', `${path}: too many levels of symbolic links; the file was not changed`);
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    // Missing (or unreachable): not a link; reading or writing it reports the rest.
    return false;
  }
}

/** The link's final target with its directory's real path; its directory must exist. */
function inRealDirectory(link: string, target: string): string {
  try {
    return join(realpathSync(dirname(target)), basename(target));
  } catch (error) {
    if (!isMissingFile(error)) return target;
    throw new CliError(
      'config',
      `${link}: the symlink points to ${target}, whose directory does not exist; nothing was written`,
      { hint: `Create ${dirname(target)}, or remove the link, then try again.`, cause: error },
    );
  }
}
