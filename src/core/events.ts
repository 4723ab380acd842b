import type { Usage } from './types.ts';

/** What a protocol adapter makes of a stream; the renderers know nothing else. */
export type StreamEvent =
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string }
  | { type: 'tool-call'; id: string; name: string; arguments: unknown }
  | { type: 'usage'; usage: Usage }
  | { type: 'done'; finishReason?: string }
  | { type: 'error'; error: StreamFailure };

/** An error reported inside a stream that had already started (HTTP 200). */
export interface StreamFailure {
  message: string;
  /** The HTTP-equivalent status, when the provider gives one (Anthropic overloaded -> 529). */
  status?: number;
  code?: string;
}
