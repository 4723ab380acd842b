// A settings `env` value as written may be the key itself or a `$VAR` / `${VAR}` reference to where the user
// keeps it. A setup that saves a key over it names what it replaced: the reference as written (it is no
// secret, and the user needs to know it is gone), a key masked.
import { maskSecret } from '../core/redact.ts';

/** `$VAR` or `${VAR}` in a settings `env` value: where the user keeps the key, not the key. */
export function isEnvReference(value: string): boolean {
  return value.includes('$');
}

/** The value as it may be shown: a reference as written, a key masked. */
export function shownStoredValue(value: string): string {
  return isEnvReference(value) ? value : maskSecret(value);
}
