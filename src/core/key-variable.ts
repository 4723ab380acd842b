// `envKey` names the environment variable that holds a model's key, and people paste the key itself there
// (`"envKey": "sk-..."`). Such a value is a secret: it is shown masked, with what envKey is for, wherever
// a message would name the variable.
import { maskSecret } from './redact.ts';

/** POSIX: letters, digits and underscores, not starting with a digit. */
export function isVariableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/** How providers' keys start when they can pass for a variable name (Google, Groq, Fireworks, Hugging Face, ...). */
const keyPrefixes = /^(?:AIza|gsk_|fw_|hf_|ghp_|gho_|github_pat_|r8_|xai_|nvapi_|pplx_|sk_|pk_)/;

/**
 * A value that is a key rather than a variable's name: one of the providers' key prefixes followed by a long
 * tail, or a long run of letters and digits in both cases with several digits (variable names are words).
 */
export function looksLikeKey(value: string): boolean {
  if (keyPrefixes.test(value) && value.length >= 20) return true;
  return (
    value.length >= 32 &&
    /^[A-Za-z0-9]+$/.test(value) &&
    /[a-z]/.test(value) &&
    /[A-Z]/.test(value) &&
    (value.match(/[0-9]/g)?.length ?? 0) >= 4
  );
}

/** Why a key variable that is no variable name (or is a key) finds no key; undefined for a proper name. */
export function keyVariableMistake(name: string, example: string): string | undefined {
  if (isVariableName(name) && !looksLikeKey(name)) return undefined;
  return (
    `envKey "${maskSecret(name)}" is not a variable name: envKey names the environment variable that holds ` +
    `the key (for example ${example}), not the key itself`
  );
}
