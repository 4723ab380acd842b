// What an HTTP header can carry. fetch refuses a request whose header holds a line break or a character
// above U+00FF (a curly quote pasted with a key, a multi-line value from a .env file) before anything is
// sent, with a TypeError that reads like a network failure; other control characters reach a server that
// refuses them. Checked where the value comes from instead, so
// the message can say which key or header is wrong and where it was set, without showing the value.

/** A token (RFC 9110): what a header name is made of. */
const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isHeaderName(name: string): boolean {
  return headerName.test(name);
}

/**
 * The first character fetch would refuse in a header value, described for a message (`"”" (U+201D) at
 * position 24`), or undefined when the value can be sent. Only that character is shown: the value may be
 * a secret.
 */
export function unsendableCharacterIn(value: string): string | undefined {
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    // RFC 9110: visible characters, spaces and tabs. fetch itself lets other control characters through
    // (an escape sequence left by a bracketed paste), and the server then refuses the request.
    if ((code < 0x20 && code !== 0x09) || code === 0x7f || code > 0xff) {
      return `${describeCharacter(value.codePointAt(index) as number)} at position ${index + 1}`;
    }
  }
  return undefined;
}

/**
 * Why a key being set up cannot be the key, or undefined: a character a header cannot carry, or a space or
 * tab inside it (no provider's key has one; it is a paste that took a word or two more than the key).
 */
export function keyPasteProblem(key: string): string | undefined {
  const unsendable = unsendableCharacterIn(key);
  if (unsendable !== undefined) return unsendable;
  const blank = key.search(/[ \t]/);
  return blank < 0 ? undefined : `${describeCharacter(key.charCodeAt(blank))} at position ${blank + 1}`;
}

function describeCharacter(codePoint: number): string {
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  if (codePoint === 0x0a || codePoint === 0x0d) return `a line break (${hex})`;
  if (codePoint === 0x20) return `a space (${hex})`;
  if (codePoint === 0x09) return `a tab (${hex})`;
  // Never printed as itself: an escape character would act on the terminal.
  if (codePoint < 0x20 || codePoint === 0x7f) return `a control character (${hex})`;
  return `"${String.fromCodePoint(codePoint)}" (${hex})`;
}
