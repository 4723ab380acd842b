// Which proxy a request sent with a transport's fetch goes through, for the modules that hold only that
// fetch function (net/http.ts, auth/qwen-oauth.ts): a failure that came back through a proxy, or waited on
// one, names it, as README promises ("a proxy failure names the proxy, not the target").
import { CliError } from '../core/errors.ts';

export interface ProxyNote {
  /** `http://host:port`, without credentials. */
  display: string;
  /** Where it was set: `--proxy`, `the "proxy" setting`, `HTTPS_PROXY`, ... */
  source: string;
  /** NO_PROXY, or no_proxy when that is the one the user has. */
  noProxyVariable: string;
}

/** How a proxy URL carries credentials, for every message that asks for them. */
export const proxyCredentialsForm = 'http://user:password@host:port (percent-encode @ : / in them)';

const routers = new WeakMap<typeof fetch, (url: string) => ProxyNote | undefined>();

/** Called by the transport for the fetch it builds. */
export function registerProxyRouter(
  fetchImplementation: typeof fetch,
  router: (url: string) => ProxyNote | undefined,
): void {
  routers.set(fetchImplementation, router);
}

/** The proxy a request to `url` with this fetch goes through; undefined when it goes directly. */
export function proxyNoteFor(
  fetchImplementation: typeof fetch | undefined,
  url: string,
): ProxyNote | undefined {
  return fetchImplementation === undefined ? undefined : routers.get(fetchImplementation)?.(url);
}

/**
 * A wait that ended without an answer through a proxy: the proxy may be what never answered (a CONNECT it
 * never replies to), so it is named with the server, and the way around it is given.
 */
export function notAnsweringThroughProxy(failure: CliError, note: ProxyNote, hostname: string): CliError {
  return new CliError(
    failure.kind,
    `${failure.message.replace(/\.$/, '')} (through the proxy ${note.display} from ${note.source}, which may be what is not answering).`,
    {
      hint: `${failure.hint ?? ''} If ${hostname} needs no proxy, add it to ${note.noProxyVariable}.`.trim(),
      status: failure.status,
      cause: failure.cause,
    },
  );
}
