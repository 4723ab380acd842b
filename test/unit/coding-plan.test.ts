import { afterEach, beforeEach, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'jsonc-parser';
import {
  codingPlanBaseUrls,
  codingPlanEnvKey,
  codingPlanModels,
  codingPlanVersion,
  configureCodingPlan,
  invalidCodingPlanKeyMessage,
  isCodingPlanEntry,
  validateCodingPlanKey,
} from '../../src/auth/coding-plan.ts';
import { CliError } from '../../src/core/errors.ts';

let directory: string;
let settingsPath: string;
beforeEach(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'coding-plan-'));
  settingsPath = path.join(directory, '.qwen', 'settings.json');
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

test('regions, names and presets as Qwen Code writes them', () => {
  expect(codingPlanBaseUrls).toEqual({
    china: 'https://coding.dashscope.aliyuncs.com/v1',
    global: 'https://coding-intl.dashscope.aliyuncs.com/v1',
  });
  const china = codingPlanModels('china');
  const global = codingPlanModels('global');
  expect(china.map((model) => model.id)).toEqual([
    'qwen3.5-plus',
    'qwen3.6-plus',
    'qwen3.7-plus',
    'glm-5',
    'kimi-k2.5',
    'MiniMax-M2.5',
    'qwen3-coder-plus',
    'qwen3-coder-next',
    'qwen3-max-2026-01-23',
    'glm-4.7',
  ]);
  expect(china[0]).toMatchObject({
    name: '[ModelStudio Coding Plan] qwen3.5-plus',
    baseUrl: 'https://coding.dashscope.aliyuncs.com/v1',
    envKey: 'BAILIAN_CODING_PLAN_API_KEY',
    generationConfig: { extra_body: { enable_thinking: true }, contextWindowSize: 1_000_000 },
  });
  expect(global[0]!.name).toBe('[ModelStudio Coding Plan for Global/Intl] qwen3.5-plus');
  expect(china.find((model) => model.id === 'qwen3-coder-plus')!.generationConfig.extra_body).toBeUndefined();
  expect(codingPlanVersion(china)).toMatch(/^[0-9a-f]{64}$/);
  expect(codingPlanVersion(china)).not.toBe(codingPlanVersion(global));
});

test('keys must start with sk-sp-, refused with Qwen Code sentence', () => {
  expect(validateCodingPlanKey('  sk-sp-abc123\n')).toBe('sk-sp-abc123');
  for (const bad of ['sk-abc123', 'sk-sp-', '', 'SK-SP-abc']) {
    let caught: unknown;
    try {
      validateCodingPlanKey(bad);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).message).toBe(invalidCodingPlanKeyMessage);
    expect((caught as CliError).exitCode).toBe(42);
  }
  expect(invalidCodingPlanKeyMessage).toBe(
    'Invalid API key. Coding Plan API keys start with "sk-sp-". Please check.',
  );
});

test('a key with a line break, a curly quote or a space inside is refused, naming the character, never the key', () => {
  for (const [bad, problem] of [
    ['sk-sp-aaaaaaaaaaaa1111\nsk-sp-bbbbbbbbbbbb2222', 'a line break (U+000A) at position 23'],
    ['sk-sp-aaaaaaaa1111\u201d', '"\u201d" (U+201D) at position 19'],
    ['sk-sp-aaaa bbbbbbbb1111', 'a space (U+0020) at position 11'],
  ]) {
    let caught: unknown;
    try {
      validateCodingPlanKey(bad as string);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).message).toBe(`That Coding Plan key cannot be right: it has ${problem}.`);
    expect((caught as CliError).exitCode).toBe(42);
  }
});

test('a new settings file gets exactly what compat §2 lists, mode 0600', () => {
  const result = configureCodingPlan({
    userSettingsPath: settingsPath,
    region: 'global',
    apiKey: 'sk-sp-secret1234',
  });
  expect(result.model).toBe('qwen3.5-plus');
  expect(result.keyLocation).toContain(settingsPath);
  const written = JSON.parse(readFileSync(settingsPath, 'utf8'));
  const models = codingPlanModels('global');
  expect(written).toEqual({
    env: { BAILIAN_CODING_PLAN_API_KEY: 'sk-sp-secret1234' },
    modelProviders: { openai: models },
    security: { auth: { selectedType: 'openai' } },
    model: { name: 'qwen3.5-plus', baseUrl: '' },
    providerMetadata: {
      'coding-plan': {
        version: codingPlanVersion(models),
        baseUrl: 'https://coding-intl.dashscope.aliyuncs.com/v1',
      },
    },
  });
  expect(statSync(settingsPath).mode & 0o777).toBe(0o600);
});

test("the legacy codingPlan record is replaced by providerMetadata's, not left naming the region set up before", () => {
  configureCodingPlanWith(
    '{ "codingPlan": { "region": "china", "version": "abc" }, "ui": { "theme": "dark" } }',
    'global',
    'sk-sp-new',
  );
  const written = parse(readFileSync(settingsPath, 'utf8'));
  expect(written.codingPlan).toBeUndefined();
  expect(written.providerMetadata['coding-plan'].baseUrl).toBe(
    'https://coding-intl.dashscope.aliyuncs.com/v1',
  );
  expect(written.ui).toEqual({ theme: 'dark' });
});

test('earlier Coding Plan entries are replaced, the user entries kept after them, comments survive', () => {
  const original = `{
  // my providers
  "modelProviders": {
    "openai": [
      { "id": "qwen3-coder-plus", "envKey": "${codingPlanEnvKey}", "baseUrl": "https://coding.dashscope.aliyuncs.com/v1" },
      { "id": "gpt-4o", "envKey": "OPENAI_API_KEY", "baseUrl": "https://api.openai.com/v1" },
      { "id": "same-url-other-key", "envKey": "OTHER", "baseUrl": "https://coding.dashscope.aliyuncs.com/v1" }
    ],
    "anthropic": [{ "id": "claude", "envKey": "ANTHROPIC_API_KEY" }]
  },
  /* keep this too */
  "ui": { "theme": "dark" }
}
`;
  configureCodingPlanWith(original, 'china', 'sk-sp-new');
  const text = readFileSync(settingsPath, 'utf8');
  expect(text).toContain('// my providers');
  expect(text).toContain('/* keep this too */');
  const written = parse(text);
  const ids = written.modelProviders.openai.map((entry: { id: string }) => entry.id);
  expect(ids).toEqual([
    ...codingPlanModels('china').map((model) => model.id),
    'gpt-4o',
    'same-url-other-key',
  ]);
  expect(written.modelProviders.anthropic).toEqual([{ id: 'claude', envKey: 'ANTHROPIC_API_KEY' }]);
  expect(written.ui).toEqual({ theme: 'dark' });
  expect(written.env[codingPlanEnvKey]).toBe('sk-sp-new');
  expect(isCodingPlanEntry(written.modelProviders.openai[0])).toBe(true);
  expect(isCodingPlanEntry(written.modelProviders.openai.at(-1))).toBe(false);
});

test("Qwen Code's old { protocol, models } wrapper keeps its form and the user's models", () => {
  const original = JSON.stringify({
    modelProviders: { openai: { protocol: 'openai', models: [{ id: 'gpt-4o', envKey: 'OPENAI_API_KEY' }] } },
  });
  configureCodingPlanWith(original, 'global', 'sk-sp-new');
  const written = parse(readFileSync(settingsPath, 'utf8'));
  expect(written.modelProviders.openai.protocol).toBe('openai');
  const ids = written.modelProviders.openai.models.map((entry: { id: string }) => entry.id);
  expect(ids).toEqual([...codingPlanModels('global').map((model) => model.id), 'gpt-4o']);
});

test('with a workspace file that defines modelProviders: the models there, the key in the user file only', () => {
  const workspacePath = path.join(directory, 'project', '.qwen', 'settings.json');
  mkdirSync(path.dirname(workspacePath), { recursive: true });
  const workspaceText = `{
  // the team's providers
  "modelProviders": { "openai": [{ "id": "wsm", "envKey": "WSK", "baseUrl": "http://ws/v1" }] }
}
`;
  writeFileSync(workspacePath, workspaceText);
  const result = configureCodingPlan({
    userSettingsPath: settingsPath,
    modelSettingsPath: workspacePath,
    region: 'global',
    apiKey: 'sk-sp-secret1234',
    model: 'glm-5',
  });
  expect(result).toMatchObject({ settingsPath: workspacePath, model: 'glm-5', keptEntries: 1 });
  expect(result.keyLocation).toContain(settingsPath);
  expect(JSON.parse(readFileSync(settingsPath, 'utf8'))).toEqual({
    env: { BAILIAN_CODING_PLAN_API_KEY: 'sk-sp-secret1234' },
  });
  expect(statSync(settingsPath).mode & 0o777).toBe(0o600);
  const workspaceAfter = readFileSync(workspacePath, 'utf8');
  expect(workspaceAfter).toContain("// the team's providers");
  expect(workspaceAfter).not.toContain('sk-sp-secret1234');
  const written = parse(workspaceAfter);
  expect(written.modelProviders.openai.map((entry: { id: string }) => entry.id)).toEqual([
    ...codingPlanModels('global').map((model) => model.id),
    'wsm',
  ]);
  expect(written.security).toEqual({ auth: { selectedType: 'openai' } });
  expect(written.model).toEqual({ name: 'glm-5', baseUrl: '' });
  expect(written.providerMetadata['coding-plan'].baseUrl).toBe(codingPlanBaseUrls.global);
});

test('a broken settings file is never overwritten (exit 52)', () => {
  configureCodingPlanWith('{ "env": { ', 'china', 'sk-sp-x1', false);
  let caught: unknown;
  try {
    configureCodingPlan({ userSettingsPath: settingsPath, region: 'china', apiKey: 'sk-sp-x1' });
  } catch (error) {
    caught = error;
  }
  expect((caught as CliError).exitCode).toBe(52);
  expect(readFileSync(settingsPath, 'utf8')).toBe('{ "env": { ');
});

function configureCodingPlanWith(text: string, region: 'china' | 'global', key: string, run = true): void {
  mkdirSync(path.dirname(settingsPath), { recursive: true });
  writeFileSync(settingsPath, text);
  if (run) configureCodingPlan({ userSettingsPath: settingsPath, region, apiKey: key });
}

test("the user's own entries keep their layout and the comments around the array survive", () => {
  configureCodingPlanWith(
    [
      '{',
      '  // my settings',
      '  "modelProviders": {',
      '    "openai": [ // primary model: keep this!',
      '      { "id": "mine", "baseUrl": "https://example.com/v1" },',
      `      { "id": "qwen3-coder-plus", "baseUrl": "${codingPlanBaseUrls.china}", "envKey": "${codingPlanEnvKey}" }`,
      '    ]',
      '  }',
      '}',
    ].join('\n'),
    'global',
    'sk-sp-layout01',
  );
  const text = readFileSync(settingsPath, 'utf8');
  expect(text).toContain('// my settings');
  expect(text).toContain('// primary model: keep this!');
  expect(text).toContain('{ "id": "mine", "baseUrl": "https://example.com/v1" }');
  const written = parse(text) as { modelProviders: { openai: { id: string }[] } };
  const ids = written.modelProviders.openai.map((entry) => entry.id);
  expect(ids.at(-1)).toBe('mine');
  expect(ids.slice(0, -1)).toEqual(codingPlanModels('global').map((model) => model.id));
});
