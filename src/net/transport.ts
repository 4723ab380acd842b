// How requests leave the machine: which proxy (if any), which certificate authorities, whether TLS is
// verified. Built once per run from flags, settings and the layered environment, and handed to every
// module that sends HTTP (model requests, OAuth, token endpoints) as one `fetchImplementation`.
//
// Proxy choice, highest first: --proxy, the `proxy` setting, then the environment (HTTPS_PROXY for https
// URLs, HTTP_PROXY for http URLs, ALL_PROXY for both; upper case wins over lower case). NO_PROXY applies to
// every one of them, as curl applies it to --proxy too: the hosts it lists are reached directly, whoever
// named the proxy. To force everything through a proxy, leave NO_PROXY empty.
//
// The runtime's own proxy handling is switched off (Bun reads HTTP(S)_PROXY and NO_PROXY itself, with its
// own rules, and the compiled binary does too): every request names its proxy, or `proxy: false`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileErrorReason } from '../config/directories.ts';
import { asSentence, CliError } from '../core/errors.ts';
import { maskKeyLikeWords, maskUrl, rememberSecret, safeDecode } from '../core/redact.ts';
import { causesOf, describeNetworkError, errorChainText, errorCodes } from './http.ts';
import { bypassesProxy, type NoProxyList, parseNoProxy } from './no-proxy.ts';
import {
  notAnsweringThroughProxy,
  type ProxyNote,
  proxyCredentialsForm,
  registerProxyRouter,
} from './proxy-notes.ts';

export interface TransportOptions {
  /** The layered environment (flags, process, .env, settings `env`). */
  env: (name: string) => string | undefined;
  proxyFlag?: string;
  /** settings.json `proxy`. */
  proxySetting?: string;
  insecureFlag?: boolean;
  /** One line on stderr. */
  warn: (line: string) => void;
  /** Reads the NODE_EXTRA_CA_CERTS file; the real file system by default. */
  readFile?: (path: string) => string;
  /**
   * Whether the runtime got this variable from the real environment at start-up. Bun then applies
   * SSL_CERT_FILE and SSL_CERT_DIR itself; from a .env file or settings `env` it cannot, so they are read here.
   */
  inRuntimeEnvironment?: (name: string) => boolean;
}

export interface ProxyRoute {
  /** The proxy's URL without credentials. */
  url: URL;
  /** `http://host:port` without credentials, for messages. */
  display: string;
  /** Where it came from: `--proxy`, `the "proxy" setting`, `HTTPS_PROXY`, ... */
  source: string;
  /** `Basic ...` from the credentials in the proxy URL. */
  authorization?: string;
}

export interface Transport {
  fetchImplementation: typeof fetch;
  /** How a request to `url` travels, for messages: `via proxy http://proxy:3128 (from HTTPS_PROXY)`. */
  describe(url: string): string;
  /** The proxy a request to `url` goes through, or undefined when it connects directly. */
  proxyFor(url: string): ProxyRoute | undefined;
}

/** Thrown (as CliError, kind config) when the proxy URL or the CA bundle cannot be used. */
export function createTransport(options: TransportOptions): Transport {
  const env = (name: string) => {
    const value = options.env(name)?.trim();
    return value === '' ? undefined : value;
  };
  const fixedProxy = firstDefined([
    { value: options.proxyFlag?.trim() || undefined, source: '--proxy', kind: 'input' as const },
    {
      value: options.proxySetting?.trim() || undefined,
      source: 'the "proxy" setting',
      kind: 'config' as const,
    },
  ]);
  const fixedRoute = fixedProxy && parseProxyUrl(fixedProxy.value, fixedProxy.source, fixedProxy.kind);
  const environmentRoutes = {
    'https:': environmentProxy(env, ['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy']),
    'http:': environmentProxy(env, ['HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy']),
  };
  // Messages name the variable the user already has, NO_PROXY when neither is set.
  const noProxyVariable =
    env('NO_PROXY') === undefined && env('no_proxy') !== undefined ? 'no_proxy' : 'NO_PROXY';
  const noProxy: NoProxyList = parseNoProxy(env(noProxyVariable));

  // NODE_TLS_REJECT_UNAUTHORIZED=0 is Node's way, which the runtimes honour on their own and silently:
  // the same warning as ours, and the same effect when it comes from a .env file or settings env.
  const typedInsecure = env('QWEN_TLS_INSECURE');
  const insecureSource = options.insecureFlag
    ? '--insecure'
    : isTrue(typedInsecure)
      ? `QWEN_TLS_INSECURE=${typedInsecure?.trim()}`
      : env('NODE_TLS_REJECT_UNAUTHORIZED')?.trim() === '0'
        ? 'NODE_TLS_REJECT_UNAUTHORIZED=0'
        : undefined;
  const certificates =
    insecureSource === undefined
      ? loadExtraCertificates(env, options.readFile, (name) =>
          denoNamespace() === undefined ? (options.inRuntimeEnvironment?.(name) ?? true) : false,
        )
      : undefined;
  if (insecureSource !== undefined) {
    options.warn(
      `Warning: TLS certificate verification is off (${insecureSource}). Anyone between you and the server ` +
        'can read and change the traffic, API keys included; prefer NODE_EXTRA_CA_CERTS=/path/ca.pem.',
    );
    if (denoNamespace() !== undefined) {
      options.warn(
        'Note: under Deno, this takes effect only when Deno itself runs with --unsafely-ignore-certificate-errors.',
      );
    }
  }

  const proxyFor = (url: string): ProxyRoute | undefined => {
    const target = new URL(url);
    if (bypassesProxy(noProxy, target)) return undefined;
    if (fixedRoute) return fixedRoute;
    const candidate = target.protocol === 'https:' ? environmentRoutes['https:'] : environmentRoutes['http:'];
    if (candidate === undefined) return undefined;
    return parseProxyUrl(candidate.value, candidate.source, 'config');
  };

  const failureContext: FailureContext = {
    extraCertificatesSetting: certificates?.setting,
    noProxyVariable,
  };
  const deno = denoNamespace();
  // node:tls is loaded only when a bundle is configured: it costs every one-shot run ~3 ms otherwise.
  let tls: Promise<BunTlsOptions | undefined> | undefined;
  const tlsOptions = (): Promise<BunTlsOptions | undefined> => {
    tls ??= (async () => {
      if (insecureSource !== undefined) return { rejectUnauthorized: false };
      if (!certificates) return undefined;
      // Bun's `ca` replaces the built-in roots instead of adding to them, so the roots go in too.
      const { rootCertificates } = await import('node:tls');
      return { ca: [...rootCertificates, ...certificates.pems] };
    })();
    return tls;
  };
  const denoClients = new Map<string, DenoHttpClient>();
  const denoClientFor = (namespace: DenoNamespace, route: ProxyRoute | undefined): DenoHttpClient => {
    const key = route ? `${route.url.href} ${route.authorization ?? ''}` : '';
    let client = denoClients.get(key);
    if (client === undefined) {
      const basicAuth = route ? credentialsOf(route) : undefined;
      client = createDenoClient(namespace, {
        // Deno adds caCerts to its default roots.
        ...(certificates ? { caCerts: certificates.pems } : {}),
        ...(route ? { proxy: { url: route.url.href, ...(basicAuth ? { basicAuth } : {}) } } : {}),
      });
      denoClients.set(key, client);
    }
    return client;
  };

  const transportFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const target = new URL(input instanceof Request ? input.url : input.toString());
    const route = proxyFor(target.href);
    const bunTls = deno ? undefined : await tlsOptions();
    const runtimeOptions: RuntimeRequestInit = deno
      ? { client: denoClientFor(deno, route) }
      : {
          proxy: route
            ? {
                url: route.url.href,
                // Sent as a header so the credentials never sit in a URL an error message might quote.
                ...(route.authorization ? { headers: { 'Proxy-Authorization': route.authorization } } : {}),
                // NO_PROXY was applied above, by our rules.
                respectNoProxy: false,
              }
            : false,
          ...(bunTls ? { tls: bunTls } : {}),
        };
    let response: Response;
    try {
      response = await fetch(input, { ...init, ...runtimeOptions } as RequestInit);
    } catch (error) {
      const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
      if (signal?.aborted)
        throw route ? viaProxy(signal.reason, error, route, target, failureContext) : error;
      throw classifyFailure(error, target, route, failureContext);
    }
    // A plain-HTTP request through a proxy gets the proxy's 407 as its response.
    if (route && response.status === 407) {
      await response.body?.cancel().catch(() => undefined);
      throw proxyAuthenticationFailure(route);
    }
    return response;
  };

  // Bun's `typeof fetch` also carries `preconnect`, which nothing here calls.
  const fetchImplementation = transportFetch as typeof fetch;
  registerProxyRouter(fetchImplementation, (url) => {
    const route = proxyFor(url);
    return route && noteOf(route, failureContext);
  });
  return {
    fetchImplementation,
    proxyFor,
    describe: (url) => {
      const route = proxyFor(url);
      return route ? `via proxy ${route.display} (from ${route.source})` : 'directly';
    },
  };
}

interface ProxyCandidate {
  value: string;
  source: string;
  kind: 'input' | 'config';
}

function firstDefined(
  candidates: Array<{ value: string | undefined; source: string; kind: 'input' | 'config' }>,
) {
  for (const candidate of candidates) {
    if (candidate.value !== undefined) return candidate as ProxyCandidate;
  }
  return undefined;
}

function environmentProxy(
  env: (name: string) => string | undefined,
  names: string[],
): ProxyCandidate | undefined {
  for (const name of names) {
    const value = env(name);
    if (value !== undefined) return { value, source: name, kind: 'config' };
  }
  return undefined;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

/** Reads a proxy URL as curl does: no scheme means http://; credentials become a Basic header. */
export function parseProxyUrl(
  value: string,
  source: string,
  kind: 'input' | 'config' = 'config',
): ProxyRoute {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(kind, `The proxy URL from ${source} is not a valid URL: ${maskUrl(value)}.`, {
      hint: 'Write it as http://host:port (or http://user:password@host:port).',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(
      kind,
      `The proxy URL from ${source} uses ${url.protocol.slice(0, -1)}://, which is not supported.`,
      { hint: 'Use an HTTP or HTTPS proxy: http://host:port.' },
    );
  }
  if (url.hostname === '') {
    throw new CliError(kind, `The proxy URL from ${source} names no host: ${maskUrl(value)}.`);
  }
  const username = safeDecode(url.username);
  const password = safeDecode(url.password);
  url.username = '';
  url.password = '';
  // A key given where the proxy goes (HTTPS_PROXY=sk-...) parses as a host name: not printed as one.
  const display = `${url.protocol}//${maskKeyLikeWords(url.host)}`;
  const route: ProxyRoute = { url, display, source };
  if (username !== '' || password !== '') {
    const token = base64(`${username}:${password}`);
    route.authorization = `Basic ${token}`;
    rememberSecret(password);
    rememberSecret(token);
  }
  return route;
}

function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function credentialsOf(route: ProxyRoute): { username: string; password: string } | undefined {
  if (route.authorization === undefined) return undefined;
  const decoded = new TextDecoder().decode(
    Uint8Array.from(atob(route.authorization.slice('Basic '.length)), (character) => character.charCodeAt(0)),
  );
  const colon = decoded.indexOf(':');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

interface ExtraCertificates {
  /** `NODE_EXTRA_CA_CERTS=/path/ca.pem` (the first variable that gave some), for messages. */
  setting: string;
  pems: string[];
}

/**
 * The CA certificates to add to the runtime's roots: NODE_EXTRA_CA_CERTS from any layer, and SSL_CERT_FILE
 * (a PEM bundle) and SSL_CERT_DIR (a directory of PEM files, as `c_rehash` leaves it) when they come from a
 * layer the runtime cannot see. Each is checked, so that a wrong path is named instead of every connection
 * failing as if the server's certificate were at fault.
 */
function loadExtraCertificates(
  env: (name: string) => string | undefined,
  readFile: ((path: string) => string) | undefined,
  runtimeApplies: (name: string) => boolean,
): ExtraCertificates | undefined {
  const read = readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const found: { setting: string; pem: string }[] = [];
  const extra = env('NODE_EXTRA_CA_CERTS');
  if (extra !== undefined) found.push(certificateFile('NODE_EXTRA_CA_CERTS', extra, read));
  const file = env('SSL_CERT_FILE');
  if (file !== undefined && !runtimeApplies('SSL_CERT_FILE')) {
    found.push(certificateFile('SSL_CERT_FILE', file, read));
  }
  const directory = env('SSL_CERT_DIR');
  if (directory !== undefined && !runtimeApplies('SSL_CERT_DIR')) {
    found.push(certificateDirectory(directory, read));
  }
  const [first] = found;
  return first === undefined ? undefined : { setting: first.setting, pems: found.map((each) => each.pem) };
}

function certificateFile(
  variable: string,
  path: string,
  read: (path: string) => string,
): { setting: string; pem: string } {
  const setting = `${variable}=${path}`;
  let pem: string;
  try {
    pem = read(path);
  } catch (error) {
    throw new CliError('config', `Cannot read ${setting}: ${fileErrorReason(error)}.`, {
      hint: 'Point it at a PEM file holding your CA certificates, or unset it.',
    });
  }
  if (!pem.includes(beginCertificate)) {
    throw new CliError('config', `${setting} holds no PEM certificate (no "${beginCertificate}" line).`, {
      hint: 'Export the CA certificate in PEM (Base-64) form, or unset the variable.',
    });
  }
  const broken = brokenCertificateIn(pem);
  if (broken !== undefined) {
    throw new CliError(
      'config',
      `${setting}: certificate ${broken} of the file is damaged (cut short, or its body is not Base-64).`,
      { hint: 'Export the CA certificate again in PEM (Base-64) form, or unset the variable.' },
    );
  }
  return { setting, pem };
}

/** Every PEM file of an SSL_CERT_DIR; other files there (a README, CRLs) are passed over, as OpenSSL does. */
function certificateDirectory(
  path: string,
  read: (path: string) => string,
): { setting: string; pem: string } {
  const setting = `SSL_CERT_DIR=${path}`;
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (error) {
    throw new CliError('config', `Cannot read ${setting}: ${fileErrorReason(error)}.`, {
      hint: 'Point it at a directory of PEM CA certificates, or unset it.',
    });
  }
  const pems: string[] = [];
  for (const name of names.sort()) {
    let text: string;
    try {
      text = read(join(path, name));
    } catch {
      continue; // a subdirectory or an unreadable file
    }
    if (text.includes(beginCertificate) && brokenCertificateIn(text) === undefined) pems.push(text);
  }
  if (pems.length === 0) {
    throw new CliError('config', `${setting} holds no readable PEM certificate.`, {
      hint: 'Point it at a directory of PEM CA certificates, or unset it.',
    });
  }
  return { setting, pem: pems.join('\n') };
}

const beginCertificate = '-----BEGIN CERTIFICATE-----';
const endCertificate = '-----END CERTIFICATE-----';

/**
 * The position (1, 2, ...) of the first PEM certificate that is cut short (no END line before the next
 * certificate or the end of the file) or whose body is no whole DER structure, or undefined.
 * Bun and Deno skip a damaged bundle with at most a warning, and the connection then fails as if the
 * server's certificate were at fault: checked here, the file is named instead. Structure only (base64 that
 * decodes to one DER SEQUENCE of the length it declares): no parsing library is loaded for it.
 */
export function brokenCertificateIn(pem: string): number | undefined {
  let position = 0;
  for (let begin = pem.indexOf(beginCertificate); begin >= 0; ) {
    position += 1;
    const next = pem.indexOf(beginCertificate, begin + beginCertificate.length);
    const end = pem.indexOf(endCertificate, begin);
    if (end < 0 || (next >= 0 && end > next)) return position;
    const body = pem.slice(begin + beginCertificate.length, end).replace(/\s+/g, '');
    if (!isWholeDerSequence(body)) return position;
    begin = next;
  }
  return undefined;
}

function isWholeDerSequence(base64: string): boolean {
  let bytes: string;
  try {
    bytes = atob(base64);
  } catch {
    return false;
  }
  if (bytes.length < 2 || bytes.charCodeAt(0) !== 0x30) return false;
  const first = bytes.charCodeAt(1);
  if (first < 0x80) return bytes.length === 2 + first;
  const lengthBytes = first & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 4 || bytes.length < 2 + lengthBytes) return false;
  let length = 0;
  for (let index = 0; index < lengthBytes; index += 1) length = length * 256 + bytes.charCodeAt(2 + index);
  return bytes.length === 2 + lengthBytes + length;
}

interface FailureContext {
  /** `NODE_EXTRA_CA_CERTS=/path` (or SSL_CERT_FILE, SSL_CERT_DIR from a file): the bundle that was added. */
  extraCertificatesSetting?: string;
  noProxyVariable: string;
}

const certificateProblems: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'not signed by a trusted certificate authority',
  UNABLE_TO_GET_ISSUER_CERT: 'not signed by a trusted certificate authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'not signed by a trusted certificate authority',
  SELF_SIGNED_CERT_IN_CHAIN: 'signed by an untrusted (self-signed) certificate authority',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed',
  CERT_UNTRUSTED: 'not trusted',
  CERT_REJECTED: 'rejected',
  CERT_SIGNATURE_FAILURE: 'badly signed',
  INVALID_CA: 'issued by an invalid certificate authority',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not valid yet (check the clock)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'issued for another host name',
  HOSTNAME_MISMATCH: 'issued for another host name',
};

/**
 * A certificate failure in words (Deno's rustls gives no codes: "invalid peer certificate: UnknownIssuer",
 * "certificate not valid for name ..."), with the code Bun would have given, when there is one. Matched on
 * the error text with its URLs taken out: a URL or host name that says "certificate" is no TLS failure.
 */
const certificateWords: [RegExp, string | undefined][] = [
  [/NotValidForName|not valid for name|does not match certificate's altnames/i, 'HOSTNAME_MISMATCH'],
  [/NotValidYet|not valid yet/i, 'CERT_NOT_YET_VALID'],
  [/\bExpired\b|certificate (has )?expired/i, 'CERT_HAS_EXPIRED'],
  [/UnknownIssuer|unable to (verify|get (local )?issuer)/i, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  [/self[- ]signed/i, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  [/BadSignature/, 'CERT_SIGNATURE_FAILURE'],
  [/invalid peer certificate|certificate verify failed/i, undefined],
];

/** Whether the failure is a certificate's, and its code when one is known. */
export function certificateProblemOf(codes: readonly string[], chain: string): { code?: string } | undefined {
  const code = codes.find((candidate) => candidate in certificateProblems);
  if (code !== undefined) return { code };
  const words = chain.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s)]*/gi, '');
  for (const [pattern, wordsCode] of certificateWords) {
    if (pattern.test(words)) return wordsCode === undefined ? {} : { code: wordsCode };
  }
  return undefined;
}

/** Certificate failures and proxy failures become messages that say what to change; the rest go on. */
export function classifyFailure(
  error: unknown,
  target: URL,
  route: ProxyRoute | undefined,
  context: FailureContext,
): unknown {
  const codes = errorCodes(error);
  const message = error instanceof Error ? error.message : String(error);
  // Deno's "fetch failed" keeps the reason in its cause ("invalid peer certificate: UnknownIssuer").
  const chain = errorChainText(error);
  const certificate = certificateProblemOf(codes, chain);
  if (certificate !== undefined) {
    // Without a code, the innermost cause says what went wrong (the outer one may only say "fetch failed"),
    // from its "invalid peer certificate" on when it has one (Deno: "error sending request for url (...):
    // client error (Connect): invalid peer certificate: ...").
    const innermost = causesOf(error).at(-1)?.message ?? message;
    const reason = innermost.slice(Math.max(0, innermost.indexOf('invalid peer certificate')));
    return certificateFailure(target, route, context, certificate.code, reason, error);
  }
  if (route === undefined) return error;

  const tunnelStatus = /tunnel:?\s*(\d{3})/i.exec(message)?.[1];
  if (tunnelStatus === '407' || /proxy authentication required/i.test(chain)) {
    return proxyAuthenticationFailure(route);
  }
  if (tunnelStatus !== undefined) {
    return new CliError(
      'network',
      `The proxy ${route.display} (from ${route.source}) could not connect to ${target.host}: ` +
        `it answered ${message.replace(/^.*tunnel:?\s*/i, '')}.`,
      {
        cause: error,
        hint: `Check the base URL; if ${target.hostname} is inside your network, add it to ${context.noProxyVariable}.`,
      },
    );
  }
  return new CliError(
    'network',
    `Could not reach the proxy ${route.display} (from ${route.source}) on the way to ${target.host}: ` +
      `${describeNetworkError(error)}.`,
    {
      cause: error,
      hint: `Check the proxy URL in ${route.source}, or add ${target.hostname} to ${context.noProxyVariable} to connect directly.`,
    },
  );
}

/** A timeout that stopped the wait for an answer's headers names the proxy; any other stop passes as it is. */
function viaProxy(
  reason: unknown,
  error: unknown,
  route: ProxyRoute,
  target: URL,
  context: FailureContext,
): unknown {
  if (!(reason instanceof CliError) || reason.kind !== 'network') return error;
  return notAnsweringThroughProxy(reason, noteOf(route, context), target.hostname);
}

function noteOf(route: ProxyRoute, context: FailureContext): ProxyNote {
  return { display: route.display, source: route.source, noProxyVariable: context.noProxyVariable };
}

function certificateFailure(
  target: URL,
  route: ProxyRoute | undefined,
  context: FailureContext,
  code: string | undefined,
  message: string,
  error: unknown,
): CliError {
  // A code we know reads as a state ("is self-signed"); the runtime's own words (Deno's rustls errors) are
  // quoted as they are.
  const problem = code ? `is ${certificateProblems[code]} (${code})` : `was not accepted: ${message}`;
  // A plain-HTTP target has no certificate: the one that failed is the https:// proxy's. With an https://
  // target behind an https:// proxy, the runtime does not say which of the two failed.
  const proxyTls = route !== undefined && route.url.protocol === 'https:';
  const proxyNamed = route ? `the proxy ${route.display} (from ${route.source})` : '';
  const whose = !proxyTls
    ? target.host
    : target.protocol === 'http:'
      ? proxyNamed
      : `${target.host} or of ${proxyNamed}`;
  const via = route && !proxyTls ? ` (reached via proxy ${route.display})` : '';
  return new CliError('network', asSentence(`The TLS certificate of ${whose}${via} ${problem}`), {
    cause: error,
    hint: `${certificateRemedy(code, context)} As a last resort, --insecure (or QWEN_TLS_INSECURE=1) turns verification off.`,
  });
}

/** What to change: trusting another CA mends an unknown issuer, not a certificate for another name or date. */
function certificateRemedy(code: string | undefined, context: FailureContext): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    return 'Use the host name the certificate was issued for in the URL.';
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return "Check this machine's clock; if it is right, the server's certificate must be renewed.";
  }
  const setting = context.extraCertificatesSetting;
  return setting
    ? `${setting} does not hold the CA that signed it; add that CA's PEM to the ${setting.startsWith('SSL_CERT_DIR') ? 'directory' : 'file'}.`
    : 'If your network inspects TLS, trust its CA: NODE_EXTRA_CA_CERTS=/path/ca.pem.';
}

function proxyAuthenticationFailure(route: ProxyRoute): CliError {
  const problem = route.authorization
    ? 'rejected the user name and password in its URL'
    : 'asks for a user name and password';
  const remedy = route.authorization ? 'Check them' : 'Put them in the proxy URL';
  return new CliError('network', `The proxy ${route.display} (from ${route.source}) ${problem} (407).`, {
    hint: `${remedy}: ${proxyCredentialsForm}.`,
  });
}

// Deno: proxies and CAs go on an HttpClient given to fetch as `client`. Only the shape used here.
interface DenoHttpClient {
  close(): void;
}

interface DenoClientOptions {
  caCerts?: string[];
  proxy?: { url: string; basicAuth?: { username: string; password: string } };
}

interface DenoNamespace {
  createHttpClient(options: DenoClientOptions): DenoHttpClient;
  env: {
    get(name: string): string | undefined;
    set(name: string, value: string): void;
    delete(name: string): void;
  };
}

/**
 * The proxy variables a Deno HTTP client reads when it is made. The routes are decided here (NO_PROXY's
 * `*` and `host:port` included, which Deno's own rules miss: a request meant to go direct went through the
 * proxy, API key and all), so the variables are hidden from Deno while a client is made, then put back.
 */
const environmentProxyVariables = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((name) => [
  name,
  name.toLowerCase(),
]);

function createDenoClient(namespace: DenoNamespace, options: DenoClientOptions): DenoHttpClient {
  const hidden = new Map<string, string>();
  for (const name of environmentProxyVariables) {
    const value = namespace.env.get(name);
    if (value === undefined) continue;
    hidden.set(name, value);
    namespace.env.delete(name);
  }
  try {
    return namespace.createHttpClient(options);
  } finally {
    for (const [name, value] of hidden) namespace.env.set(name, value);
  }
}

function denoNamespace(): DenoNamespace | undefined {
  return (globalThis as { Deno?: DenoNamespace }).Deno;
}

type BunTlsOptions = { ca: string[] } | { rejectUnauthorized: boolean };

/** The runtime-specific fetch options: Bun's `proxy` and `tls`, or Deno's `client`. */
type RuntimeRequestInit =
  | { client: DenoHttpClient }
  | {
      proxy: false | { url: string; headers?: Record<string, string>; respectNoProxy: boolean };
      tls?: BunTlsOptions;
    };
