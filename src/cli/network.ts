// The network settings of one run, applied to its context: proxy, CA bundle, --insecure, and the stream
// idle timeout and lifetime. Every command that talks to a server calls this once, after loading the configuration.
import type { LoadedConfiguration } from '../config/load.ts';
import { ignoredMillisecondsNote } from '../config/resolve.ts';
import { createTransport } from '../net/transport.ts';
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
  }).fetchImplementation;
  const milliseconds = (variable: string): number | undefined => {
    const typed = configuration.env.get(variable)?.trim();
    if (typed === undefined || typed === '') return undefined;
    const value = Number(typed);
    if (Number.isFinite(value) && value > 0) return value;
    warn(ignoredMillisecondsNote(variable, typed, true));
    return undefined;
  };
  context.streamLimits = {
    idleTimeoutMs: milliseconds('QWEN_STREAM_IDLE_TIMEOUT_MS'),
    maxLifetimeMs: milliseconds('QWEN_STREAM_MAX_LIFETIME_MS'),
  };
}
