// Reading a configuration file (settings, .env, history) that may not be there. A module of its own so that
// a run can look for its settings files without loading the parser and schema that read them.
import { readFileSync } from 'node:fs';
import { CliError } from '../core/errors.ts';

/** The real-file-system reader: undefined for a missing file, a config error for one we cannot read. */
export function readTextFileIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    const reason =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : String(code ?? error);
    throw new CliError('config', `${path}: cannot read the file (${reason})`, { cause: error });
  }
}
