// One-shot runs: prompt and/or stdin -> one turn -> renderer. The CI path: nothing here may prompt.
import type { CredentialSession } from '../auth/credentials.ts';
import { asCliError, asSentence, oneLine } from '../core/errors.ts';
import { isAnswerEvent, type StreamEvent } from '../core/events.ts';
import type { Message, Usage } from '../core/types.ts';
import { cutShortNote, toolCallNote } from '../render/answer-notes.ts';
import { createJsonRenderer, type JsonRendererOptions } from '../render/json.ts';
import type { OutputFormat, Renderer, TurnOutcome, Write } from '../render/renderer.ts';
import type { ModelRequests } from '../render/run-stats.ts';
import { terminalSafe } from '../render/terminal-safe.ts';
import { createTextRenderer, type TextRendererOptions } from '../render/text.ts';
import type { RunContext } from './context.ts';
import {
  type FallbackEvents,
  type FallbackModel,
  skippedFallbackNote,
  streamWithFallbacks,
} from './fallback.ts';
import { retryNote, type SessionTurnOptions } from './session-turn.ts';

export interface HeadlessRun {
  prompt: string;
  format: OutputFormat;
  session: CredentialSession;
  context: RunContext;
  /** -o stream-json with --include-partial-messages. */
  partialMessages?: boolean;
  /** The approval mode asked for, reported as the JSON formats' permission_mode. */
  permissionMode?: string;
  /** --fallback-model, in order. */
  fallbacks?: readonly FallbackModel[];
}

export function createRenderer(
  format: OutputFormat,
  write: Write,
  options: JsonRendererOptions & TextRendererOptions = {},
): Renderer {
  return format === 'text' ? createTextRenderer(write, options) : createJsonRenderer(write, format, options);
}

/** Runs one turn and returns the exit code; the answer streams to stdout as it arrives. */
export async function runHeadless(run: HeadlessRun): Promise<number> {
  const { context } = run;
  const sessionId = crypto.randomUUID();
  const renderer = createRenderer(run.format, context.writeOut, {
    partialMessages: run.partialMessages,
    terminal: context.stdoutIsTerminal,
    sessionId,
    permissionMode: run.permissionMode,
  });
  const startedAt = performance.now();
  const messages: Message[] = [{ role: 'user', content: run.prompt }];
  const target = run.session.target;
  renderer.start({
    model: target.model,
    cwd: context.cwd,
    version: context.version,
  });

  // Whether some of the answer is out (text, or a tool call, which the JSON formats list): after that, a
  // retry would show it twice.
  const textMode = run.format === 'text';
  let hasShownOutput = false;
  // The usage the current attempt reported, even when it then failed (a filter's cut, an error after
  // message_start): a failed run still says what it cost. A retry or a fallback starts counting again.
  let usage: Usage | undefined;
  // Text mode shows no tool call: their names go in a note on stderr at the end (the JSON formats list them).
  const toolNames: string[] = [];
  // Reasoning is never printed in text mode: an answer that was only reasoning would look like an empty one.
  let reasoned = false;
  // Each model asked, for the JSON result's `stats`: its requests as they go out (a retry stopped during its
  // wait sent none), and when it was first asked. Every request is an error but the one that answered, and a
  // model's latency runs until the next model is asked (or the end).
  const asked = [{ model: target.model, requests: 0, startedAt }];
  const current = () => asked[asked.length - 1] as (typeof asked)[number];
  const outcome = (answered: boolean): TurnOutcome => {
    const now = performance.now();
    const requests = asked.map(
      (entry, index): ModelRequests => ({
        model: entry.model,
        requests: entry.requests,
        errors: entry.requests - (answered && index === asked.length - 1 ? 1 : 0),
        latencyMs: (asked[index + 1]?.startedAt ?? now) - entry.startedAt,
      }),
    );
    return {
      usage,
      durationMs: now - startedAt,
      apiDurationMs: now - startedAt,
      requests,
    };
  };
  const onEvent = (event: StreamEvent) => {
    if (isAnswerEvent(event)) hasShownOutput = true;
    if (event.type === 'tool-call') {
      if (textMode) toolNames.push(event.name);
    } else if (event.type === 'usage') usage = event.usage;
    else if (event.type === 'reasoning-delta' && event.text !== '') reasoned = true;
    renderer.event(event);
  };

  try {
    const fallbackEvents: FallbackEvents = {
      onFallback: (failure, failedModel, next) => {
        const nextModel = next.target.model;
        usage = undefined;
        asked.push({ model: nextModel, requests: 0, startedAt: performance.now() });
        renderer.discardAttempt();
        renderer.switchModel(nextModel);
        context.writeError(
          terminalSafe(
            `${asSentence(`Model "${failedModel}" failed: ${oneLine(failure)}`)} Trying the fallback model "${nextModel}".`,
          ),
        );
      },
      onSkipped: (model, reason) => context.writeError(terminalSafe(skippedFallbackNote(model, reason))),
    };
    const turnOptions: SessionTurnOptions = {
      onEvent,
      sessionId,
      signal: context.signal,
      limits: context.streamLimits,
      onRetry: (notice) => context.writeError(retryNote(notice)),
      onRestart: () => {
        usage = undefined;
        renderer.discardAttempt();
      },
      onRequest: () => {
        current().requests += 1;
      },
      fetchImplementation: context.fetchImplementation,
      hasShownOutput: () => hasShownOutput,
      collectText: false,
    };
    const { result } = await streamWithFallbacks(
      run.session,
      messages,
      turnOptions,
      run.fallbacks ?? [],
      fallbackEvents,
    );
    renderer.finish({ ...outcome(true), usage: result.usage });
    if (toolNames.length > 0) context.writeError(toolCallNote(toolNames));
    else if (textMode && !hasShownOutput) context.writeError(emptyAnswerNote(reasoned));
    // Exit 0 as in Qwen Code, but a CI log should say why the answer may end mid-sentence, or never began
    // (reasoning that used up the limit); in the JSON formats too, whose stop_reason (Qwen Code's) does not.
    const cutShort = cutShortNote(result.finishReason);
    if (cutShort !== undefined) context.writeError(cutShort);
    return 0;
  } catch (error) {
    const failure = asCliError(error);
    context.reportingFailure?.(failure.exitCode);
    renderer.fail(failure, outcome(false));
    throw failure;
  }
}

/** Text mode's note for an answer with no text, so that a script's empty output is not a mystery. */
function emptyAnswerNote(reasoned: boolean): string {
  return reasoned
    ? 'The model answered with reasoning only, and no text: qwen-lite prints no reasoning in a one-shot run.'
    : 'The model sent an empty answer.';
}

/** stdin and prompt joined as Qwen Code does: `<stdin>\n\n<prompt>`. */
export function joinInput(stdinText: string | undefined, prompt: string): string {
  if (stdinText === undefined || stdinText === '') return prompt;
  if (prompt === '') return stdinText;
  return `${stdinText}\n\n${prompt}`;
}
