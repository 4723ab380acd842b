// What a user may see of a secret: keys and tokens as `sk-...a1b2`, the credentials inside a URL as `***`
// (`http://admin:***@host/v1?token=***`). Callers say which secrets are in play, except those this process
// holds for all its requests (a proxy's credentials), which are remembered here once and always masked.

/** Shows a secret as `sk-...a1b2`: enough to tell two keys apart, never enough to use one. */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '*'.repeat(secret.length);
  const dash = secret.indexOf('-');
  const prefix = dash > 0 && dash <= 6 ? secret.slice(0, dash + 1) : secret.slice(0, 3);
  return `${prefix}...${secret.slice(-4)}`;
}

/**
 * A word of a setting that should hold a URL, a host or a header name, but that has a key's shape: long,
 * letters and digits, no `/` or `:`, and no dots unless it is a JWT. Two CI secrets swapped
 * (OPENAI_BASE_URL=sk-proj-...) or a key pasted into the wrong field must not be printed by the message
 * that says the value is wrong; a mistyped URL or host name (`htps//x`, `llm.internal`) still is.
 */
function mayBeKey(word: string): boolean {
  if (word.length < 16 || /[/:]/.test(word) || !/[0-9]/.test(word) || !/[A-Za-z]/.test(word)) return false;
  return !word.includes('.') || (word.startsWith('eyJ') && word.split('.').length === 3);
}

/** A setting's value for a message, with each word that may be a key masked (see mayBeKey). */
export function maskKeyLikeWords(value: string): string {
  return value.replace(/[^\s"'<>@]+/g, (word) => (mayBeKey(word) ? maskSecret(word) : word));
}

/** Shorter values are left alone: masking every `k` or `abc` in a message would garble it. */
const shortestMaskedSecret = 8;

/** Secrets sent with every request but named by none (a proxy's password and its Basic token). */
const processSecrets = new Set<string>();

/**
 * Adds a secret that every redaction masks from now on: a proxy or a server that echoes what it received
 * must not get a proxy's credentials printed, whatever request the message is about. As for any secret, one
 * shorter than 8 characters is not masked (it would garble every message that happens to contain it); the
 * Basic token that carries it is.
 */
export function rememberSecret(secret: string): void {
  if (secret !== '') processSecrets.add(secret);
}

/**
 * `text` with each secret masked wherever it appears, as sent or percent-encoded (servers echo forms and
 * URLs), and with the credentials of every URL in it masked.
 */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  return maskSecretsIn(maskUrlsIn(text), secrets);
}

/** `text` with each secret (and each remembered one) masked, as sent or percent-encoded; URLs left as they are. */
export function maskSecretsIn(text: string, secrets: Iterable<string>): string {
  let redacted = text;
  // Longest first: a secret that contains another must not be half masked by it.
  const known = [...new Set([...secrets, ...processSecrets])].filter(
    (secret) => secret.length >= shortestMaskedSecret,
  );
  for (const secret of known.sort((first, second) => second.length - first.length)) {
    const masked = maskSecret(secret);
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      redacted = redacted.split(form).join(masked);
    }
  }
  return redacted;
}

/** Query parameters that carry credentials: `?key=` (Gemini), `?api_key=`, `?token=`, `?sig=`, ... */
const secretParameterName = /key|token|secret|passw|pwd|auth|sig|credential/i;

export function isSecretParameter(name: string): boolean {
  return secretParameterName.test(name);
}

/**
 * The URL with its password (its whole user part when that has no password, as in `https://TOKEN@host`) and
 * the values of credential-like query parameters shown as `***`. Also for a URL that does not parse, and
 * for one without a scheme (`user:pass@proxy:3128`).
 */
export function maskUrl(url: string): string {
  // A value that is no URL at all may be a key given in the URL's place (maskKeyLikeWords).
  return maskKeyLikeWords(maskSecretParameters(maskUserPart(url)));
}

/** `text` with every `scheme://...` URL in it masked as maskUrl does, and credential-like query values. */
export function maskUrlsIn(text: string): string {
  // Parameters over the whole text: a URL with a space in it is cut short by the URL pattern.
  return maskSecretParameters(text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, maskUserPart));
}

function maskUserPart(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed?.host && parsed.username === '' && parsed.password === '') return url;
  // A URL that parses ends its user part at the last @ before the path. One that does not is cut at its
  // last @: a password holding an unencoded / or # is exactly what makes a URL fail to parse.
  const userPart = parsed?.host
    ? /^([a-z][a-z0-9+.-]*:\/\/)([^/?#\\]*)@/i
    : /^((?:[a-z][a-z0-9+.-]*:)?\/\/)?(\S*)@/i;
  return url.replace(userPart, (_match, scheme: string | undefined, user: string) => {
    const colon = user.indexOf(':');
    return `${scheme ?? ''}${colon < 0 ? '***' : `${user.slice(0, colon)}:***`}@`;
  });
}

// A value ends where a URL inside a sentence or JSON does: at a quote, a bracket, `;` or `,` (in a URL
// proper those come percent-encoded).
function maskSecretParameters(text: string): string {
  return text.replace(
    /([?&#])([^=&#?\s]+)=([^&#\s"'<>()[\];,]+)/g,
    (match, separator: string, name: string) =>
      isSecretParameter(safeDecode(name)) ? `${separator}${name}=***` : match,
  );
}

/** decodeURIComponent that leaves a malformed escape (`%zz`) as it is instead of throwing. */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
