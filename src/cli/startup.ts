// The compiled binary starts with JavaScriptCore's tier-up thresholds raised (`startupJitPolicy` in
// scripts/build.ts), so that code which runs once at start-up (flags, settings, the request) is interpreted
// instead of queueing JIT work. Once work that repeats begins (an answer past its first 64 KiB, an
// interactive session, a login), the normal policy comes back. A no-op from source, under Deno, and in a
// Bun without it.

type BunWithJitPolicy = { unsafe?: { setJITPolicy?: (scale: number) => void } };

let ended = false;

export function endStartup(): void {
  if (ended) return;
  ended = true;
  (globalThis as { Bun?: BunWithJitPolicy }).Bun?.unsafe?.setJITPolicy?.(1);
}
