import type { CliError } from '../core/errors.ts';
import type { StreamEvent } from '../core/events.ts';
import type { Usage } from '../core/types.ts';
import type { ModelRequests } from './run-stats.ts';

export const outputFormats = ['text', 'json', 'stream-json'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export interface RunInfo {
  model: string;
  cwd: string;
  version: string;
}

export interface TurnOutcome {
  usage?: Usage;
  durationMs: number;
  apiDurationMs: number;
  /** The requests each model was sent, for `stats` (none when the run never reached a model). */
  requests?: readonly ModelRequests[];
}

/** Writes one headless run to stdout; diagnostics go to stderr elsewhere, never through a renderer. */
export interface Renderer {
  start(info: RunInfo): void;
  /** A fallback model (--fallback-model) takes the turn over: the answer is that model's. */
  switchModel(model: string): void;
  /** The attempt failed before any answer and another follows (a retry, a fallback): drop what it sent. */
  discardAttempt(): void;
  event(event: StreamEvent): void;
  finish(outcome: TurnOutcome): void;
  fail(error: CliError, outcome: TurnOutcome): void;
}

/** Writes to stdout: text, or bytes that are already UTF-8. */
export type Write = (output: string | Uint8Array) => void;
