// A Gemini reply's parts as they streamed, for the next turns of the conversation: Gemini 3 puts a
// `thoughtSignature` on parts and wants those parts back verbatim. A signed part is kept exactly as it came
// (the signature often rides an empty text part at the end); the unsigned text increments between them are
// joined into one part per run of the same kind (answer or thought), as they are pieces of one text.

import type { JsonObject } from '../core/types.ts';

interface RecordedPart {
  part: JsonObject;
  /** The text of a run of unsigned increments, joined at the end; undefined for a signed part. */
  pieces?: string[];
}

export interface GeminiReplyRecorder {
  add(part: JsonObject): void;
  /** The parts, when one of them carries a thoughtSignature; undefined otherwise. */
  parts(): JsonObject[] | undefined;
}

export function createGeminiReplyRecorder(): GeminiReplyRecorder {
  const recorded: RecordedPart[] = [];
  let signed = false;
  return {
    add(part) {
      // Function calls are not run here, so they are not part of the conversation; nor is other media.
      const text = part['text'];
      if (typeof text !== 'string') return;
      const thought = part['thought'] === true;
      if (part['thoughtSignature'] !== undefined) {
        signed = true;
        recorded.push({ part: { ...part } });
        return;
      }
      if (text === '') return;
      const last = recorded.at(-1);
      if (last?.pieces !== undefined && (last.part['thought'] === true) === thought) last.pieces.push(text);
      else recorded.push({ part: thought ? { text: '', thought: true } : { text: '' }, pieces: [text] });
    },
    parts() {
      if (!signed) return undefined;
      return recorded.map(({ part, pieces }) =>
        pieces === undefined ? part : { ...part, text: pieces.join('') },
      );
    },
  };
}
