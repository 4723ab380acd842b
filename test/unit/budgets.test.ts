import { describe, expect, test } from 'bun:test';
import { parseFallbackModels, streamWithFallbacks } from '../../src/cli/fallback.ts';
import { parseWallTime, startWallTimer } from '../../src/cli/wall-time.ts';
import { CliError } from '../../src/core/errors.ts';
import { startFakeOpenAi } from '../fakes/openai-server.ts';

test('the wall-time message gives the limit with its unit: a bare number is seconds', async () => {
  const reasonFor = async (typed: string) => {
    const controller = new AbortController();
    startWallTimer({ milliseconds: 1, typed }, controller);
    await new Promise((resolve) => controller.signal.addEventListener('abort', resolve));
    return (controller.signal.reason as CliError).message;
  };
  expect(await reasonFor('2')).toBe('Reached the wall-time limit of 2 s (--max-wall-time).');
  expect(await reasonFor('1500ms')).toBe('Reached the wall-time limit of 1500ms (--max-wall-time).');
});

describe('parseWallTime', () => {
  test('plain numbers are seconds; ms, s, m and h combine', () => {
    expect(parseWallTime('90')).toBe(90_000);
    expect(parseWallTime('1500ms')).toBe(1500);
    expect(parseWallTime('2.5m')).toBe(150_000);
    expect(parseWallTime('1h30m')).toBe(5_400_000);
    expect(parseWallTime(' 30S ')).toBe(30_000);
  });

  test('-1 means no limit; zero, words and spaces are refused', () => {
    expect(parseWallTime('-1')).toBeUndefined();
    for (const bad of ['0', '0s', '', 'soon', '5 min', '1x', '-5', 'ms']) {
      expect(() => parseWallTime(bad)).toThrow('--max-wall-time takes a duration');
    }
  });
});

describe('parseFallbackModels', () => {
  test('a comma-separated list, trimmed, without repeats', () => {
    expect(parseFallbackModels(undefined)).toEqual([]);
    expect(parseFallbackModels(' b , c,,b,a ')).toEqual(['b', 'c', 'a']);
  });

  test('more than three is refused', () => {
    expect(() => parseFallbackModels('b,c,d,e')).toThrow('at most 3 models, not 4');
  });
});

describe('streamWithFallbacks', () => {
  const limited = {
    status: 429,
    headers: { 'retry-after-ms': '1' },
    body: { error: { message: 'Slow down' } },
  };
  const sessionFor = (url: string, model: string) => ({
    target: {
      authType: 'openai' as const,
      protocol: 'openai' as const,
      model,
      baseUrl: url,
      apiKey: 'sk-unit',
      generationConfig: { maxRetries: 0 },
    },
  });
  const options = (signal?: AbortSignal) => ({
    onEvent: () => undefined,
    hasShownOutput: () => false,
    ...(signal ? { signal } : {}),
  });

  test('a fallback that cannot be prepared is skipped; with none left, the first failure stands', async () => {
    const fake = startFakeOpenAi([limited]);
    try {
      const skipped: string[] = [];
      const failure = await streamWithFallbacks(
        sessionFor(fake.url, 'primary'),
        [{ role: 'user', content: 'x' }],
        options(),
        [{ model: 'keyless', prepare: () => Promise.reject(new CliError('auth', 'No API key.')) }],
        { onFallback: () => undefined, onSkipped: (model, reason) => skipped.push(`${model}: ${reason}`) },
      ).catch((error: unknown) => error);
      expect(failure).toMatchObject({ status: 429, exitCode: 1 });
      expect(skipped).toEqual(['keyless: No API key.']);
    } finally {
      await fake.stop();
    }
  });

  test('the time budget (or Ctrl+C) running out while a fallback is prepared ends the turn with it', async () => {
    const fake = startFakeOpenAi([limited]);
    try {
      const controller = new AbortController();
      const budget = new CliError('budget', 'Reached the wall-time limit of 1s (--max-wall-time).');
      const prepared: string[] = [];
      const failure = await streamWithFallbacks(
        sessionFor(fake.url, 'primary'),
        [{ role: 'user', content: 'x' }],
        options(controller.signal),
        ['first', 'second'].map((model) => ({
          model,
          prepare: () => {
            prepared.push(model);
            controller.abort(budget);
            return Promise.reject(budget);
          },
        })),
        { onFallback: () => undefined, onSkipped: () => undefined },
      ).catch((error: unknown) => error);
      expect(failure).toBe(budget);
      expect(prepared).toEqual(['first']);
    } finally {
      await fake.stop();
    }
  });
});
