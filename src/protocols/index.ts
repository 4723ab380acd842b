// The registry: the only place that knows which adapter speaks which protocol.

import { CliError } from '../core/errors.ts';
import type { Protocol } from '../core/types.ts';
import type { ProtocolAdapter } from './adapter.ts';
import { openaiAdapter } from './openai.ts';

export type { ApiErrorDetails, ProtocolAdapter, StreamDecoder } from './adapter.ts';
export { openaiAdapter } from './openai.ts';

export function adapterFor(protocol: Protocol): ProtocolAdapter {
  switch (protocol) {
    case 'openai':
      return openaiAdapter;
    case 'anthropic':
    case 'gemini':
    case 'vertex-ai':
      throw new CliError('config', `The ${protocol} protocol is not yet supported by this build of qwen.`, {
        hint: 'Use an OpenAI-compatible endpoint for now (--auth-type openai with OPENAI_API_KEY and OPENAI_BASE_URL).',
      });
  }
}
