// A stream sent as one JSON array delivered piecemeal (Gemini's streamGenerateContent when `alt=sse` was
// lost on the way, protocols.md §3): its elements are the stream's chunks, each delivered as it completes,
// so the text shows as it arrives and a connection lost before the `]` keeps what came, as for an event
// stream. Until an element is an answer the array is any JSON reply (an error, or one that says nothing the
// protocol reads), which the caller still holds and judges whole.
import { createJsonArraySplitter } from '../core/json-array-splitter.ts';

export interface ArrayReply {
  /** The elements to deliver as chunks: none until one is an answer, then the ones held before it too. */
  push(bytes: Uint8Array): string[];
  /** An element was an answer: the array is a stream, and its bytes need no holding. */
  isStream(): boolean;
}

/** `isAnswer` judges each element that comes before the first answer (it may throw for an error). */
export function createArrayReply(isAnswer: (element: string) => boolean): ArrayReply {
  const splitter = createJsonArraySplitter();
  const before: string[] = [];
  let stream = false;
  return {
    push(bytes) {
      const elements = splitter.push(bytes);
      if (stream) return elements;
      for (const [position, element] of elements.entries()) {
        if (!isAnswer(element)) {
          before.push(element);
          continue;
        }
        stream = true;
        return [...before.splice(0), ...elements.slice(position)];
      }
      return [];
    },
    isStream: () => stream,
  };
}
