import { expect, test } from 'bun:test';
import { isVariableName, keyVariableMistake } from '../../src/core/key-variable.ts';

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
