import { expect, test } from 'bun:test';
import { isVariableName, keyVariableMistake, looksLikeKey } from '../../src/core/key-variable.ts';

test('variable names are POSIX names: letters, digits, underscore, not starting with a digit', () => {
  for (const name of ['OPENAI_API_KEY', '_X', 'a1', 'BAILIAN_CODING_PLAN_API_KEY']) {
    expect(isVariableName(name)).toBe(true);
  }
  for (const name of ['', '1KEY', 'sk-test-SECRET1234567890', 'MY KEY', 'KEY=1', 'clé']) {
    expect(isVariableName(name)).toBe(false);
  }
});

test('a key in envKey is shown masked, saying what envKey is for; a proper name is no mistake', () => {
  expect(keyVariableMistake('MY_KEY', 'OPENAI_API_KEY')).toBeUndefined();
  const mistake = keyVariableMistake('sk-test-SECRET1234567890', 'GEMINI_API_KEY');
  expect(mistake).toBe(
    'envKey "sk-...7890" is not a variable name: envKey names the environment variable that holds the key ' +
      '(for example GEMINI_API_KEY), not the key itself',
  );
  expect(mistake).not.toContain('SECRET');
});

test('keys that pass for variable names are told apart from names (the wizard refuses them, envKey says so)', () => {
  for (const key of [
    'AIzaSyD8kQ2xWm3LpR7vT9nB4cF6hJ1gK5sE0aZ',
    'gsk_Q2bT7xWm3LpR7vT9nB4cF6hJ1gK5sE0aZ9kQ2xWm3LpR7vT9nB4cF6',
    'fw_3ZkQ2xWm3LpR7vT9nB4cF6hJ1',
    'Q2bT7xWm3LpR7vT9nB4cF6hJ1gK5sE0aZ9kQ',
    // Hex keys, all in one case: 40 and 64 characters.
    'ab12cd34ef56ab78cd90ef12ab34cd56ef78ab90',
    'e10dc4e9cd3f63258a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3dc6e2a5b6',
    'E10DC4E9CD3F63258A1B2C3D4E5F60718293A4B5',
  ]) {
    expect(looksLikeKey(key)).toBe(true);
    expect(keyVariableMistake(key, 'GEMINI_API_KEY')).toContain('is not a variable name');
    expect(keyVariableMistake(key, 'GEMINI_API_KEY')).not.toContain(key);
  }
  for (const name of [
    'OPENAI_API_KEY',
    'BAILIAN_CODING_PLAN_API_KEY',
    'MyAppKey2024ForGeminiProduction',
    'MyCompanyOpenAIKey2024Production',
    'MyCompanyOpenAIKey2024Production2025',
    'my_company_gateway_key_2024',
    'xai_api_key_production',
    'github_pat_for_release_bot',
    'hf_token_for_inference_api',
    'sk_openai_key_for_project',
    'AIza',
    'OPENAI2_API_KEY_FOR_TEAM_1_PROJECT_2',
    'KEYFORTHEPRODUCTIONGATEWAYOFOURTEAM2024',
  ]) {
    expect(looksLikeKey(name)).toBe(false);
  }
});
