// The registry: the only place that knows which adapter speaks which protocol.

import type { Protocol } from '../core/types.ts';
import type { ProtocolAdapter } from './adapter.ts';
import { anthropicAdapter } from './anthropic.ts';
import { geminiAdapter, vertexAdapter } from './gemini.ts';
import { openaiAdapter } from './openai.ts';

export type { ApiErrorDetails, DecoderOptions, ProtocolAdapter, StreamDecoder } from './adapter.ts';
export { anthropicAdapter } from './anthropic.ts';
export { geminiAdapter, vertexAdapter } from './gemini.ts';
export { openaiAdapter } from './openai.ts';

export function adapterFor(protocol: Protocol): ProtocolAdapter {
  switch (protocol) {
    case 'openai':
      return openaiAdapter;
    case 'anthropic':
      return anthropicAdapter;
    case 'gemini':
      return geminiAdapter;
    case 'vertex-ai':
      return vertexAdapter;
  }
}
