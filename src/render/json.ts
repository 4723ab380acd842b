// Qwen Code's headless JSON shapes (compat note section 5): a system/init object, one assistant message,
// and a result. `json` prints them as one array at the end, `stream-json` as one object per line.
import type { CliError } from '../core/errors.ts';
import type { StreamEvent } from '../core/events.ts';
import type { Usage } from '../core/types.ts';
import type { Renderer, RunInfo, TurnOutcome, Write } from './renderer.ts';

type JsonObject = Record<string, unknown>;

export function createJsonRenderer(write: Write, mode: 'json' | 'stream-json'): Renderer {
  const collected: JsonObject[] = [];
  let info: RunInfo | undefined;
  const toolUses: JsonObject[] = [];
  const emit = (value: JsonObject) => {
    if (mode === 'stream-json') write(`${JSON.stringify(value)}\n`);
    else collected.push(value);
  };
  const flush = () => {
    if (mode === 'json') write(`${JSON.stringify(collected)}\n`);
  };
  // Made here, not by the caller: a text-mode run has no use for a session id.
  const sessionId = crypto.randomUUID();
  const common = () => ({ uuid: crypto.randomUUID(), session_id: sessionId });

  const assistantMessage = (outcome: TurnOutcome): JsonObject => ({
    type: 'assistant',
    ...common(),
    parent_tool_use_id: null,
    message: {
      id: `msg_${crypto.randomUUID().replaceAll('-', '')}`,
      type: 'message',
      role: 'assistant',
      model: info?.model ?? '',
      content: [...(outcome.text ? [{ type: 'text', text: outcome.text.toWellFormed() }] : []), ...toolUses],
      stop_reason: outcome.finishReason ?? null,
      usage: usageJson(outcome.usage),
    },
  });

  const result = (outcome: TurnOutcome, error?: CliError): JsonObject => ({
    type: 'result',
    subtype: error ? 'error_during_execution' : 'success',
    ...common(),
    is_error: Boolean(error),
    duration_ms: Math.round(outcome.durationMs),
    duration_api_ms: Math.round(outcome.apiDurationMs),
    num_turns: 1,
    // A lone surrogate from the server (`\ud83d` with no partner) becomes U+FFFD, as in text mode's UTF-8:
    // JSON.stringify would keep it as an escape that jq and other strict parsers refuse.
    result: outcome.text.toWellFormed(),
    usage: usageJson(outcome.usage),
    permission_denials: [],
    ...(error ? { error: { message: error.message, exit_code: error.exitCode } } : {}),
  });

  return {
    start(runInfo) {
      info = runInfo;
      emit({
        type: 'system',
        subtype: 'init',
        ...common(),
        cwd: runInfo.cwd,
        tools: [],
        mcp_servers: [],
        model: runInfo.model,
        permission_mode: 'default',
        slash_commands: [],
        qwen_code_version: runInfo.version,
        agents: [],
      });
    },
    event(event: StreamEvent) {
      if (event.type === 'tool-call') {
        toolUses.push({ type: 'tool_use', id: event.id, name: event.name, input: event.arguments });
      }
    },
    finish(outcome) {
      emit(assistantMessage(outcome));
      emit(result(outcome));
      flush();
    },
    fail(error, outcome) {
      if (outcome.text || toolUses.length > 0) emit(assistantMessage(outcome));
      emit(result(outcome, error));
      flush();
    },
  };
}

function usageJson(usage: Usage | undefined): JsonObject {
  return {
    input_tokens: usage?.inputTokens ?? 0,
    output_tokens: usage?.outputTokens ?? 0,
    cache_read_input_tokens: usage?.cachedInputTokens ?? 0,
    total_tokens: usage?.totalTokens ?? 0,
  };
}
