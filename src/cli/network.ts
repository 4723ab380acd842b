// The network settings of one run, applied to its context: proxy, CA bundle, --insecure, and the stream
// idle timeout. Every command that talks to a server calls this once, after loading the configuration.
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
  const typedIdleTimeout = configuration.env.get('QWEN_STREAM_IDLE_TIMEOUT_MS')?.trim();
  if (typedIdleTimeout === undefined || typedIdleTimeout === '') return;
  const idleTimeout = Number(typedIdleTimeout);
  if (Number.isFinite(idleTimeout) && idleTimeout > 0) context.streamIdleTimeoutMs = idleTimeout;
  else warn(ignoredMillisecondsNote('QWEN_STREAM_IDLE_TIMEOUT_MS', typedIdleTimeout, true));
}
