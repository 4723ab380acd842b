// generationConfig.customHeaders as they can be sent: a name or value fetch would refuse stops the run
// (exit 52) before any request, naming the file and the JSON path, rather than failing as if the network
// had; a `${session_id}` value not allowed is dropped with a warning, as in Qwen Code.
import { CliError } from '../core/errors.ts';
import { isHeaderName, unsendableCharacterIn } from '../core/header-text.ts';
import { maskKeyLikeWords } from '../core/redact.ts';
import { sessionIdPlaceholder } from '../core/types.ts';

export interface CustomHeadersContext {
  /** `outboundCorrelation.allowDynamicHeaderValues` is true in the user or system settings. */
  allowDynamicValues: boolean;
  /** `<file>: <JSON path>` of the customHeaders object holding the header `name`. */
  placeOf: (name: string) => string;
  notes: string[];
}

/**
 * customHeaders whose value holds `${session_id}` (filled in per request, protocols/wire.ts) are sent only
 * when `outboundCorrelation.allowDynamicHeaderValues` is true in the user or system settings, as in Qwen
 * Code; otherwise they are dropped, and the run says so.
 */
export function sendableCustomHeaders(
  headers: Record<string, string>,
  context: CustomHeadersContext,
): Record<string, string> {
  assertSendableHeaders(headers, context.placeOf);
  const dropped = Object.keys(headers).filter((name) => headers[name]?.includes(sessionIdPlaceholder));
  if (context.allowDynamicValues || dropped.length === 0) return headers;
  const one = dropped.length === 1;
  context.notes.push(
    `Warning: customHeaders ${dropped.join(', ')} ${one ? 'is' : 'are'} not sent: ${sessionIdPlaceholder} in a header value needs outboundCorrelation.allowDynamicHeaderValues: true in the user or system settings.`,
  );
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !dropped.includes(name)));
}

function assertSendableHeaders(headers: Record<string, string>, placeOf: (name: string) => string): void {
  for (const [name, value] of Object.entries(headers)) {
    // A name is shown masked (a key pasted as one, `Authorization: Bearer sk-...`); a value never is.
    const shown = maskKeyLikeWords(name);
    if (!isHeaderName(name)) {
      throw new CliError(
        'config',
        `${placeOf(name)}: the header name "${shown}" cannot be sent: a header name holds only letters, digits and - (no spaces, colons or accents).`,
        {
          hint: 'Rename the header there: a name is one word such as X-Request-Id, and what follows a colon or a space belongs in its value.',
        },
      );
    }
    const character = unsendableCharacterIn(value);
    if (character === undefined) continue;
    throw new CliError(
      'config',
      `${placeOf(name)}: the value of the header "${shown}" cannot be sent: it has ${character}.`,
      { hint: 'Fix the value there (a value set from a multi-line variable has line breaks).' },
    );
  }
}
