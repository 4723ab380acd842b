// Alibaba Cloud Bailian (ModelStudio) Coding Plan: two regional endpoints, `sk-sp-` keys, and the preset
// models. configureCodingPlan writes what Qwen Code's /auth wizard writes (compat §2), so a settings file
// configured here works in Qwen Code and the other way round.
import { createHash } from 'node:crypto';
import { shownStoredValue } from '../config/env-reference.ts';
import {
  type ProviderListAsWritten,
  readEnvValueAsWritten,
  readProviderEntriesAsWritten,
} from '../config/settings.ts';
import type { SettingsEdit } from '../config/settings-writer.ts';
import { type PlannedSettingsFile, setupFiles, writeSetupFiles } from '../config/setup-files.ts';
import { CliError } from '../core/errors.ts';
import { keyPasteProblem } from '../core/header-text.ts';
import { isOneOf, nonEmpty } from '../core/types.ts';

export const codingPlanRegions = ['china', 'global'] as const;
export type CodingPlanRegion = (typeof codingPlanRegions)[number];

export const codingPlanBaseUrls: Record<CodingPlanRegion, string> = {
  china: 'https://coding.dashscope.aliyuncs.com/v1',
  global: 'https://coding-intl.dashscope.aliyuncs.com/v1',
};

export const codingPlanRegionLabels: Record<CodingPlanRegion, string> = {
  china: 'China (Beijing)',
  global: 'Singapore (International)',
};

/** The variable Qwen Code reserves for the Coding Plan key; every preset entry names it as envKey. */
export const codingPlanEnvKey = 'BAILIAN_CODING_PLAN_API_KEY';
export const codingPlanKeyPrefix = 'sk-sp-';
/** Qwen Code's exact sentence, so users searching for it find the same advice. */
export const invalidCodingPlanKeyMessage =
  'Invalid API key. Coding Plan API keys start with "sk-sp-". Please check.';

const namePrefixes: Record<CodingPlanRegion, string> = {
  china: '[ModelStudio Coding Plan]',
  global: '[ModelStudio Coding Plan for Global/Intl]',
};

interface PresetModel {
  id: string;
  thinking: boolean;
  contextWindowSize: number;
  description?: string;
  /** Accepts images and video as input. */
  multimodal?: boolean;
}

// The Qwen Code 0.24.4 preset list, in its order; the first one becomes model.name.
const presetModels: readonly PresetModel[] = [
  { id: 'qwen3.5-plus', thinking: true, contextWindowSize: 1_000_000, multimodal: true },
  {
    id: 'qwen3.6-plus',
    thinking: true,
    contextWindowSize: 1_000_000,
    multimodal: true,
    description: 'Coding Plan Pro only',
  },
  { id: 'qwen3.7-plus', thinking: true, contextWindowSize: 1_000_000, multimodal: true },
  { id: 'glm-5', thinking: true, contextWindowSize: 202_752 },
  { id: 'kimi-k2.5', thinking: true, contextWindowSize: 262_144 },
  { id: 'MiniMax-M2.5', thinking: true, contextWindowSize: 196_608 },
  { id: 'qwen3-coder-plus', thinking: false, contextWindowSize: 1_000_000 },
  { id: 'qwen3-coder-next', thinking: false, contextWindowSize: 262_144 },
  { id: 'qwen3-max-2026-01-23', thinking: true, contextWindowSize: 262_144 },
  { id: 'glm-4.7', thinking: true, contextWindowSize: 202_752 },
];

/** One modelProviders.openai entry as written to settings.json. */
export interface CodingPlanModelEntry {
  id: string;
  name: string;
  description?: string;
  baseUrl: string;
  envKey: string;
  generationConfig: {
    extra_body?: { enable_thinking: boolean };
    contextWindowSize: number;
    modalities?: { image: boolean; video: boolean };
  };
}

export function isCodingPlanRegion(value: string): value is CodingPlanRegion {
  return isOneOf(codingPlanRegions, value);
}

/** The entries for a region, in the order they are written. */
export function codingPlanModels(region: CodingPlanRegion): CodingPlanModelEntry[] {
  return presetModels.map((preset) => {
    const entry: CodingPlanModelEntry = {
      id: preset.id,
      name: `${namePrefixes[region]} ${preset.id}`,
      baseUrl: codingPlanBaseUrls[region],
      envKey: codingPlanEnvKey,
      generationConfig: { contextWindowSize: preset.contextWindowSize },
    };
    if (preset.description !== undefined) entry.description = preset.description;
    if (preset.thinking) {
      entry.generationConfig = { extra_body: { enable_thinking: true }, ...entry.generationConfig };
    }
    if (preset.multimodal) entry.generationConfig.modalities = { image: true, video: true };
    return entry;
  });
}

/** sha256 of the model list's JSON: Qwen Code compares it to offer "the Coding Plan models changed". */
export function codingPlanVersion(models: readonly CodingPlanModelEntry[]): string {
  return createHash('sha256').update(JSON.stringify(models)).digest('hex');
}

/** Throws Qwen Code's sentence (as an input error) unless the key looks like a Coding Plan key. */
export function validateCodingPlanKey(key: string): string {
  const trimmed = key.trim();
  if (!trimmed.startsWith(codingPlanKeyPrefix) || trimmed.length <= codingPlanKeyPrefix.length) {
    throw new CliError('input', invalidCodingPlanKeyMessage, {
      hint: 'Get the key from the Coding Plan page of the Alibaba Cloud Bailian (ModelStudio) console.',
    });
  }
  // Saved, it would only fail every run after (`auth status` calls it unusable).
  const problem = keyPasteProblem(trimmed);
  if (problem !== undefined) {
    throw new CliError('input', `That Coding Plan key cannot be right: it has ${problem}.`, {
      hint: 'Copy the key again from the Coding Plan page of the Alibaba Cloud Bailian (ModelStudio) console; one key, nothing around it.',
    });
  }
  return trimmed;
}

/** An entry an earlier Coding Plan setup wrote (its envKey and one of the two endpoints). */
export function isCodingPlanEntry(entry: unknown): boolean {
  if (typeof entry !== 'object' || entry === null) return false;
  const record = entry as Record<string, unknown>;
  return (
    record['envKey'] === codingPlanEnvKey &&
    typeof record['baseUrl'] === 'string' &&
    Object.values(codingPlanBaseUrls).includes(record['baseUrl'])
  );
}

export interface ConfigureCodingPlanInput {
  /** The user settings file: the key goes there (mode 0600), never into a project's file. */
  userSettingsPath: string;
  /**
   * Where the models, the auth type and the model choice go: modelSettingsPath (the workspace file when it
   * defines modelProviders, which would hide the user file's); the user file by default.
   */
  modelSettingsPath?: string;
  region: CodingPlanRegion;
  apiKey: string;
  /** The model to start with; the first preset by default. */
  model?: string;
}

export interface CodingPlanConfiguration {
  /** The file that now holds the models. */
  settingsPath: string;
  /** Where the key now lives, for the confirmation message. */
  keyLocation: string;
  model: string;
  baseUrl: string;
  modelCount: number;
  /** Entries the user had under modelProviders.openai that were kept. */
  keptEntries: number;
  /** What the key was saved over in the user file's `env`, as it may be shown (a `${VAR}` as written). */
  replaced?: string;
}

/** `, replacing ${CP_SECRET}` after where the key went, when it was saved over another value. */
export function replacing(configuration: CodingPlanConfiguration): string {
  return configuration.replaced === undefined ? '' : `, replacing ${configuration.replaced}`;
}

/**
 * Edits that put the preset models first under modelProviders.openai: earlier Coding Plan entries are
 * removed one by one and the new ones inserted, so the user's own entries keep their comments and layout.
 */
function providerEdits(existing: ProviderListAsWritten, models: readonly unknown[]): SettingsEdit[] {
  const { entries, path } = existing;
  if (entries.length === 0) return [{ path, value: [...models] }];
  const removals: SettingsEdit[] = [];
  for (let index = entries.length - 1; index >= 0; index -= 1) {
    if (isCodingPlanEntry(entries[index])) removals.push({ path: [...path, index], value: undefined });
  }
  const insertions = models.map(
    (model, index): SettingsEdit => ({
      path: [...path, index],
      value: model,
      insert: true,
    }),
  );
  return [...removals, ...insertions];
}

/**
 * Writes the key, the preset models (first, replacing earlier Coding Plan entries, keeping the user's
 * others), the selected auth type and model, and the template version: one atomic write per file that
 * keeps its comments, none when either file cannot be edited. The file with the key gets mode 0600.
 */
export function configureCodingPlan(input: ConfigureCodingPlanInput): CodingPlanConfiguration {
  const { files, configuration } = codingPlanFiles(input);
  writeSetupFiles(files);
  return configuration;
}

/** configureCodingPlan's files and outcome, without writing (the /auth wizard checks the key first). */
export function codingPlanFiles(input: ConfigureCodingPlanInput): {
  files: PlannedSettingsFile[];
  configuration: CodingPlanConfiguration;
} {
  const apiKey = validateCodingPlanKey(input.apiKey);
  const models = codingPlanModels(input.region);
  const baseUrl = codingPlanBaseUrls[input.region];
  const userPath = input.userSettingsPath;
  const modelPath = input.modelSettingsPath ?? userPath;
  const existing = readProviderEntriesAsWritten(modelPath, 'openai');
  const kept = existing.entries.filter((entry) => !isCodingPlanEntry(entry));
  const model = input.model ?? models[0]!.id;
  const stored = nonEmpty(readEnvValueAsWritten(userPath, codingPlanEnvKey));

  const files = setupFiles({
    userPath,
    modelPath,
    keyEdits: [{ path: ['env', codingPlanEnvKey], value: apiKey }],
    modelEdits: [
      ...providerEdits(existing, models),
      { path: ['security', 'auth', 'selectedType'], value: 'openai' },
      { path: ['model', 'name'], value: model },
      { path: ['model', 'baseUrl'], value: '' },
      { path: ['providerMetadata', 'coding-plan'], value: { version: codingPlanVersion(models), baseUrl } },
      // The old place of that record (compat §2: Qwen Code migrates it into providerMetadata); left, it would
      // name the region set up before.
      { path: ['codingPlan'], value: undefined },
    ],
  });
  const configuration: CodingPlanConfiguration = {
    settingsPath: modelPath,
    keyLocation: `${userPath} (env.${codingPlanEnvKey}, file mode 0600)`,
    model,
    baseUrl,
    modelCount: models.length,
    keptEntries: kept.length,
    ...(stored === undefined || stored === apiKey ? {} : { replaced: shownStoredValue(stored) }),
  };
  return { files, configuration };
}
