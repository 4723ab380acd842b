import type { StreamEvent } from '../core/events.ts';
import type { SseMessage } from '../core/sse.ts';
import type { ChatRequest, HttpRequest, JsonObject, Usage } from '../core/types.ts';

/** What a protocol makes of a non-2xx response body. */
export interface ApiErrorDetails {
  /** The server's own message, as it said it (never containing the key). */
  message: string;
  /** Provider error code or type (`insufficient_quota`, `API_KEY_INVALID`, `overloaded_error`). */
  code?: string;
  /** A wait the body asks for (Gemini's RetryInfo.retryDelay), in ms. Headers are read by net/http.ts. */
  retryAfterMs?: number;
  /** True when retrying cannot help even though the status is retryable (quota exhausted). */
  doNotRetry?: boolean;
  /** True when the failure is about credentials although the status is not 401/403 (Gemini's 400 API_KEY_INVALID). */
  isAuthFailure?: boolean;
}

/** Turns SSE messages of one response into StreamEvents; one decoder per response (it keeps state). */
export interface StreamDecoder {
  decode(message: SseMessage): StreamEvent[];
  /** Called once at the end of the byte stream: flushes assembled tool calls and the final `done`. */
  finish(): StreamEvent[];
  /**
   * The stream has said its last word: its terminator (`[DONE]`, `message_stop`) or an error. Nothing after
   * it counts, so the reader stops there, whether or not the server closes the connection.
   */
  isEnded(): boolean;
  /**
   * The answer has its finish reason, though the protocol's last event may still follow (OpenAI's usage
   * chunk and `[DONE]`, Anthropic's `message_stop`): a stream that goes silent now has sent a whole answer.
   */
  hasFinished(): boolean;
  /**
   * The usage the server has reported so far: a stream that breaks or times out in the middle has no end
   * that would report it, and the tokens were spent all the same.
   */
  usageSoFar(): Usage | undefined;
  /**
   * The reply as the provider sent it (content blocks, parts), when it carries signed reasoning that must
   * go back to it in later turns; undefined when it carries none, or the decoder was not asked to keep it.
   */
  signedReply?(): JsonObject[] | undefined;
}

export interface DecoderOptions {
  /**
   * Keep the reply for signedReply(): a conversation that goes on needs it; a one-shot run would only
   * hold the whole answer in memory twice.
   */
  keepSignedReply?: boolean;
}

/** One wire protocol. Pure functions only: no fetch, no process, no files. */
export interface ProtocolAdapter {
  buildRequest(request: ChatRequest): HttpRequest;
  createDecoder(options?: DecoderOptions): StreamDecoder;
  parseErrorBody(status: number, body: string): ApiErrorDetails;
  /**
   * A whole (non-streamed) reply from a server that ignored `stream: true`, as the data of the stream
   * chunks that say the same, for the decoder; undefined when the reply is no such thing (or the protocol
   * has no way to read one).
   */
  chunksOfWholeReply?(reply: unknown): string[] | undefined;
  /**
   * A reply that is a JSON array may be the stream itself, delivered piecemeal, each element a chunk
   * (Gemini's streamGenerateContent without `alt=sse`).
   */
  streamsJsonArray?: boolean;
}
