// Qwen Code's headless JSON shapes (compat note section 5): a system/init object, one assistant message,
// and a result. `json` prints them as one array at the end, `stream-json` as one object per line, and with
// partial messages (--include-partial-messages) also the answer as it arrives, in Anthropic's stream events.
import type { CliError } from '../core/errors.ts';
import { isEmptyDelta, type StreamEvent } from '../core/events.ts';
import type { JsonObject, Usage } from '../core/types.ts';
import type { Renderer, TurnOutcome, Write } from './renderer.ts';
import { statsJson } from './run-stats.ts';

export interface JsonRendererOptions {
  /** stream-json only: `stream_event` lines for the message and each piece of its text. */
  partialMessages?: boolean;
  /** The run's id, also sent where settings ask for it (`${session_id}` in customHeaders). */
  sessionId?: string;
}

export function createJsonRenderer(
  write: Write,
  mode: 'json' | 'stream-json',
  options: JsonRendererOptions = {},
): Renderer {
  const collected: JsonObject[] = [];
  /** The run's model, until a fallback takes over. */
  let answeringModel = '';
  const toolUses: JsonObject[] = [];
  // Memory: the answer's text is in the last objects (twice: the assistant message and the result), so each
  // object is serialized and written on its own, and a long line is written without copying it again to
  // append its newline. A 20 MiB answer peaked at 330 MB in -o json when the array was one string.
  const writeLine = (json: string) => {
    if (json.length < longLine) write(`${json}\n`);
    else {
      write(json);
      write('\n');
    }
  };
  const emit = (value: JsonObject) => {
    if (mode === 'stream-json') writeLine(JSON.stringify(value));
    else collected.push(value);
  };
  const flush = () => {
    if (mode !== 'json') return;
    // Short pieces are gathered, so a usual answer is one write (one system call); a long object is still
    // serialized and written on its own.
    let gathered = '';
    const add = (text: string) => {
      if (gathered.length + text.length < longLine) {
        gathered += text;
        return;
      }
      if (gathered !== '') write(gathered);
      gathered = '';
      write(text);
    };
    collected.forEach((value, index) => {
      add(index === 0 ? '[' : ',');
      add(JSON.stringify(value));
    });
    add(']\n');
    if (gathered !== '') write(gathered);
  };
  // A run that fails before it has one (no authentication) still says a session id.
  const sessionId = options.sessionId ?? crypto.randomUUID();
  const common = () => ({ uuid: crypto.randomUUID(), session_id: sessionId });
  const messageId = `msg_${crypto.randomUUID().replaceAll('-', '')}`;
  const partial = mode === 'stream-json' && options.partialMessages === true;
  let partialStarted = false;
  const streamEvent = (event: JsonObject) =>
    emit({ type: 'stream_event', ...common(), parent_tool_use_id: null, event });
  // Opened at the first piece of text: only then is a retry no longer possible (headless.ts).
  const openPartialMessage = () => {
    partialStarted = true;
    streamEvent({
      type: 'message_start',
      message: { id: messageId, type: 'message', role: 'assistant', model: answeringModel, content: [] },
    });
    streamEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  };
  const closePartialMessage = () => {
    if (!partialStarted) return;
    streamEvent({ type: 'content_block_stop', index: 0 });
    streamEvent({ type: 'message_stop' });
  };

  // `text`: the outcome's text made well-formed once for both objects that carry it. A lone surrogate from
  // the server (`\ud83d` with no partner) becomes U+FFFD, as in text mode's UTF-8: JSON.stringify would keep
  // it as an escape that jq and other strict parsers refuse.
  const assistantMessage = (outcome: TurnOutcome, text: string): JsonObject => ({
    type: 'assistant',
    ...common(),
    parent_tool_use_id: null,
    message: {
      id: messageId,
      type: 'message',
      role: 'assistant',
      model: answeringModel,
      content: [...(text ? [{ type: 'text', text }] : []), ...toolUses],
      stop_reason: outcome.finishReason ?? null,
      usage: usageJson(outcome.usage),
    },
  });

  const result = (outcome: TurnOutcome, text: string, error?: CliError): JsonObject => ({
    type: 'result',
    subtype: error ? 'error_during_execution' : 'success',
    ...common(),
    is_error: Boolean(error),
    duration_ms: Math.round(outcome.durationMs),
    duration_api_ms: Math.round(outcome.apiDurationMs),
    // One turn, or none when the run failed before asking any model (Qwen Code says 0 then too).
    num_turns: outcome.requests === undefined ? 0 : 1,
    result: text,
    usage: usageJson(outcome.usage),
    permission_denials: [],
    stats: statsJson(outcome.requests ?? [], answeringModel, outcome.usage),
    ...(error ? { error: { message: error.message, exit_code: error.exitCode } } : {}),
  });

  return {
    start(runInfo) {
      answeringModel = runInfo.model;
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
    switchModel(model) {
      answeringModel = model;
    },
    event(event: StreamEvent) {
      if (partial && event.type === 'text-delta' && !isEmptyDelta(event)) {
        if (!partialStarted) openPartialMessage();
        streamEvent({
          type: 'content_block_delta',
          index: 0,
          // Each line must parse on its own: a lone surrogate (a pair split across deltas) becomes U+FFFD.
          delta: { type: 'text_delta', text: event.text.toWellFormed() },
        });
      }
      if (event.type === 'tool-call') {
        toolUses.push({ type: 'tool_use', id: event.id, name: event.name, input: event.arguments });
      }
    },
    finish(outcome) {
      closePartialMessage();
      const text = outcome.text.toWellFormed();
      emit(assistantMessage(outcome, text));
      emit(result(outcome, text));
      flush();
    },
    fail(error, outcome) {
      closePartialMessage();
      const text = outcome.text.toWellFormed();
      if (text || toolUses.length > 0) emit(assistantMessage(outcome, text));
      emit(result(outcome, text, error));
      flush();
    },
  };
}

/** A line this long is written apart from its newline: appending would copy it once more. */
const longLine = 64 * 1024;

function usageJson(usage: Usage | undefined): JsonObject {
  return {
    input_tokens: usage?.inputTokens ?? 0,
    output_tokens: usage?.outputTokens ?? 0,
    cache_read_input_tokens: usage?.cachedInputTokens ?? 0,
    total_tokens: usage?.totalTokens ?? 0,
  };
}
