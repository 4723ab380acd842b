import { expect, test } from 'bun:test';
import { statsJson } from '../../src/render/run-stats.ts';

test("stats: each model's requests, errors and latency; tokens for the model that answered", () => {
  const stats = statsJson(
    [
      { model: 'primary', requests: 4, errors: 4, latencyMs: 1234.6 },
      { model: 'spare', requests: 1, errors: 0, latencyMs: 80.2 },
    ],
    'spare',
    { inputTokens: 12, outputTokens: 5, totalTokens: 17, cachedInputTokens: 3, reasoningTokens: 2 },
  );
  expect(stats['models']).toEqual({
    primary: {
      api: { totalRequests: 4, totalErrors: 4, totalLatencyMs: 1235 },
      tokens: { prompt: 0, candidates: 0, total: 0, cached: 0, thoughts: 0, tool: 0 },
    },
    spare: {
      api: { totalRequests: 1, totalErrors: 0, totalLatencyMs: 80 },
      tokens: { prompt: 12, candidates: 5, total: 17, cached: 3, thoughts: 2, tool: 0 },
    },
  });
  expect(stats).toMatchObject({ tools: { totalCalls: 0, byName: {} }, files: { totalLinesAdded: 0 } });
});
