// `envKey` names the environment variable that holds a model's key, and people paste the key itself there
// (`"envKey": "sk-..."`). Such a value is a secret: it is shown masked, with what envKey is for, wherever
// a message would name the variable.
import { maskSecret } from './redact.ts';

/** POSIX: letters, digits and underscores, not starting with a digit. */
export function isVariableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * Keys that pass for variable names: a provider's prefix (Google, Groq, Fireworks, Hugging Face, GitHub,
 * Replicate, Stripe-style `sk_`) and then one long run of letters and digits, where a name has words.
 */
const prefixedKey =
  /^(?:AIza[A-Za-z0-9_]{30,}|(?:gsk|fw|hf|ghp|gho|r8|sk|pk)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9]{20,}_[A-Za-z0-9]{20,})$/;

/**
 * A value that is a key rather than a variable's name: a provider's key shape, or a long run of letters and
 * digits, in any case (hex keys are all lower case), with digits scattered through it: a name has words
 * joined by underscores, and its digits, like a year, come in one run.
 */
export function looksLikeKey(value: string): boolean {
  if (prefixedKey.test(value)) return true;
  return value.length >= 32 && /^[A-Za-z0-9]+$/.test(value) && (value.match(/[0-9]+/g)?.length ?? 0) >= 3;
}

/** Why a key variable that is no variable name (or is a key) finds no key; undefined for a proper name. */
export function keyVariableMistake(name: string, example: string): string | undefined {
  if (isVariableName(name) && !looksLikeKey(name)) return undefined;
  return (
    `envKey "${maskSecret(name)}" is not a variable name: envKey names the environment variable that holds ` +
    `the key (for example ${example}), not the key itself`
  );
}
