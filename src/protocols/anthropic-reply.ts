// An Anthropic reply's content blocks as they streamed, for the next turns of the conversation: the API
// wants `thinking` blocks back unchanged, with the signature that proves the model wrote them (and
// `redacted_thinking` blocks with their data). Text blocks keep their place among them.

import type { JsonObject } from '../core/types.ts';

type RecordedBlock =
  | { type: 'text'; pieces: string[] }
  | { type: 'thinking'; pieces: string[]; signature: string[] }
  | { type: 'redacted_thinking'; data: string };

export interface AnthropicReplyRecorder {
  start(index: number, block: JsonObject): void;
  delta(index: number, delta: JsonObject): void;
  /** The blocks in the order of their index, when some thinking is signed; undefined otherwise. */
  content(): JsonObject[] | undefined;
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function createAnthropicReplyRecorder(): AnthropicReplyRecorder {
  const blocks = new Map<number, RecordedBlock>();
  return {
    start(index, block) {
      // Blocks may open with their content already in them (a whole reply, some gateways).
      if (block['type'] === 'text') blocks.set(index, { type: 'text', pieces: [stringOf(block['text'])] });
      else if (block['type'] === 'thinking') {
        const pieces = [stringOf(block['thinking'])];
        blocks.set(index, { type: 'thinking', pieces, signature: [stringOf(block['signature'])] });
      } else if (block['type'] === 'redacted_thinking') {
        blocks.set(index, { type: 'redacted_thinking', data: stringOf(block['data']) });
      }
    },
    delta(index, delta) {
      const block = blocks.get(index);
      if (block?.type === 'text' && delta['type'] === 'text_delta')
        block.pieces.push(stringOf(delta['text']));
      else if (block?.type === 'thinking') {
        if (delta['type'] === 'thinking_delta') block.pieces.push(stringOf(delta['thinking']));
        else if (delta['type'] === 'signature_delta') block.signature.push(stringOf(delta['signature']));
      }
    },
    content() {
      const content: JsonObject[] = [];
      let signed = false;
      for (const index of [...blocks.keys()].sort((a, b) => a - b)) {
        const block = blocks.get(index);
        if (block === undefined) continue;
        if (block.type === 'redacted_thinking') {
          if (block.data === '') continue;
          content.push({ type: 'redacted_thinking', data: block.data });
          signed = true;
        } else if (block.type === 'thinking') {
          // Unsigned thinking (some gateways send it so) would be refused: it is left out.
          const signature = block.signature.join('');
          if (signature === '') continue;
          content.push({ type: 'thinking', thinking: block.pieces.join(''), signature });
          signed = true;
        } else {
          // The API refuses empty text blocks.
          const text = block.pieces.join('');
          if (text !== '') content.push({ type: 'text', text });
        }
      }
      return signed ? content : undefined;
    },
  };
}
