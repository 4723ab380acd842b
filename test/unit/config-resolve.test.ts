import { expect, test } from 'bun:test';
import { qwenCodeUserAgent } from '../../src/config/client-headers.ts';
import { layerEnvironment } from '../../src/config/env.ts';
import {
  assertValidBaseUrl,
  noAuthenticationMessage,
  type ResolveFlags,
  resolveModel,
  responsesApiNote,
} from '../../src/config/resolve.ts';
import type { Settings } from '../../src/config/schema.ts';
import { CliError } from '../../src/core/errors.ts';
import { errorOf } from './helpers.ts';

function resolve(options: {
  flags?: ResolveFlags;
  settings?: Settings;
  env?: Record<string, string>;
  settingsEnv?: Record<string, string>;
}) {
  const flags = options.flags ?? {};
  const env = layerEnvironment({
    flags: { OPENAI_API_KEY: flags.openaiApiKey, OPENAI_BASE_URL: flags.openaiBaseUrl },
    processEnv: options.env ?? {},
    settingsEnv: { values: options.settingsEnv ?? {}, sources: {} },
    excludedProjectVariables: [],
  });
  return resolveModel({ flags, settings: options.settings ?? {}, env });
}

const openaiEnv = { OPENAI_API_KEY: 'sk-env', OPENAI_MODEL: 'env-model', OPENAI_BASE_URL: 'http://env/v1' };

test('auth type: --auth-type > selectedType > detection', () => {
  const settings: Settings = { security: { auth: { selectedType: 'anthropic' } } };
  expect(resolve({ flags: { authType: 'gemini', model: 'g' }, settings, env: openaiEnv }).authType).toBe(
    'gemini',
  );
  expect(resolve({ settings: { ...settings, model: { name: 'c' } }, env: openaiEnv }).authType).toBe(
    'anthropic',
  );
  expect(resolve({ env: openaiEnv }).authType).toBe('openai');
});

test('invalid --auth-type is an input error naming the accepted values', () => {
  const error = errorOf(() => resolve({ flags: { authType: 'openai-chat' }, env: openaiEnv }));
  expect(error.kind).toBe('input');
  expect(error.exitCode).toBe(42);
  expect(error.message).toBe(
    'Invalid --auth-type "openai-chat". Accepted values: openai, anthropic, gemini, vertex-ai, qwen-oauth, openai-responses.',
  );
});

test('openai-responses (flag or selectedType) runs as openai over Chat Completions, with a note', () => {
  const note = responsesApiNote('auth type openai-responses');
  const fromFlag = resolve({ flags: { authType: 'openai-responses' }, env: openaiEnv });
  expect(fromFlag).toMatchObject({
    authType: 'openai',
    protocol: 'openai',
    model: 'env-model',
    apiKey: 'sk-env',
  });
  expect(fromFlag.baseUrl).toBe('http://env/v1');
  expect(fromFlag.notes).toEqual([note]);
  expect(note).toContain('Chat Completions');

  // Its models are Qwen Code's modelProviders['openai-responses'] entries.
  const settings: Settings = {
    security: { auth: { selectedType: 'openai-responses', enforcedType: 'openai-responses' } },
    modelProviders: {
      openai: [{ id: 'chat-model' }],
      'openai-responses': [{ id: 'resp-model', baseUrl: 'http://resp/v1', envKey: 'RESP_KEY' }],
    },
  };
  const fromSettings = resolve({ settings, env: { RESP_KEY: 'sk-resp' } });
  expect(fromSettings).toMatchObject({ authType: 'openai', model: 'resp-model', baseUrl: 'http://resp/v1' });
  expect(fromSettings.apiKey).toBe('sk-resp');
  expect(fromSettings.baseUrlSource?.description).toBe(
    'settings modelProviders.openai-responses (resp-model)',
  );
  expect(fromSettings.notes).toEqual([note]);

  // An openai entry with wireApi "responses" gets the same treatment; chat-completions says nothing.
  const wire = (wireApi: 'responses' | 'chat-completions') =>
    resolve({
      settings: {
        security: { auth: { selectedType: 'openai' } },
        modelProviders: { openai: [{ id: 'w', wireApi }] },
      },
      env: { OPENAI_API_KEY: 'k' },
    }).notes;
  expect(wire('responses')).toEqual([responsesApiNote('wireApi "responses" of modelProviders.openai (w)')]);
  expect(wire('chat-completions')).toBeUndefined();
  expect(resolve({ env: openaiEnv }).notes).toBeUndefined();
});

test('no authentication at all: exit 41 with one line naming variables and flags', () => {
  const error = errorOf(() => resolve({ env: { OPENAI_BASE_URL: 'http://x', GEMINI_API_KEY: 'k' } }));
  expect(error.kind).toBe('auth');
  expect(error.exitCode).toBe(41);
  // A provider's key without what detection also needs says what is missing.
  expect(error.message).toBe(
    `${noAuthenticationMessage} GEMINI_API_KEY is set, but choosing gemini from the environment also needs GEMINI_MODEL (or pass --auth-type gemini with --model).`,
  );
  expect(errorOf(() => resolve({ env: {} })).message).toBe(noAuthenticationMessage);
  const anthropic = errorOf(() => resolve({ env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_MODEL: 'claude' } }));
  expect(anthropic.message).toEndWith(
    ' ANTHROPIC_API_KEY is set, but choosing anthropic from the environment also needs ANTHROPIC_BASE_URL (or pass --auth-type anthropic with --model).',
  );
  const token = errorOf(() => resolve({ env: { ANTHROPIC_AUTH_TOKEN: 't', ANTHROPIC_MODEL: 'claude' } }));
  expect(token.message).toEndWith(
    ' ANTHROPIC_AUTH_TOKEN is set, but it is used only once the auth type is anthropic: pass --auth-type anthropic (or set security.auth.selectedType).',
  );
  expect(error.message).not.toContain('\n');
  expect(error.message).toContain('OPENAI_API_KEY');
  expect(error.message).toContain('--openai-api-key');

  // A key variable set but empty is named: it hides a key in a lower layer.
  const hidden = errorOf(() =>
    resolve({
      env: { OPENAI_API_KEY: '', OPENAI_MODEL: 'm', OPENAI_BASE_URL: 'http://x' },
      settingsEnv: { OPENAI_API_KEY: 'sk-settings' },
    }),
  );
  expect(hidden.message).toEndWith(
    ' OPENAI_API_KEY is set but empty (OPENAI_API_KEY in the environment), so no .env file or settings env can set it.',
  );
  // With security.auth.enforcedType, the advice is for that type only (no `qwen auth coding-plan`).
  const enforced = errorOf(() => resolve({ settings: { security: { auth: { enforcedType: 'gemini' } } } }));
  expect(enforced.message).toBe(
    'No authentication configured. security.auth.enforcedType is gemini: set GEMINI_API_KEY and GEMINI_MODEL (or pass --auth-type gemini with --model).',
  );
});

test('detection order follows Qwen Code', () => {
  const detect = (env: Record<string, string>) => resolve({ env }).authType;
  expect(detect({ QWEN_OAUTH: '1', ...openaiEnv })).toBe('qwen-oauth');
  expect(detect({ ...openaiEnv, GEMINI_API_KEY: 'g', GEMINI_MODEL: 'gm' })).toBe('openai');
  expect(
    detect({
      OPENAI_API_KEY: 'k',
      QWEN_MODEL: 'q',
      OPENAI_BASE_URL: 'https://u.example/v1',
      GEMINI_API_KEY: 'g',
      GEMINI_MODEL: 'gm',
    }),
  ).toBe('openai');
  expect(detect({ GEMINI_API_KEY: 'g', GEMINI_MODEL: 'gm', GOOGLE_API_KEY: 'v', GOOGLE_MODEL: 'vm' })).toBe(
    'gemini',
  );
  expect(
    detect({
      GOOGLE_API_KEY: 'v',
      GOOGLE_MODEL: 'vm',
      ANTHROPIC_API_KEY: 'a',
      ANTHROPIC_MODEL: 'am',
      ANTHROPIC_BASE_URL: 'https://u.example',
    }),
  ).toBe('vertex-ai');
  expect(detect({ GOOGLE_CLOUD_PROJECT: 'p', GOOGLE_MODEL: 'vm' })).toBe('vertex-ai');
  expect(
    detect({ ANTHROPIC_API_KEY: 'a', ANTHROPIC_MODEL: 'am', ANTHROPIC_BASE_URL: 'https://u.example' }),
  ).toBe('anthropic');
  // Incomplete sets are not detected.
  expect(() => detect({ ANTHROPIC_API_KEY: 'a', ANTHROPIC_MODEL: 'am' })).toThrow(CliError);
  expect(() => detect({ GEMINI_API_KEY: 'g' })).toThrow(CliError);
});

test('detection extended for CI: a flag key, or OPENAI_API_KEY with any model', () => {
  const ci = resolve({
    flags: { model: 'm', openaiBaseUrl: 'http://fake/v1' },
    env: { OPENAI_API_KEY: 'sk-ci' },
  });
  expect(ci).toMatchObject({ authType: 'openai', model: 'm', apiKey: 'sk-ci', baseUrl: 'http://fake/v1' });
  expect(
    resolve({ flags: { openaiApiKey: 'sk-flag', model: 'm' }, env: { GEMINI_API_KEY: 'g' } }),
  ).toMatchObject({ authType: 'openai', apiKey: 'sk-flag' });
  const plain = resolve({ env: { OPENAI_API_KEY: 'sk', OPENAI_MODEL: 'gpt-4o' } });
  expect(plain).toMatchObject({ authType: 'openai', model: 'gpt-4o', baseUrl: 'https://api.openai.com/v1' });
  expect(plain.baseUrlSource).toEqual({ description: 'default' });
  expect(resolve({ settings: { model: { name: 's' } }, env: { OPENAI_API_KEY: 'sk' } }).model).toBe('s');
  const fromProviders = resolve({
    settings: { modelProviders: { openai: [{ id: 'p1' }] } },
    env: { OPENAI_API_KEY: 'sk' },
  });
  expect(fromProviders.model).toBe('p1');
});

test('--openai-api-key and --openai-base-url apply to the auth type the environment selects (compat §5)', () => {
  const anthropicEnv = {
    ANTHROPIC_API_KEY: 'sk-ant',
    ANTHROPIC_BASE_URL: 'http://ant',
    ANTHROPIC_MODEL: 'claude',
  };
  const keyOnly = resolve({ flags: { openaiApiKey: 'sk-x' }, env: anthropicEnv });
  expect(keyOnly).toMatchObject({
    authType: 'anthropic',
    model: 'claude',
    apiKey: 'sk-x',
    baseUrl: 'http://ant',
  });
  expect(keyOnly.apiKeySource?.description).toBe('flag --openai-api-key');
  const withUrl = resolve({
    flags: { openaiApiKey: 'sk-x', openaiBaseUrl: 'http://flag' },
    env: anthropicEnv,
  });
  expect(withUrl).toMatchObject({ authType: 'anthropic', apiKey: 'sk-x', baseUrl: 'http://flag' });
  const gemini = resolve({
    flags: { openaiApiKey: 'sk-x' },
    env: { GEMINI_API_KEY: 'g', GEMINI_MODEL: 'gm' },
  });
  expect(gemini).toMatchObject({ authType: 'gemini', model: 'gm', apiKey: 'sk-x' });
});

test('model: --model > model.name > OPENAI_MODEL > QWEN_MODEL > first provider entry', () => {
  const settings: Settings = {
    security: { auth: { selectedType: 'openai' } },
    modelProviders: { openai: [{ id: 'first' }, { id: 'second' }] },
  };
  const env = { OPENAI_MODEL: 'env-model', QWEN_MODEL: 'qwen-model' };
  expect(
    resolve({
      flags: { model: 'flag-model' },
      settings: { ...settings, model: { name: 'settings-model' } },
      env,
    }).model,
  ).toBe('flag-model');
  expect(resolve({ settings: { ...settings, model: { name: 'settings-model' } }, env }).model).toBe(
    'settings-model',
  );
  expect(resolve({ settings, env }).model).toBe('env-model');
  expect(resolve({ settings, env: { QWEN_MODEL: 'qwen-model' } }).model).toBe('qwen-model');
  expect(resolve({ settings }).model).toBe('first');
  expect(resolve({ settings: { ...settings, model: { name: '$runtime|openai|raw' } } }).model).toBe('raw');
  const missing = errorOf(() => resolve({ settings: { security: { auth: { selectedType: 'openai' } } } }));
  // No model is part of a provider setup not finished yet (41), not a wrong settings file (52).
  expect(missing).toMatchObject({ kind: 'auth', exitCode: 41, message: 'No model selected for openai.' });
  expect(missing.hint).toContain('-m/--model, set OPENAI_MODEL or QWEN_MODEL, set model.name');
  // A list under a misspelled protocol is why no model was found: said in the same line.
  const misspelled = errorOf(() =>
    resolve({
      settings: {
        security: { auth: { selectedType: 'openai' } },
        modelProviders: { opneai: [{ id: 'r1', envKey: 'RK' }] },
      },
    }),
  );
  expect(misspelled.message).toStartWith(
    'No model selected for openai; the models under modelProviders.opneai are skipped: "opneai" is not a protocol',
  );
  expect(misspelled.message).toEndWith(').');
});

test('the model says where it was chosen, naming the settings file when the files are given', () => {
  const user = '/h/.qwen/settings.json';
  const workspace = '/w/.qwen/settings.json';
  const userSettings: Settings = {
    security: { auth: { selectedType: 'openai' } },
    model: { name: 'user-model' },
    modelProviders: { openai: [{ id: 'first' }] },
  };
  const workspaceSettings: Settings = { modelProviders: { openai: [{ id: 'ws-first' }] } };
  const settingsFiles = [
    { path: user, settings: userSettings },
    { path: workspace, settings: workspaceSettings },
  ];
  const merged: Settings = { ...userSettings, ...workspaceSettings };
  const env = layerEnvironment({
    flags: {},
    processEnv: {},
    dotEnv: { path: '/w/.env', isProject: true, values: { OPENAI_MODEL: 'dotenv-model' } },
    settingsEnv: { values: {}, sources: {} },
    excludedProjectVariables: [],
  });
  const sourceOf = (flags: ResolveFlags, settings: Settings) =>
    resolveModel({ flags, settings, env, settingsFiles }).modelSource;
  expect(sourceOf({ model: 'm' }, merged)).toEqual({ description: 'flag --model' });
  expect(sourceOf({}, merged)).toEqual({ description: user, name: 'model.name' });
  const withoutName = { ...merged, model: {} };
  expect(sourceOf({}, withoutName)).toEqual({ description: '/w/.env', name: 'OPENAI_MODEL' });
  const noEnv = layerEnvironment({
    flags: {},
    processEnv: {},
    settingsEnv: { values: {}, sources: {} },
    excludedProjectVariables: [],
  });
  const first = resolveModel({ flags: {}, settings: withoutName, env: noEnv, settingsFiles });
  expect(first.model).toBe('ws-first');
  expect(first.modelSource).toEqual({ description: `first entry of modelProviders.openai in ${workspace}` });
  // The user's model, listed only in the user file, which the workspace's list hides: said where it is missed.
  const missed = resolveModel({
    flags: {},
    settings: { ...merged, model: { name: 'first' } },
    env: noEnv,
    settingsFiles,
  });
  expect(missed.notes?.[0]).toContain(
    `is not among the openai models in modelProviders (those of ${workspace}, which replace the modelProviders of ${user} whole)`,
  );
  // Without the files (a run, which never shows it), the settings are named in general.
  expect(resolve({ settings: merged }).modelSource).toEqual({ description: 'settings', name: 'model.name' });
  expect(resolve({ flags: { authType: 'qwen-oauth' } }).modelSource?.description).toContain('Qwen OAuth');
});

test('per-protocol model variables', () => {
  expect(
    resolve({ flags: { authType: 'anthropic' }, env: { ANTHROPIC_MODEL: 'claude', OPENAI_MODEL: 'no' } })
      .model,
  ).toBe('claude');
  expect(resolve({ flags: { authType: 'gemini' }, env: { GEMINI_MODEL: 'gem' } }).model).toBe('gem');
  expect(resolve({ flags: { authType: 'vertex-ai' }, env: { GOOGLE_MODEL: 'vx' } }).model).toBe('vx');
});

test('qwen-oauth always uses coder-model and no key', () => {
  const resolved = resolve({
    flags: { authType: 'qwen-oauth', model: 'other' },
    settings: { model: { name: 'x' } },
    env: openaiEnv,
  });
  expect(resolved).toMatchObject({
    authType: 'qwen-oauth',
    protocol: 'openai',
    model: 'coder-model',
    baseUrl: '',
  });
  expect(resolved.apiKey).toBeUndefined();
  // Qwen Code's words when another model was asked for (compat §1); none for coder-model or no choice.
  expect(resolved.notes).toEqual(["Unsupported Qwen OAuth model 'other', falling back to 'coder-model'."]);
  expect(resolve({ flags: { authType: 'qwen-oauth' }, settings: { model: { name: 'x' } } }).notes).toEqual([
    "Unsupported Qwen OAuth model 'x', falling back to 'coder-model'.",
  ]);
  expect(resolve({ flags: { authType: 'qwen-oauth', model: 'coder-model' } }).notes).toBeUndefined();
  expect(resolve({ flags: { authType: 'qwen-oauth' } }).notes).toBeUndefined();
});

test('providerProtocol: a custom provider id serves the protocol it maps to, in the settings order', () => {
  const settings: Settings = {
    security: { auth: { selectedType: 'openai' } },
    providerProtocol: { myrouter: 'openai', claudish: 'anthropic' },
    modelProviders: {
      myrouter: [{ id: 'router-model', baseUrl: 'http://router/v1', envKey: 'ROUTER_KEY' }],
      openai: [{ id: 'plain', baseUrl: 'http://plain/v1' }],
      claudish: [{ id: 'cl', baseUrl: 'http://claudish' }],
    },
  };
  const routed = resolve({ flags: { model: 'router-model' }, settings, env: { ROUTER_KEY: 'rk' } });
  expect(routed).toMatchObject({
    protocol: 'openai',
    model: 'router-model',
    baseUrl: 'http://router/v1',
    apiKey: 'rk',
    apiKeyVariable: 'ROUTER_KEY',
    baseUrlSource: { description: 'settings modelProviders.myrouter (router-model)' },
  });
  expect(routed.notes).toBeUndefined();
  // The first entry serving the protocol, whichever list it sits in.
  expect(resolve({ settings, env: { ROUTER_KEY: 'rk' } })).toMatchObject({
    model: 'router-model',
    modelSource: { description: 'first entry of modelProviders.myrouter in settings' },
  });
  expect(
    resolve({ flags: { authType: 'anthropic', model: 'cl' }, settings, env: { ANTHROPIC_API_KEY: 'ak' } }),
  ).toMatchObject({ protocol: 'anthropic', baseUrl: 'http://claudish', apiKey: 'ak' });
});

test('modelProviders lists no protocol reads are skipped with a warning; qwen-oauth entries quietly', () => {
  const notes = resolve({
    flags: { model: 'p' },
    settings: {
      security: { auth: { selectedType: 'openai' } },
      providerProtocol: { odd: 'carrier-pigeon' },
      modelProviders: {
        openai: [{ id: 'p', baseUrl: 'http://p/v1' }],
        weird: [{ id: 'w' }],
        odd: [{ id: 'o' }],
        'qwen-oauth': [{ id: 'coder-model' }],
      },
    },
    env: { OPENAI_API_KEY: 'k' },
  }).notes;
  const protocols = 'openai, anthropic, gemini, vertex-ai, openai-responses';
  expect(notes).toEqual([
    `Warning: the models under modelProviders.weird are skipped: "weird" is not a protocol and providerProtocol does not map it to one (${protocols}).`,
    `Warning: the models under modelProviders.odd are skipped: providerProtocol maps "odd" to "carrier-pigeon", which is not a protocol (${protocols}).`,
  ]);
});

test('DashScope endpoints (and DASHSCOPE_PROXY_BASE_URL) get its headers and flavour; other hosts do not', () => {
  const at = (baseUrl: string, env: Record<string, string> = {}) =>
    resolve({
      flags: { authType: 'openai', model: 'qwen3-coder-plus' },
      env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: baseUrl, ...env },
    });
  for (const url of [
    'https://coding.dashscope.aliyuncs.com/v1',
    'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    'https://token-plan.cn-beijing.maas.aliyuncs.com/compatible-mode/v1',
    'https://gateway.example.alicloudapi.com/v1',
  ]) {
    const resolved = at(url);
    expect(resolved.dashScope).toBe(true);
    expect(resolved.extraHeaders).toMatchObject({
      'X-DashScope-CacheControl': 'enable',
      'X-DashScope-AuthType': 'openai',
      'X-DashScope-UserAgent': expect.stringMatching(/^QwenCode\/\d+\.\d+\.\d+ \(/),
    });
  }
  expect(at('http://127.0.0.1:9/v1/', { DASHSCOPE_PROXY_BASE_URL: 'http://127.0.0.1:9/v1' }).dashScope).toBe(
    true,
  );
  for (const url of [
    'https://api.openai.com/v1',
    'https://dashscope.aliyuncs.com.evil.example/v1',
    'http://127.0.0.1:9/v1',
  ]) {
    expect(at(url)).not.toHaveProperty('dashScope');
    expect(at(url).extraHeaders).toEqual({ 'User-Agent': qwenCodeUserAgent });
  }
});

test("every target names the client as Qwen Code does: QwenCode/..., or Claude Code's to an Anthropic gateway", () => {
  expect(qwenCodeUserAgent).toMatch(/^QwenCode\/\d+\.\d+\.\d+ \(\w+; \w+\)$/);
  const anthropicAt = (baseUrl: string) =>
    resolve({
      flags: { authType: 'anthropic', model: 'claude-sonnet-4-5' },
      env: { ANTHROPIC_API_KEY: 'k', ...(baseUrl === '' ? {} : { ANTHROPIC_BASE_URL: baseUrl }) },
    }).extraHeaders;
  expect(anthropicAt('')).toEqual({ 'User-Agent': qwenCodeUserAgent });
  expect(anthropicAt('https://api.anthropic.com')).toEqual({ 'User-Agent': qwenCodeUserAgent });
  expect(anthropicAt('https://gateway.example/anthropic')).toEqual({
    'User-Agent': expect.stringMatching(/^claude-cli\/\d+\.\d+\.\d+ \(external, cli\)$/),
    'x-app': 'cli',
  });
  const oauth = resolve({ flags: { authType: 'qwen-oauth' }, env: {} });
  expect(oauth.extraHeaders).toEqual({ 'User-Agent': qwenCodeUserAgent });
});

const twoEndpoints: Settings = {
  security: { auth: { selectedType: 'openai' } },
  modelProviders: {
    openai: [
      {
        id: 'qwen3',
        name: 'Qwen A',
        baseUrl: 'https://a.example/v1',
        envKey: 'A_KEY',
        generationConfig: { timeout: 1 },
      },
      {
        id: 'qwen3',
        name: 'Qwen B',
        baseUrl: 'https://b.example/v1',
        envKey: 'B_KEY',
        generationConfig: { timeout: 2 },
      },
    ],
    anthropic: [{ id: 'qwen3', baseUrl: 'https://c.example' }],
  },
};

test('entry: the first with the id of the auth type; model.baseUrl picks between same ids from settings', () => {
  expect(resolve({ flags: { model: 'qwen3' }, settings: twoEndpoints }).displayName).toBe('Qwen A');
  const picked = resolve({
    settings: { ...twoEndpoints, model: { name: 'qwen3', baseUrl: 'https://b.example/v1/' } },
  });
  expect(picked).toMatchObject({
    displayName: 'Qwen B',
    baseUrl: 'https://b.example/v1',
    apiKeyVariable: 'B_KEY',
  });
  // model.baseUrl only applies to the id that came from settings.
  const flagged = resolve({
    flags: { model: 'qwen3' },
    settings: { ...twoEndpoints, model: { name: 'x', baseUrl: 'https://b.example/v1' } },
  });
  expect(flagged.displayName).toBe('Qwen A');
  // An unknown baseUrl falls back to the first entry with the id.
  expect(
    resolve({ settings: { ...twoEndpoints, model: { name: 'qwen3', baseUrl: 'https://zzz' } } }).displayName,
  ).toBe('Qwen A');
  // An empty model.baseUrl (what Qwen Code's /model and Coding Plan setup write) is no preference: the first.
  expect(resolve({ settings: { ...twoEndpoints, model: { name: 'qwen3', baseUrl: '' } } }).displayName).toBe(
    'Qwen A',
  );
});

test('key: flag > env[envKey] (never swapped for another variable) > protocol variable > legacy settings', () => {
  const settings = { ...twoEndpoints, model: { name: 'qwen3' } };
  const flag = resolve({ flags: { openaiApiKey: 'sk-flag' }, settings, env: { A_KEY: 'a' } });
  expect(flag.apiKey).toBe('sk-flag');
  expect(flag.apiKeySource).toEqual({ description: 'flag --openai-api-key', name: 'OPENAI_API_KEY' });

  const fromEnvKey = resolve({ settings, env: { A_KEY: 'a', OPENAI_API_KEY: 'sk-openai' } });
  expect(fromEnvKey).toMatchObject({
    apiKey: 'a',
    apiKeyVariable: 'A_KEY',
    apiKeySource: { description: 'environment', name: 'A_KEY' },
  });

  const unset = resolve({
    settings: { ...settings, security: { auth: { selectedType: 'openai', apiKey: 'legacy' } } },
    env: { OPENAI_API_KEY: 'sk' },
  });
  expect(unset.apiKey).toBeUndefined();
  expect(unset.apiKeyVariable).toBe('A_KEY');

  const runtime = resolve({
    settings: { security: { auth: { selectedType: 'openai', apiKey: 'legacy' } }, model: { name: 'raw' } },
  });
  expect(runtime).toMatchObject({ apiKey: 'legacy', apiKeyVariable: 'OPENAI_API_KEY' });
  const envWins = resolve({
    settings: { security: { auth: { selectedType: 'openai', apiKey: 'legacy' } }, model: { name: 'raw' } },
    settingsEnv: { OPENAI_API_KEY: 'from-settings-env' },
  });
  expect(envWins.apiKey).toBe('from-settings-env');
  expect(envWins.apiKeySource?.description).toStartWith('settings env');
});

test('key variables per protocol; ANTHROPIC_AUTH_TOKEN becomes a bearer accessToken', () => {
  expect(
    resolve({ flags: { authType: 'anthropic' }, env: { ANTHROPIC_MODEL: 'c', ANTHROPIC_API_KEY: 'ak' } }),
  ).toMatchObject({ apiKey: 'ak', apiKeyVariable: 'ANTHROPIC_API_KEY' });
  const token = resolve({
    flags: { authType: 'anthropic' },
    env: { ANTHROPIC_MODEL: 'c', ANTHROPIC_AUTH_TOKEN: 'tok' },
  });
  expect(token.apiKey).toBeUndefined();
  expect(token.accessToken).toBe('tok');
  // An entry naming ANTHROPIC_API_KEY, as the authentication docs' example does, is the default; another
  // variable is not swapped for the token.
  const entry = (envKey: string) => ({
    flags: { authType: 'anthropic' as const },
    settings: { modelProviders: { anthropic: [{ id: 'claude-a', envKey }] } },
    env: { ANTHROPIC_AUTH_TOKEN: 'tok' },
  });
  expect(resolve(entry('ANTHROPIC_API_KEY')).accessToken).toBe('tok');
  expect(resolve(entry('GATEWAY_KEY')).accessToken).toBeUndefined();
  expect(
    resolve({ flags: { authType: 'gemini' }, env: { GEMINI_MODEL: 'g', GEMINI_API_KEY: 'gk' } }).apiKey,
  ).toBe('gk');
  expect(
    resolve({ flags: { authType: 'vertex-ai' }, env: { GOOGLE_MODEL: 'g', GOOGLE_API_KEY: 'vk' } }).apiKey,
  ).toBe('vk');
});

test('base URL: entry baseUrl > --openai-base-url > protocol variable > default', () => {
  const settings = { ...twoEndpoints, model: { name: 'qwen3' } };
  expect(resolve({ flags: { openaiBaseUrl: 'http://flag' }, settings, env: openaiEnv }).baseUrl).toBe(
    'https://a.example/v1',
  );
  const flag = resolve({ flags: { openaiBaseUrl: 'http://flag' }, env: openaiEnv });
  expect(flag.baseUrl).toBe('http://flag');
  expect(flag.baseUrlSource?.description).toBe('flag --openai-base-url');
  expect(resolve({ env: openaiEnv }).baseUrl).toBe('http://env/v1');
  expect(
    resolve({
      flags: { authType: 'anthropic' },
      env: { ANTHROPIC_MODEL: 'c', ANTHROPIC_BASE_URL: 'http://a' },
    }).baseUrl,
  ).toBe('http://a');
  expect(
    resolve({ flags: { authType: 'gemini' }, env: { GEMINI_MODEL: 'g', GOOGLE_GEMINI_BASE_URL: 'http://g' } })
      .baseUrl,
  ).toBe('http://g');
  expect(
    resolve({
      flags: { authType: 'vertex-ai' },
      env: { GOOGLE_MODEL: 'g', GOOGLE_VERTEX_BASE_URL: 'http://v' },
    }).baseUrl,
  ).toBe('http://v');
  expect(resolve({ flags: { authType: 'gemini' }, env: { GEMINI_MODEL: 'g' } }).baseUrl).toBe('');
});

test('a negative generationConfig.timeout means none, as in Qwen Code, and the run says so', () => {
  const provider = resolve({
    settings: {
      security: { auth: { selectedType: 'openai' } },
      modelProviders: { openai: [{ id: 'p', generationConfig: { timeout: -1 } }] },
    },
    env: { QWEN_CODE_API_TIMEOUT_MS: '777' },
  });
  // The setting wins over the variable, as any timeout the entry sets does.
  expect(provider.generationConfig.timeout).toBe(-1);
  expect(provider.notes).toEqual([
    'Note: generationConfig.timeout of the modelProviders.openai entry "p" is -1, which means no request timeout (as 0 does, in Qwen Code too); set 0 to say so, or a number of milliseconds.',
  ]);
  const zero = resolve({
    settings: {
      security: { auth: { selectedType: 'openai' } },
      modelProviders: { openai: [{ id: 'p', generationConfig: { timeout: 0 } }] },
    },
  });
  expect(zero.notes).toBeUndefined();
});

test('generationConfig: from the entry only; model.generationConfig for models outside modelProviders', () => {
  const entryConfig = {
    timeout: 5000,
    maxRetries: 1,
    samplingParams: { temperature: 0.2, reasoning_effort: 'low' },
    customHeaders: { 'X-Test': '1' },
    extra_body: { enable_thinking: false },
    contextWindowSize: 1000,
  };
  const settings: Settings = {
    security: { auth: { selectedType: 'openai' } },
    model: { name: 'p', generationConfig: { timeout: 1, samplingParams: { top_k: 3 } } },
    modelProviders: { openai: [{ id: 'p', generationConfig: entryConfig }] },
  };
  const provider = resolve({ settings });
  // Qwen Code's warning (compat §3): the entry's generationConfig is the one that counts.
  expect(provider.notes).toEqual([
    'Warning: model.generationConfig.timeout, model.generationConfig.samplingParams are ignored for provider model "p" from modelProviders.openai. Move them to modelProviders.openai[].generationConfig.',
  ]);
  expect(provider.generationConfig).toEqual({
    timeout: 5000,
    // What a message about the timeout names: the setting that set it, no other.
    timeoutSetting: 'generationConfig.timeout of the modelProviders.openai entry "p" in settings.json',
    maxRetries: 1,
    samplingParams: { temperature: 0.2, reasoning_effort: 'low' },
    customHeaders: { 'X-Test': '1' },
    extra_body: { enable_thinking: false },
  });
  const raw = resolve({ flags: { model: 'raw' }, settings });
  expect(raw.generationConfig).toEqual({
    timeout: 1,
    timeoutSetting: 'model.generationConfig.timeout in settings.json',
    samplingParams: { top_k: 3 },
  });
  // Not in the list, and no URL set: the protocol's default endpoint, which the note names.
  expect(raw.notes).toEqual([
    'Note: model "raw" is not among the openai models in modelProviders, so it goes to https://api.openai.com/v1; add it there to use it at the provider set up for them.',
  ]);
  const anthropic = resolve({
    flags: { model: 'other' },
    settings: {
      security: { auth: { selectedType: 'anthropic' } },
      modelProviders: { anthropic: [{ id: 'claude-x', baseUrl: 'http://gw/anthropic' }] },
    },
    env: { ANTHROPIC_API_KEY: 'sk-ant-test-1234567890' },
  });
  expect(anthropic.notes).toEqual([
    'Note: model "other" is not among the anthropic models in modelProviders, so it goes to anthropic\'s own endpoint with ANTHROPIC_API_KEY; add it there to use it at the provider set up for them.',
  ]);
  // A URL set for it (OPENAI_BASE_URL, --openai-base-url) is a choice: nothing to say.
  expect(
    resolve({ flags: { model: 'raw' }, settings, env: { OPENAI_BASE_URL: 'http://gw/v1' } }).notes,
  ).toBeUndefined();
  expect(
    resolve({
      flags: { model: 'raw' },
      settings: { security: settings.security },
      env: { QWEN_CODE_API_TIMEOUT_MS: '777' },
    }).generationConfig,
  ).toEqual({ timeout: 777, timeoutSetting: 'QWEN_CODE_API_TIMEOUT_MS' });
  // A value that is not milliseconds is not used, and the run says so rather than keep the default silently.
  for (const value of ['2m', '-5']) {
    const ignored = resolve({
      flags: { model: 'raw' },
      settings: { security: settings.security },
      env: { QWEN_CODE_API_TIMEOUT_MS: value },
    });
    expect(ignored.generationConfig).toEqual({});
    expect(ignored.notes).toEqual([
      `Ignoring QWEN_CODE_API_TIMEOUT_MS="${value}": it takes a number of milliseconds, such as 120000.`,
    ]);
  }
});

test('QWEN_CODE_MAX_OUTPUT_TOKENS caps the answer unless the entry sets max_tokens; a bad value is noted', () => {
  const at = (env: Record<string, string>, samplingParams?: Record<string, number>) =>
    resolve({
      settings: {
        security: { auth: { selectedType: 'openai' } },
        model: { name: 'm' },
        modelProviders: {
          openai: [{ id: 'm', baseUrl: 'http://gw/v1', envKey: 'K', generationConfig: { samplingParams } }],
        },
      },
      env: { K: 'k', ...env },
    });
  expect(at({ QWEN_CODE_MAX_OUTPUT_TOKENS: '777' }).generationConfig.samplingParams).toEqual({
    max_tokens: 777,
  });
  expect(
    at({ QWEN_CODE_MAX_OUTPUT_TOKENS: '777' }, { temperature: 0.2 }).generationConfig.samplingParams,
  ).toEqual({ temperature: 0.2, max_tokens: 777 });
  expect(
    at({ QWEN_CODE_MAX_OUTPUT_TOKENS: '777' }, { max_tokens: 1234 }).generationConfig.samplingParams,
  ).toEqual({ max_tokens: 1234 });
  for (const value of ['8k', '0', '1.5']) {
    const ignored = at({ QWEN_CODE_MAX_OUTPUT_TOKENS: value });
    expect(ignored.generationConfig.samplingParams).toBeUndefined();
    expect(ignored.notes).toContain(
      `Ignoring QWEN_CODE_MAX_OUTPUT_TOKENS="${value}": it takes a whole number of tokens, such as 8192.`,
    );
  }
});

test('vertex-ai without a key uses the Google Cloud project', () => {
  const project = resolve({ env: { GOOGLE_CLOUD_PROJECT: 'proj', GOOGLE_MODEL: 'gemini-2.5-pro' } });
  expect(project.googleCloud).toEqual({ project: 'proj', location: 'global' });
  const located = resolve({
    env: { GOOGLE_CLOUD_PROJECT: 'proj', GOOGLE_CLOUD_LOCATION: 'europe-west4', GOOGLE_MODEL: 'g' },
  });
  expect(located.googleCloud).toEqual({ project: 'proj', location: 'europe-west4' });
  expect(
    resolve({ env: { GOOGLE_CLOUD_PROJECT: 'proj', GOOGLE_API_KEY: 'k', GOOGLE_MODEL: 'g' } }).googleCloud,
  ).toBeUndefined();
});

test('security.auth.enforcedType rejects another auth type', () => {
  const error = errorOf(() =>
    resolve({ settings: { security: { auth: { enforcedType: 'vertex-ai' } } }, env: openaiEnv }),
  );
  expect(error.kind).toBe('auth');
  expect(error.message).toBe('The configured auth type is vertex-ai, but the current auth type is openai.');
});

test('a base URL with another scheme is a URL: the message says only http:// and https:// are supported', () => {
  const source = { description: 'settings modelProviders.openai (m)', name: 'baseUrl' };
  const failure = errorOf(() => assertValidBaseUrl('ftp://x/v1', source));
  expect(failure.exitCode).toBe(52);
  expect(failure.message).toBe(
    'The base URL ftp://x/v1 uses ftp://, which is not supported: only http:// and https:// are',
  );
  expect(errorOf(() => assertValidBaseUrl('file:///tmp/socket', source)).message).toContain(
    'uses file://, which is not supported',
  );
  // A scheme-less host:port is no URL with a scheme, whatever URL makes of `localhost:`.
  expect(errorOf(() => assertValidBaseUrl('localhost:8080/v1', source)).message).toBe(
    'The base URL is not a valid URL: localhost:8080/v1',
  );
});

test('a base URL with a variable left unexpanded names the variable that is not set', () => {
  const source = { description: 'settings modelProviders.openai (m)', name: 'baseUrl' };
  // The reference as settings keep it when the variable is unset.
  const unexpanded = `${'$'}{LLM_GATEWAY}/v1`;
  const failure = errorOf(() => assertValidBaseUrl(unexpanded, source));
  expect(failure.exitCode).toBe(52);
  expect(failure.message).toBe(`The base URL is not a valid URL: ${unexpanded} (LLM_GATEWAY is not set)`);
  expect(failure.hint).toStartWith("Set LLM_GATEWAY (in the environment, a .env file or the settings' env)");
  expect(errorOf(() => assertValidBaseUrl('htp:/x', source)).message).toBe(
    'The base URL is not a valid URL: htp:/x',
  );
});
