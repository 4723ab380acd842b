import { concatBytes } from './bytes.ts';
import type { Usage } from './types.ts';

/** What a protocol adapter makes of a stream; the renderers know nothing else. */
export type StreamEvent =
  | TextDelta
  | { type: 'tool-call'; id: string; name: string; arguments: unknown }
  | { type: 'usage'; usage: Usage }
  | { type: 'done'; finishReason?: string }
  | { type: 'error'; error: StreamFailure };

/** A piece of the answer's text, or of the model's reasoning. */
export type TextDelta =
  | { type: 'text-delta'; text: string; readonly utf8?: readonly Uint8Array[] }
  | { type: 'reasoning-delta'; text: string; readonly utf8?: readonly Uint8Array[] };

/** An error reported inside a stream that had already started (HTTP 200), or the stream's early end. */
export interface StreamFailure {
  message: string;
  /** The HTTP-equivalent status, when the provider gives one (Anthropic overloaded -> 529). */
  status?: number;
  code?: string;
  /** Another attempt cannot help (a spent quota), whatever the status says: as ApiErrorDetails.doNotRetry. */
  doNotRetry?: boolean;
  /** The wait the server asks for before another attempt (Gemini's RetryInfo), as ApiErrorDetails.retryAfterMs. */
  retryAfterMs?: number;
  /**
   * Set when the stream ended, without an error, before the protocol said the answer was complete: what it
   * lacked (`no finish_reason, no [DONE]`).
   */
  missing?: string;
}

const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * A delta that arrived as well-formed UTF-8 bytes, in pieces (none of them empty): its text is decoded only
 * if someone reads it, and a renderer that writes bytes writes the pieces as they are (a long answer printed
 * in text mode is never decoded).
 */
class Utf8Delta {
  private decoded: string | undefined;

  constructor(
    readonly type: TextDelta['type'],
    readonly utf8: readonly Uint8Array[],
  ) {}

  get text(): string {
    this.decoded ??= utf8Decoder.decode(concatBytes(this.utf8));
    return this.decoded;
  }
}

/** A text or reasoning delta from the pieces of its UTF-8 bytes: well-formed, none of them empty. */
export function utf8Delta(type: TextDelta['type'], pieces: readonly Uint8Array[]): TextDelta {
  return new Utf8Delta(type, pieces);
}

/** Whether a delta has no text, without decoding it. */
export function isEmptyDelta(delta: TextDelta): boolean {
  return delta.utf8 === undefined ? delta.text === '' : delta.utf8.length === 0;
}

/**
 * Whether the event is part of the answer the user sees (some text, or a tool call): once one came, a retry
 * would show it twice, and a failure stops an answer rather than preventing one.
 */
export function isAnswerEvent(event: StreamEvent): boolean {
  return event.type === 'tool-call' || (event.type === 'text-delta' && !isEmptyDelta(event));
}

/** Events in, events out: what turn.ts hands on, with surrogate pairs split across deltas joined again. */
export interface SurrogateJoiner {
  /** Whether `event` needs join (cheap: a byte delta never does, and nothing is held most of the time). */
  wants(event: StreamEvent): boolean;
  join(event: StreamEvent): StreamEvent[];
}

/**
 * Joins the halves of a UTF-16 surrogate pair that a server split across two deltas (gateways that cut
 * strings by code unit do: `"A\ud83d"` then `"\ude00B"`). Each half alone would be printed as U+FFFD in
 * text mode, while the JSON formats, which join the text first, kept the emoji. A delta that ends in a high
 * surrogate is held back by that one code unit until the next event.
 */
export function createSurrogateJoiner(): SurrogateJoiner {
  let held: TextDelta | undefined;
  return {
    wants: (event) => held !== undefined || endsInHighSurrogate(event),
    join(event) {
      const joined: StreamEvent[] = [];
      let current = event;
      if (held !== undefined) {
        if (isStringDelta(current) && current.type === held.type) {
          current = { type: held.type, text: held.text + current.text };
        } else {
          joined.push(held);
        }
        held = undefined;
      }
      if (endsInHighSurrogate(current)) {
        held = { type: current.type, text: current.text.slice(-1) };
        if (current.text.length > 1) joined.push({ type: current.type, text: current.text.slice(0, -1) });
      } else {
        joined.push(current);
      }
      return joined;
    },
  };
}

/** A delta whose text is a string (not well-formed UTF-8 bytes, which cannot hold half a pair). */
function isStringDelta(event: StreamEvent): event is TextDelta {
  return (event.type === 'text-delta' || event.type === 'reasoning-delta') && event.utf8 === undefined;
}

function endsInHighSurrogate(event: StreamEvent): event is TextDelta {
  if (!isStringDelta(event)) return false;
  const last = event.text.charCodeAt(event.text.length - 1);
  return last >= 0xd800 && last <= 0xdbff;
}
