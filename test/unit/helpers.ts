// What several unit tests need in the same form: fixtures, a conversation to send, stream decoding through
// the real SSE parser, and catching the one error type. Helpers that a single test file needs stay there.

import { readFileSync } from 'node:fs';
import type { RunContext } from '../../src/cli/context.ts';
import type { ConfigPaths } from '../../src/config/paths.ts';
import { CliError } from '../../src/core/errors.ts';
import type { StreamEvent } from '../../src/core/events.ts';
import { createSseParser, sseMessage } from '../../src/core/sse.ts';
import type { ChatRequest, ResolvedModel } from '../../src/core/types.ts';
import type { ProtocolAdapter, StreamDecoder } from '../../src/protocols/adapter.ts';
import { type SliceOptions, sliceBytes } from '../fakes/replay.ts';

/** Settings and credential paths for tests that read files through a map, never the disk: every one set. */
export const testConfigPaths = {
  qwenHome: '/h/.qwen',
  userSettings: '/h/.qwen/settings.json',
  workspaceSettings: '/w/.qwen/settings.json',
  systemSettings: '/etc/qwen-code/settings.json',
  systemDefaults: '/etc/qwen-code/system-defaults.json',
  oauthCreds: '/h/.qwen/oauth_creds.json',
  oauthLock: '/h/.qwen/oauth_creds.lock',
  history: '/h/.qwen/history',
} satisfies ConfigPaths;

/** Reads `test/fixtures/<folder>/<name>` as text. */
export function fixtureReader(folder: string): (name: string) => string {
  const directory = new URL(`../fixtures/${folder}/`, import.meta.url);
  return (name) => readFileSync(new URL(name, directory), 'utf8');
}

export function chatRequest(
  target: ResolvedModel,
  messages: ChatRequest['messages'] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello' },
  ],
): ChatRequest {
  return { target, messages };
}

/**
 * Bytes -> SSE -> events through the real parser, cut into slices as a network would deliver them (the
 * whole text in one piece when `slices` names no size and no seed).
 */
export function decodeThroughParser(
  decoder: StreamDecoder,
  text: string,
  slices: SliceOptions = {},
): StreamEvent[] {
  const parser = createSseParser();
  const events: StreamEvent[] = [];
  for (const slice of sliceBytes(new TextEncoder().encode(text), slices)) {
    for (const message of parser.push(slice)) events.push(...decoder.decode(message));
  }
  for (const message of parser.end()) events.push(...decoder.decode(message));
  events.push(...decoder.finish());
  return plainEvents(events);
}

/**
 * A whole (non-streamed) reply through the adapter's chunksOfWholeReply and its decoder, as turn.ts reads
 * one; undefined when the adapter does not take it for an answer.
 */
export function decodeWholeReply(adapter: ProtocolAdapter, reply: unknown): StreamEvent[] | undefined {
  const chunks = adapter.chunksOfWholeReply?.(reply);
  if (chunks === undefined) return undefined;
  const decoder = adapter.createDecoder();
  return [...chunks.flatMap((data) => decoder.decode(sseMessage('message', data))), ...decoder.finish()];
}

/**
 * What a decoder that keeps the reply (as the REPL's does) gives to send back in later turns, the stream in
 * seeded random slices.
 */
export function signedReplyOf(
  adapter: ProtocolAdapter,
  stream: string,
  seed = 1,
): Record<string, unknown>[] | undefined {
  const decoder = adapter.createDecoder({ keepSignedReply: true });
  decodeThroughParser(decoder, stream, { seed, minSize: 1, maxSize: 23 });
  return decoder.signedReply?.();
}

/** Events as plain objects, to compare: a delta that came as UTF-8 bytes is compared by its text. */
export function plainEvents(events: StreamEvent[]): StreamEvent[] {
  return events.map((event) =>
    (event.type === 'text-delta' || event.type === 'reasoning-delta') && event.utf8 !== undefined
      ? { type: event.type, text: event.text }
      : event,
  );
}

/** The text of every delta of one kind, joined: what a reader of the answer would see. */
export function textOf(events: StreamEvent[], type: 'text-delta' | 'reasoning-delta' = 'text-delta'): string {
  return events.map((event) => (event.type === type ? event.text : '')).join('');
}

/** The CliError an action throws; anything else it throws fails the test as it is. */
export function errorOf(action: () => unknown): CliError {
  try {
    action();
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('expected a CliError');
}

/** The CliError a promise rejects with; anything else fails the test as it is. */
export async function caught(promise: Promise<unknown>): Promise<CliError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('expected a CliError');
}

/** The context of a session at a terminal (REPL, wizard); output is dropped unless the fields say otherwise. */
export function terminalContext(
  fields: Pick<RunContext, 'cwd' | 'home' | 'env'> & Partial<RunContext>,
): RunContext {
  return {
    version: 'test',
    writeOut: () => undefined,
    writeError: () => undefined,
    signal: new AbortController().signal,
    stdinIsTerminal: true,
    stdoutIsTerminal: true,
    ...fields,
  };
}
