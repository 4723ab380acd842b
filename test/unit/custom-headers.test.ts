import { expect, test } from 'bun:test';
import { layerEnvironment } from '../../src/config/env.ts';
import { resolveModel } from '../../src/config/resolve.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { errorOf, testConfigPaths } from './helpers.ts';

const paths = testConfigPaths;

/** The failure of a run whose settings files are these (path -> content), as the CLI loads and resolves them. */
function failureWith(files: Record<string, object>) {
  const loaded = loadSettings(paths, {
    readFile: (path) => (files[path] === undefined ? undefined : JSON.stringify(files[path])),
    env: {},
  });
  const env = layerEnvironment({
    flags: {},
    processEnv: { OPENAI_API_KEY: 'sk-test' },
    settingsEnv: { values: {}, sources: {} },
    excludedProjectVariables: [],
  });
  return errorOf(() =>
    resolveModel({ flags: {}, settings: loaded.merged, env, settingsFiles: loaded.files }),
  );
}

const selected = { security: { auth: { selectedType: 'openai' } } };
const nameProblem = 'a header name holds only letters, digits and - (no spaces, colons or accents).';

test('a header name that cannot be sent names the file, the JSON path, and how a name looks', () => {
  const failure = failureWith({
    [paths.userSettings]: selected,
    [paths.workspaceSettings]: {
      modelProviders: {
        openai: [{ id: 'other' }, { id: 'm', generationConfig: { customHeaders: { 'X A': 'v' } } }],
      },
      model: { name: 'm' },
    },
  });
  expect(failure.exitCode).toBe(52);
  expect(failure.message).toBe(
    `${paths.workspaceSettings}: modelProviders.openai[1].generationConfig.customHeaders: the header name "X A" cannot be sent: ${nameProblem}`,
  );
  expect(failure.hint).toBe(
    'Rename the header there: a name is one word such as X-Request-Id, and what follows a colon or a space belongs in its value.',
  );
});

test('the path is the one the file has: the old { protocol, models } form, a custom list name', () => {
  const legacy = failureWith({
    [paths.userSettings]: {
      ...selected,
      modelProviders: {
        openai: {
          protocol: 'openai',
          models: [{ id: 'm', generationConfig: { customHeaders: { 'X:Y': 'v' } } }],
        },
      },
    },
  });
  expect(legacy.message).toStartWith(
    `${paths.userSettings}: modelProviders.openai.models[0].generationConfig.customHeaders: the header name "X:Y"`,
  );
  const custom = failureWith({
    [paths.userSettings]: {
      ...selected,
      providerProtocol: { 'my router': 'openai' },
      modelProviders: {
        'my router': [{ id: 'm', generationConfig: { customHeaders: { 'X-A': 'line\nbreak' } } }],
      },
    },
  });
  expect(custom.message).toBe(
    `${paths.userSettings}: modelProviders["my router"][0].generationConfig.customHeaders: the value of the header "X-A" cannot be sent: it has a line break (U+000A) at position 5.`,
  );
  expect(custom.hint).toBe('Fix the value there (a value set from a multi-line variable has line breaks).');
});

test('model.generationConfig headers: the file that sets the header, by the key it has (flat layout too)', () => {
  const nested = failureWith({
    [paths.userSettings]: {
      ...selected,
      model: { name: 'raw', generationConfig: { customHeaders: { 'Bad Name': 'v' } } },
    },
    [paths.workspaceSettings]: { model: { generationConfig: { customHeaders: { 'X-Good': 'v' } } } },
  });
  expect(nested.message).toStartWith(
    `${paths.userSettings}: model.generationConfig.customHeaders: the header name "Bad Name"`,
  );
  const flat = failureWith({
    [paths.userSettings]: {
      selectedAuthType: 'openai',
      model: 'raw',
      contentGenerator: { customHeaders: { 'Bad Name': 'v' } },
    },
  });
  expect(flat.message).toStartWith(
    `${paths.userSettings}: contentGenerator.customHeaders: the header name "Bad Name"`,
  );
});
