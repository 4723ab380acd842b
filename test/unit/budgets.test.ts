import { describe, expect, test } from 'bun:test';
import { parseFallbackModels } from '../../src/cli/fallback.ts';
import { parseWallTime } from '../../src/cli/wall-time.ts';

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
