// The `stats` object of a JSON result, in the shape Qwen Code inherits from Gemini CLI's session metrics
// (`stats.models[<model>].api` and `.tokens`, then `tools` and `files`), so a CI script reading
// `.stats.models[].tokens.prompt` works with either tool. qwen-lite runs no tools and edits no files: those
// counters are zeros.
import type { JsonObject, Usage } from '../core/types.ts';

/** The requests one model was sent in a run: every attempt counts, a retried or final failure is an error. */
export interface ModelRequests {
  model: string;
  requests: number;
  errors: number;
  latencyMs: number;
}

export function statsJson(
  requests: readonly ModelRequests[],
  answeringModel: string,
  usage: Usage | undefined,
): JsonObject {
  const models: JsonObject = {};
  for (const entry of requests) {
    const tokens = entry.model === answeringModel ? usage : undefined;
    models[entry.model] = {
      api: {
        totalRequests: entry.requests,
        totalErrors: entry.errors,
        totalLatencyMs: Math.round(entry.latencyMs),
      },
      tokens: {
        prompt: tokens?.inputTokens ?? 0,
        candidates: tokens?.outputTokens ?? 0,
        total: tokens?.totalTokens ?? 0,
        cached: tokens?.cachedInputTokens ?? 0,
        thoughts: tokens?.reasoningTokens ?? 0,
        tool: 0,
      },
    };
  }
  return {
    models,
    tools: {
      totalCalls: 0,
      totalSuccess: 0,
      totalFail: 0,
      totalDurationMs: 0,
      totalDecisions: { accept: 0, reject: 0, modify: 0, auto_accept: 0 },
      byName: {},
    },
    files: { totalLinesAdded: 0, totalLinesRemoved: 0 },
  };
}
