// `/model`: every model of the merged modelProviders, grouped by protocol, picked with @clack/prompts or
// named directly (`/model <id>`). The choice is saved the way Qwen Code saves it (compat §3): model.name,
// model.baseUrl ("" when the entry has none) and security.auth.selectedType, in the workspace file when
// that file defines modelProviders (its list is the one in use), else in the user file.
import { isCancel, select } from '@clack/prompts';
import { providerEntriesFor } from '../config/providers.ts';
import { qwenOauthModel } from '../config/resolve.ts';
import type { Settings } from '../config/schema.ts';
import { updateSettingsFile } from '../config/settings-writer.ts';
import { maskUrl } from '../core/redact.ts';
import {
  type AuthType,
  normalizedBaseUrl,
  type Protocol,
  protocols,
  type ResolvedModel,
  sameBaseUrl,
} from '../core/types.ts';
import type { PromptStreams } from './dialog-terminal.ts';

export interface ModelChoice {
  authType: AuthType;
  protocol: Protocol;
  id: string;
  /** The entry's `name`, else its id. */
  name: string;
  /** The entry's baseUrl; undefined when it names none. */
  baseUrl?: string;
  description?: string;
}

export const protocolLabels: Record<AuthType, string> = {
  openai: 'OpenAI-compatible',
  anthropic: 'Anthropic',
  gemini: 'Gemini',
  'vertex-ai': 'Vertex AI',
  'qwen-oauth': 'Qwen OAuth',
};

/** Every configured model, protocol by protocol in a fixed order; Qwen OAuth's alias when logged in. */
export function listModelChoices(settings: Settings, options: { qwenOauth: boolean }): ModelChoice[] {
  const choices: ModelChoice[] = [];
  for (const protocol of protocols) {
    const seen = new Set<string>();
    for (const { entry } of providerEntriesFor(settings, protocol)) {
      // Of two entries with the same id and base URL the first wins when resolving; show only that one.
      const key = `${entry.id}\n${normalizedBaseUrl(entry.baseUrl ?? '')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const choice: ModelChoice = {
        authType: protocol,
        protocol,
        id: entry.id,
        name: entry.name ?? entry.id,
      };
      if (entry.baseUrl !== undefined && entry.baseUrl.trim() !== '') choice.baseUrl = entry.baseUrl;
      if (entry.description !== undefined) choice.description = entry.description;
      choices.push(choice);
    }
  }
  if (options.qwenOauth) {
    choices.push({ authType: 'qwen-oauth', protocol: 'openai', id: qwenOauthModel, name: 'Qwen OAuth' });
  }
  return choices;
}

/** True for the choice the session is using now. */
export function isCurrentChoice(choice: ModelChoice, target: ResolvedModel | undefined): boolean {
  if (target === undefined || choice.authType !== target.authType || choice.id !== target.model) return false;
  if (choice.baseUrl !== undefined) return sameBaseUrl(choice.baseUrl, target.baseUrl);
  // An entry without a URL is the one in use unless the session's URL came from an entry's `baseUrl`.
  return target.baseUrlSource?.name !== 'baseUrl';
}

/** `/model <id>`: the choices with that id, the one in use first, then those of the current auth type. */
export function findChoices(
  choices: readonly ModelChoice[],
  id: string,
  current: ResolvedModel | undefined,
): ModelChoice[] {
  const matching = choices.filter((choice) => choice.id === id);
  // Entries may share an id (one model at two gateways): the one in use comes first, so `/model <its id>`
  // keeps the session where it is.
  const rank = (choice: ModelChoice): number =>
    isCurrentChoice(choice, current) ? 0 : choice.authType === current?.authType ? 1 : 2;
  return [...matching].sort((first, second) => rank(first) - rank(second));
}

/** One comment-preserving write of the three keys Qwen Code's /model writes. */
export function saveModelChoice(path: string, choice: ModelChoice): void {
  updateSettingsFile(path, [
    { path: ['model', 'name'], value: choice.id },
    { path: ['model', 'baseUrl'], value: choice.baseUrl ?? '' },
    { path: ['security', 'auth', 'selectedType'], value: choice.authType },
  ]);
}

/** Settings as they read once the choice is saved, for resolving this session's next turn. */
export function settingsWithChoice(settings: Settings, choice: ModelChoice): Settings {
  return {
    ...settings,
    model: { ...settings.model, name: choice.id, baseUrl: choice.baseUrl ?? '' },
    security: {
      ...settings.security,
      auth: { ...settings.security?.auth, selectedType: choice.authType },
    },
  };
}

/** The picker; undefined when the user cancels (Escape, Ctrl+C) or there is nothing to pick. */
export async function pickModel(
  choices: readonly ModelChoice[],
  current: ResolvedModel | undefined,
  streams: PromptStreams = {},
): Promise<ModelChoice | undefined> {
  if (choices.length === 0) return undefined;
  const currentIndex = choices.findIndex((choice) => isCurrentChoice(choice, current));
  const picked = await select<number>({
    message: 'Model for the next turns (saved for later sessions)',
    options: choices.map((choice, index) => ({
      value: index,
      // The mark is in the label: clack shows a hint only next to the focused option.
      label: `${protocolLabels[choice.authType].padEnd(18)} ${choice.name}${index === currentIndex ? ' (current)' : ''}`,
      hint: describeChoice(choice),
    })),
    initialValue: currentIndex >= 0 ? currentIndex : 0,
    maxItems: 12,
    ...streams,
  });
  if (isCancel(picked)) return undefined;
  return choices[picked];
}

function describeChoice(choice: ModelChoice): string {
  const parts: string[] = [];
  if (choice.name !== choice.id) parts.push(choice.id);
  if (choice.baseUrl !== undefined) parts.push(maskUrl(choice.baseUrl));
  if (choice.description !== undefined) parts.push(choice.description);
  return parts.join(' · ');
}
