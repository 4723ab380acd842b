// `envKey` names the environment variable that holds a model's key, and people paste the key itself there
// (`"envKey": "sk-..."`). Such a value is a secret: it is shown masked, with what envKey is for, wherever
// a message would name the variable.
import { maskSecret } from './redact.ts';

/** POSIX: letters, digits and underscores, not starting with a digit. */
export function isVariableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/** Why a key variable that is no variable name finds no key; undefined for a proper name. */
export function keyVariableMistake(name: string, example: string): string | undefined {
  if (isVariableName(name)) return undefined;
  return (
    `envKey "${maskSecret(name)}" is not a variable name: envKey names the environment variable that holds ` +
    `the key (for example ${example}), not the key itself`
  );
}
