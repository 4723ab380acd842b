// What an OAuth token endpoint answered, read once: its fields for the caller, and a masked copy for
// messages. Token endpoints send tokens back and echo what they were sent, in error answers too, so every
// message built from an answer is built from the masked copy.
import { redactSecrets } from '../core/redact.ts';
import { isObject } from '../core/types.ts';

/** Fields that hold credentials, sent or answered (RFC 6749, 7523, 7636, 8628). */
const secretFields = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'device_code',
  'code_verifier',
  'client_secret',
  'assertion',
]);

export interface TokenAnswer {
  status: number;
  ok: boolean;
  /** The answer's fields, tokens included: for the caller, never for a message. */
  fields: Record<string, unknown>;
  /** The same fields with every secret of the exchange masked: for messages. */
  shownFields: Record<string, unknown>;
  /** The body on one short line, every secret of the exchange masked: for messages. */
  shownBody: string;
}

/** Reads the answer to a form holding `sent`; the secrets masked are those sent and those answered. */
export async function readTokenAnswer(
  response: Response,
  sent: Record<string, string> | URLSearchParams,
  /** Secrets the server may know without being sent them now (the access token a refresh replaces). */
  known: readonly string[] = [],
): Promise<TokenAnswer> {
  const body = await response.text();
  const fields = parseObject(body);
  const secrets: string[] = [...known];
  for (const [name, value] of new URLSearchParams(sent)) if (secretFields.has(name)) secrets.push(value);
  for (const name of secretFields) {
    const value = fields[name];
    if (typeof value === 'string') secrets.push(value);
  }
  const shown = redactSecrets(body, secrets);
  return {
    status: response.status,
    ok: response.ok,
    fields,
    shownFields: parseObject(shown),
    shownBody: oneLine(shown),
  };
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** Server bodies can be HTML pages; one short line is enough. Cut after masking: half a secret is not found. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}
