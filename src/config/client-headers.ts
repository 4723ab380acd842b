// How qwen-lite names itself to the model servers: as Qwen Code does (compat §7), so that its traffic is read
// as Qwen Code's by servers and gateways that tell clients apart.
import process from 'node:process';
import packageJson from '../../package.json' with { type: 'json' };
import { isAnthropicHost, type Protocol } from '../core/types.ts';

export const qwenCodeUserAgent = `QwenCode/${packageJson.version} (${process.platform}; ${process.arch})`;

/**
 * The User-Agent of a request, as Qwen Code sends it: its own name, except to a host that speaks
 * Anthropic's protocol without being Anthropic (a gateway), which gets Claude Code's with `x-app: cli`, as
 * such gateways expect. `baseUrl` empty: the protocol's own endpoint.
 */
export function clientHeaders(protocol: Protocol, baseUrl: string): Record<string, string> {
  if (protocol === 'anthropic' && baseUrl.trim() !== '' && !isAnthropicHost(baseUrl.trim())) {
    return { 'User-Agent': `claude-cli/${packageJson.version} (external, cli)`, 'x-app': 'cli' };
  }
  return { 'User-Agent': qwenCodeUserAgent };
}
