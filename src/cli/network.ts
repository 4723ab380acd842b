// The network settings of one run, applied to its context: proxy, CA bundle, --insecure, and the stream
// idle timeout and lifetime. Every command that talks to a server calls this once, after loading the configuration.
import type { LoadedConfiguration } from '../config/load.ts';
import { millisecondsVariable } from '../config/resolve.ts';
import { createTransport } from '../net/transport.ts';
import { longestTimerMs } from './abortable.ts';
import type { RunContext } from './context.ts';

export interface NetworkFlags {
  proxy?: string;
  insecure?: boolean;
}

export function configureNetwork(
  context: RunContext,
  configuration: LoadedConfiguration,
  flags: NetworkFlags,
  warn: (line: string) => void = context.writeError,
): void {
  context.fetchImplementation = createTransport({
    env: (name) => configuration.env.get(name),
    proxyFlag: flags.proxy,
    proxySetting: configuration.settings.merged.proxy,
    insecureFlag: flags.insecure,
    warn,
    inRuntimeEnvironment: (name) => context.env[name] !== undefined,
  }).fetchImplementation;
  // A timer cannot wait longer than 2^31 - 1 ms (about 24.8 days), and a longer value would fire at once:
  // it means off, as 0 does.
  const milliseconds = (variable: string): number | undefined => {
    const value = millisecondsVariable(configuration.env, variable, warn);
    return value !== undefined && value > longestTimerMs ? 0 : value;
  };
  context.streamLimits = {
    idleTimeoutMs: milliseconds('QWEN_STREAM_IDLE_TIMEOUT_MS'),
    maxLifetimeMs: milliseconds('QWEN_STREAM_MAX_LIFETIME_MS'),
  };
}
