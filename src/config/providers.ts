// Which `modelProviders` lists serve a protocol (compat §3 and §6): the list under the protocol's own key,
// and the lists under custom ids that `providerProtocol` maps to it ("myrouter": "openai"), in the order the
// settings list them. A list that no protocol reads is said once, not silently dropped.
import { protocols } from '../core/types.ts';
import type { ModelProviderEntry, Settings } from './schema.ts';

/** The keys `modelProviders` may use as they are; `openai-responses` models are looked up apart. */
const providerKeys: readonly string[] = [...protocols, 'openai-responses'];

export interface ProviderEntry {
  /** The `modelProviders` key the entry sits under (a protocol, or a custom id). */
  key: string;
  entry: ModelProviderEntry;
}

/** Every entry that serves `providerKey` (a protocol, or `openai-responses`), in the settings' order. */
export function providerEntriesFor(settings: Settings, providerKey: string): ProviderEntry[] {
  const entries: ProviderEntry[] = [];
  for (const [key, list] of Object.entries(settings.modelProviders ?? {})) {
    if (protocolKeyOf(settings, key) !== providerKey) continue;
    for (const entry of list) entries.push({ key, entry });
  }
  return entries;
}

/**
 * Warnings for the `modelProviders` lists no protocol reads: a custom id that `providerProtocol` does not
 * map, or maps to something that is not a protocol. Entries under `qwen-oauth` are ignored without a word:
 * Qwen OAuth serves its one model whatever is listed there (Qwen Code does the same).
 */
export function unreadProviderNotes(settings: Settings): string[] {
  const notes: string[] = [];
  for (const key of Object.keys(settings.modelProviders ?? {})) {
    if (key === 'qwen-oauth' || protocolKeyOf(settings, key) !== undefined) continue;
    const mapped = settings.providerProtocol?.[key];
    const reason =
      mapped === undefined
        ? `"${key}" is not a protocol and providerProtocol does not map it to one`
        : `providerProtocol maps "${key}" to "${mapped}", which is not a protocol`;
    notes.push(
      `Warning: the models under modelProviders.${key} are skipped: ${reason} (${providerKeys.join(', ')}).`,
    );
  }
  return notes;
}

function protocolKeyOf(settings: Settings, key: string): string | undefined {
  if (providerKeys.includes(key)) return key;
  const mapped = settings.providerProtocol?.[key];
  return mapped !== undefined && providerKeys.includes(mapped) ? mapped : undefined;
}
