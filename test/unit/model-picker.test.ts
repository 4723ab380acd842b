import { afterEach, beforeEach, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { parse } from 'jsonc-parser';
import {
  findChoices,
  isCurrentChoice,
  listModelChoices,
  pickModel,
  saveModelChoice,
  settingsWithChoice,
} from '../../src/cli/model-picker.ts';
import { loadConfiguration } from '../../src/config/load.ts';
import type { Settings } from '../../src/config/schema.ts';
import { modelSettingsPath } from '../../src/config/setup-files.ts';
import type { ResolvedModel } from '../../src/core/types.ts';

const settings: Settings = {
  modelProviders: {
    anthropic: [{ id: 'claude-sonnet-4', name: 'Claude Sonnet 4', envKey: 'ANTHROPIC_API_KEY' }],
    openai: [
      { id: 'gpt-4o', name: 'GPT-4o', baseUrl: 'https://api.openai.com/v1', envKey: 'OPENAI_API_KEY' },
      { id: 'gpt-4o', name: 'GPT-4o (proxy)', baseUrl: 'https://proxy.test/v1/', envKey: 'PROXY_KEY' },
      { id: 'gpt-4o', name: 'duplicate, hidden', baseUrl: 'https://proxy.test/v1', envKey: 'PROXY_KEY' },
      { id: 'qwen3-coder-plus' },
    ],
    gemini: [{ id: 'gemini-2.5-pro', description: 'fast' }],
    'custom-unmapped': [{ id: 'ignored' }],
  },
};

function target(overrides: Partial<ResolvedModel>): ResolvedModel {
  return {
    authType: 'openai',
    protocol: 'openai',
    model: 'gpt-4o',
    baseUrl: '',
    generationConfig: {},
    ...overrides,
  };
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'picker-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test('every model of the merged modelProviders, grouped by protocol, with its name', () => {
  const choices = listModelChoices(settings, { qwenOauth: false });
  expect(choices.map((choice) => [choice.authType, choice.name])).toEqual([
    ['openai', 'GPT-4o'],
    ['openai', 'GPT-4o (proxy)'],
    ['openai', 'qwen3-coder-plus'],
    ['anthropic', 'Claude Sonnet 4'],
    ['gemini', 'gemini-2.5-pro'],
  ]);
  expect(listModelChoices(settings, { qwenOauth: true }).at(-1)).toMatchObject({
    authType: 'qwen-oauth',
    id: 'coder-model',
  });
  expect(listModelChoices({}, { qwenOauth: false })).toEqual([]);
  // A custom id that providerProtocol maps to a protocol is listed with that protocol's models.
  const mapped = listModelChoices(
    { ...settings, providerProtocol: { 'custom-unmapped': 'gemini' } },
    { qwenOauth: false },
  );
  expect(mapped.filter((choice) => choice.authType === 'gemini').map((choice) => choice.id)).toEqual([
    'gemini-2.5-pro',
    'ignored',
  ]);
});

test('the current choice: same auth type, id and (when the entry names one) base URL', () => {
  const [openai, proxy, , claude] = listModelChoices(settings, { qwenOauth: false });
  const current = target({ baseUrl: 'https://proxy.test/v1' });
  expect(isCurrentChoice(proxy!, current)).toBe(true);
  expect(isCurrentChoice(openai!, current)).toBe(false);
  expect(isCurrentChoice(claude!, current)).toBe(false);
  expect(isCurrentChoice(openai!, undefined)).toBe(false);
});

test('/model <id> finds the id, the current protocol first', () => {
  const choices = [
    ...listModelChoices(settings, { qwenOauth: false }),
    { authType: 'anthropic' as const, protocol: 'anthropic' as const, id: 'gpt-4o', name: 'odd' },
  ];
  expect(
    findChoices(choices, 'gpt-4o', target({ authType: 'anthropic', protocol: 'anthropic' }))[0]!.name,
  ).toBe('odd');
  expect(findChoices(choices, 'gpt-4o', target({}))[0]!.name).toBe('GPT-4o');
  expect(findChoices(choices, 'nope', target({}))).toEqual([]);
  // One id at two gateways: the one in use stays first.
  const twice = listModelChoices(
    {
      modelProviders: {
        openai: [
          { id: 'qwen3', name: 'via A', baseUrl: 'https://a.test/v1' },
          { id: 'qwen3', name: 'via the environment' },
        ],
      },
    },
    { qwenOauth: false },
  );
  const onB = target({ model: 'qwen3', baseUrl: 'https://b.test/v1' });
  expect(findChoices(twice, 'qwen3', onB)[0]!.name).toBe('via the environment');
  // On A's entry (its URL came from its baseUrl), in either order of the list.
  const onA = target({
    model: 'qwen3',
    baseUrl: 'https://a.test/v1',
    baseUrlSource: { description: 'settings modelProviders.openai (qwen3)', name: 'baseUrl' },
  });
  expect(findChoices(twice, 'qwen3', onA)[0]!.name).toBe('via A');
  expect(findChoices([...twice].reverse(), 'qwen3', onA)[0]!.name).toBe('via A');
});

/** The picker on a fake terminal: what it draws (control sequences stripped), and keys to send. */
function openPicker(choices: ReturnType<typeof listModelChoices>, current: ResolvedModel) {
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = '';
  output.on('data', (chunk: Buffer) => {
    screen += stripVTControlCharacters(chunk.toString());
  });
  return {
    input,
    picking: pickModel(choices, current, { input, output }),
    screen: () => screen,
    async waitFor(text: string) {
      while (!screen.includes(text)) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
}

test('the picker marks the current model, starts on it, and returns the chosen one', async () => {
  const picker = openPicker(
    listModelChoices(settings, { qwenOauth: false }),
    target({ model: 'qwen3-coder-plus' }),
  );
  await picker.waitFor('Model for the next turns');
  expect(picker.screen()).toContain('qwen3-coder-plus (current)');
  expect(picker.screen()).toContain('Anthropic');
  await new Promise((resolve) => setTimeout(resolve, 20));
  picker.input.write('\x1b[B');
  picker.input.write('\r');
  expect((await picker.picking)?.name).toBe('Claude Sonnet 4');
});

test('a base URL with credentials is shown masked in the picker', async () => {
  const choices = listModelChoices(
    { modelProviders: { openai: [{ id: 'm', baseUrl: 'https://admin:hunter2pass@llm.test/v1' }] } },
    { qwenOauth: false },
  );
  const picker = openPicker(choices, target({ model: 'm' }));
  await picker.waitFor('https://admin:***@llm.test/v1');
  picker.input.write('\r');
  expect((await picker.picking)?.id).toBe('m');
  expect(picker.screen()).not.toContain('hunter2pass');
});

test('Escape or Ctrl+C in the picker: no choice', async () => {
  for (const key of ['\x1b', '\x03']) {
    const input = new PassThrough();
    const output = new PassThrough();
    let drawn = false;
    output.on('data', () => {
      drawn = true;
    });
    const picking = pickModel(listModelChoices(settings, { qwenOauth: false }), undefined, { input, output });
    while (!drawn) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 20));
    input.write(key);
    expect(await picking).toBeUndefined();
  }
  expect(await pickModel([], undefined)).toBeUndefined();
});

function configurationIn(cwd: string, home: string) {
  return loadConfiguration({ argvFlags: {}, processEnv: {}, cwd, home, platform: 'linux' });
}

test('saved to the workspace file when it defines modelProviders, else to the user file', () => {
  const home = path.join(root, 'home');
  const cwd = path.join(root, 'project');
  mkdirSync(path.join(home, '.qwen'), { recursive: true });
  mkdirSync(path.join(cwd, '.qwen'), { recursive: true });
  writeFileSync(path.join(cwd, '.qwen', 'settings.json'), '{ "model": { "name": "x" } }');
  expect(modelSettingsPath(configurationIn(cwd, home))).toBe(path.join(home, '.qwen', 'settings.json'));
  writeFileSync(
    path.join(cwd, '.qwen', 'settings.json'),
    '{ "modelProviders": { "openai": [{ "id": "w" }] } }',
  );
  expect(modelSettingsPath(configurationIn(cwd, home))).toBe(path.join(cwd, '.qwen', 'settings.json'));
});

test('saving writes model.name, model.baseUrl ("" when none) and selectedType, keeping comments', () => {
  const file = path.join(root, 'settings.json');
  writeFileSync(
    file,
    '{\n  // keep me\n  "model": { "name": "old", "reasoningEffort": "low" } // and me\n}\n',
  );
  const [, proxy, plain] = listModelChoices(settings, { qwenOauth: false });
  saveModelChoice(file, proxy!);
  let text = readFileSync(file, 'utf8');
  expect(text).toContain('// keep me');
  expect(text).toContain('// and me');
  expect(parse(text)).toEqual({
    model: { name: 'gpt-4o', reasoningEffort: 'low', baseUrl: 'https://proxy.test/v1/' },
    security: { auth: { selectedType: 'openai' } },
  });
  saveModelChoice(file, plain!);
  text = readFileSync(file, 'utf8');
  expect(parse(text).model).toEqual({ name: 'qwen3-coder-plus', reasoningEffort: 'low', baseUrl: '' });
});

test('the session resolves with the choice even when another file would say otherwise', () => {
  const [, , , claude] = listModelChoices(settings, { qwenOauth: false });
  const merged = settingsWithChoice({ ...settings, model: { name: 'gpt-4o', baseUrl: 'x' } }, claude!);
  expect(merged.model).toEqual({ name: 'claude-sonnet-4', baseUrl: '' });
  expect(merged.security?.auth?.selectedType).toBe('anthropic');
  expect(merged.modelProviders).toBe(settings.modelProviders);
});
