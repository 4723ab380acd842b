// Qwen Code's headless JSON shapes (compat note section 5, and its JSON output adapters): a system/init
// object, the answer as assistant messages, and a result. As in Qwen Code, an assistant message holds blocks
// of one type (thinking, text or tool_use): a new one starts when the type changes, so reasoning, then text,
// then tool calls are three messages. `json` prints them as one array at the end, `stream-json` as one object
// per line as each message ends, and with partial messages (--include-partial-messages) also the answer as
// it arrives, in Anthropic's stream events.

import type { CliError } from '../core/errors.ts';
import { isEmptyDelta, type StreamEvent } from '../core/events.ts';
import { createGatheredText, type GatheredText } from '../core/gathered-text.ts';
import type { JsonObject, Usage } from '../core/types.ts';
import type { Renderer, TurnOutcome, Write } from './renderer.ts';
import { statsJson } from './run-stats.ts';

export interface JsonRendererOptions {
  /** stream-json only: `stream_event` lines for the message and each piece of its text. */
  partialMessages?: boolean;
  /** The run's id, also sent where settings ask for it (`${session_id}` in customHeaders). */
  sessionId?: string;
  /** system/init's permission_mode: the approval mode asked for (-y, --approval-mode), as Qwen Code says it. */
  permissionMode?: string;
}

type BlockType = 'thinking' | 'text' | 'tool_use';

/** The assistant message being built: one text or thinking block, or any number of tool_use blocks. */
interface OpenMessage {
  id: string;
  type: BlockType;
  /** The text or thinking block's text so far. */
  text: GatheredText;
  toolUses: JsonObject[];
}

export function createJsonRenderer(
  write: Write,
  mode: 'json' | 'stream-json',
  options: JsonRendererOptions = {},
): Renderer {
  const collected: JsonObject[] = [];
  /** The run's model, until a fallback takes over. */
  let answeringModel = '';
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
  const partial = mode === 'stream-json' && options.partialMessages === true;
  const streamEvent = (event: JsonObject) => {
    if (partial) emit({ type: 'stream_event', ...common(), parent_tool_use_id: null, event });
  };

  let open: OpenMessage | undefined;
  /**
   * message_start was sent: once a turn (an attempt that answers), at its first block, whatever messages the
   * blocks then fill.
   */
  let turnStarted = false;
  /** The answer's text, each text message's joined: the result's `result`. */
  const answerTexts: string[] = [];

  /** The open message, or a new one when the block type changes (the one before ends then). */
  const messageFor = (type: BlockType): OpenMessage => {
    if (open?.type === type) return open;
    endMessage(undefined);
    open = {
      id: `msg_${crypto.randomUUID().replaceAll('-', '')}`,
      type,
      text: createGatheredText(),
      toolUses: [],
    };
    if (!turnStarted) {
      turnStarted = true;
      streamEvent({
        type: 'message_start',
        message: { id: open.id, type: 'message', role: 'assistant', model: answeringModel, content: [] },
      });
    }
    if (type !== 'tool_use') {
      streamEvent({ type: 'content_block_start', index: 0, content_block: emptyBlock(type) });
    }
    return open;
  };

  /** Takes the open message, its text or thinking block closed (a tool call's block closes as it comes). */
  const closeOpen = (): OpenMessage | undefined => {
    const message = open;
    open = undefined;
    if (message !== undefined && message.type !== 'tool_use') {
      streamEvent({ type: 'content_block_stop', index: 0 });
    }
    return message;
  };

  /**
   * Ends the open message: its text or thinking block is closed, and the message written (stream-json) or
   * kept (json). Only the turn's last message carries the usage, as in Qwen Code.
   */
  const endMessage = (usage: Usage | undefined) => {
    const message = closeOpen();
    if (message === undefined) return;
    let content: JsonObject[] = message.toolUses;
    if (message.type !== 'tool_use') {
      // A lone surrogate from the server (`\ud83d` with no partner) becomes U+FFFD, as in text mode's UTF-8:
      // JSON.stringify would keep it as an escape that jq and other strict parsers refuse.
      const text = message.text.text().toWellFormed();
      if (message.type === 'text') answerTexts.push(text);
      content = [message.type === 'text' ? { type: 'text', text } : { type: 'thinking', thinking: text }];
    }
    emit({
      type: 'assistant',
      ...common(),
      parent_tool_use_id: null,
      message: {
        id: message.id,
        type: 'message',
        role: 'assistant',
        model: answeringModel,
        content,
        // Qwen Code's rule: `tool_use` for a message of tool calls, null for the others.
        stop_reason: message.type === 'tool_use' ? 'tool_use' : null,
        usage: usageJson(usage),
      },
    });
  };

  const endTurn = (outcome: TurnOutcome) => {
    endMessage(outcome.usage);
    if (turnStarted) streamEvent({ type: 'message_stop' });
  };

  const result = (outcome: TurnOutcome, error?: CliError): JsonObject => ({
    type: 'result',
    subtype: error ? 'error_during_execution' : 'success',
    ...common(),
    is_error: Boolean(error),
    duration_ms: Math.round(outcome.durationMs),
    duration_api_ms: Math.round(outcome.apiDurationMs),
    // One turn, or none when the run failed before asking any model (Qwen Code says 0 then too).
    num_turns: outcome.requests === undefined ? 0 : 1,
    result: answerTexts.length === 1 ? answerTexts[0] : answerTexts.join(''),
    usage: usageJson(outcome.usage),
    permission_denials: [],
    stats: statsJson(outcome.requests ?? [], answeringModel, outcome.usage),
    ...(error ? { error: { message: error.message.toWellFormed(), exit_code: error.exitCode } } : {}),
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
        permission_mode: options.permissionMode ?? 'default',
        slash_commands: [],
        qwen_code_version: runInfo.version,
        agents: [],
      });
    },
    switchModel(model) {
      answeringModel = model;
    },
    discardAttempt() {
      // What a failed attempt sent before any answer is reasoning: the next attempt reasons anew. Its
      // partial events are out already: its block and its message are closed (the message never written),
      // and the next attempt's message starts anew, with its own id and model (a fallback's).
      closeOpen();
      if (turnStarted) streamEvent({ type: 'message_stop' });
      turnStarted = false;
    },
    event(event: StreamEvent) {
      if ((event.type === 'text-delta' || event.type === 'reasoning-delta') && !isEmptyDelta(event)) {
        const type = event.type === 'text-delta' ? 'text' : 'thinking';
        const message = messageFor(type);
        message.text.add(event.text);
        // Each line must parse on its own: a lone surrogate (a pair split across deltas) becomes U+FFFD.
        const text = event.text.toWellFormed();
        streamEvent({
          type: 'content_block_delta',
          index: 0,
          delta: type === 'text' ? { type: 'text_delta', text } : { type: 'thinking_delta', thinking: text },
        });
      } else if (event.type === 'tool-call') {
        const message = messageFor('tool_use');
        const index = message.toolUses.length;
        const id = event.id.toWellFormed();
        const name = event.name.toWellFormed();
        const input = wellFormed(event.arguments);
        message.toolUses.push({ type: 'tool_use', id, name, input });
        // A tool call arrives whole: its block opens, gets its input in one delta, and closes, as Qwen Code's.
        streamEvent({
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id, name, input: {} },
        });
        streamEvent({
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(input ?? {}) },
        });
        streamEvent({ type: 'content_block_stop', index });
      }
    },
    finish(outcome) {
      endTurn(outcome);
      emit(result(outcome));
      flush();
    },
    fail(error, outcome) {
      // The answer so far (text, reasoning or tool calls) is written before the error's result.
      endTurn(outcome);
      emit(result(outcome, error));
      flush();
    },
  };
}

/**
 * A server's value with every string made well-formed: a lone surrogate (`\ud800` in a tool call's name or
 * arguments) becomes U+FFFD, as in the answer's text, since JSON.stringify would keep it as an escape that
 * jq and other strict parsers refuse.
 */
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.toWellFormed();
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key.toWellFormed(), wellFormed(item)]),
  );
}

function emptyBlock(type: 'text' | 'thinking'): JsonObject {
  return type === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '' };
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
