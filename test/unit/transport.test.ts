import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliError } from '../../src/core/errors.ts';
import {
  brokenCertificateIn,
  certificateProblemOf,
  classifyFailure,
  createTransport,
  parseProxyUrl,
  type TransportOptions,
} from '../../src/net/transport.ts';
import { type ConnectProxy, startConnectProxy } from '../fakes/connect-proxy.ts';
import { createTestCertificates, type TestCertificates } from '../fakes/tls.ts';
import { caught, errorOf } from './helpers.ts';

function transportWith(variables: Record<string, string>, options: Partial<TransportOptions> = {}) {
  const warnings: string[] = [];
  const transport = createTransport({
    env: (name) => variables[name],
    warn: (line) => warnings.push(line),
    ...options,
  });
  return { transport, warnings };
}

describe('proxy choice', () => {
  const https = 'https://api.example.com/v1/chat/completions';
  const http = 'http://llm.example.com/v1/chat/completions';

  test('no proxy anywhere: direct', () => {
    const { transport } = transportWith({});
    expect(transport.proxyFor(https)).toBeUndefined();
    expect(transport.describe(https)).toBe('directly');
  });

  test('HTTPS_PROXY serves https URLs, HTTP_PROXY http URLs, ALL_PROXY both', () => {
    const { transport } = transportWith({
      HTTPS_PROXY: 'http://secure:3128',
      HTTP_PROXY: 'http://plain:3128',
    });
    expect(transport.describe(https)).toBe('via proxy http://secure:3128 (from HTTPS_PROXY)');
    expect(transport.describe(http)).toBe('via proxy http://plain:3128 (from HTTP_PROXY)');
    const all = transportWith({ ALL_PROXY: 'http://every:8080' }).transport;
    expect(all.proxyFor(https)?.source).toBe('ALL_PROXY');
    expect(all.proxyFor(http)?.source).toBe('ALL_PROXY');
    expect(transportWith({ HTTP_PROXY: 'http://plain:3128' }).transport.proxyFor(https)).toBeUndefined();
  });

  test('upper case wins over lower case; lower case alone works; empty counts as unset', () => {
    expect(
      transportWith({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' }).transport.proxyFor(
        https,
      )?.display,
    ).toBe('http://upper:1');
    expect(transportWith({ https_proxy: 'http://lower:2' }).transport.proxyFor(https)?.source).toBe(
      'https_proxy',
    );
    expect(
      transportWith({ HTTPS_PROXY: '', https_proxy: 'http://lower:2' }).transport.proxyFor(https)?.display,
    ).toBe('http://lower:2');
  });

  test('--proxy beats the setting, which beats the environment', () => {
    const variables = { HTTPS_PROXY: 'http://env:1' };
    const all = transportWith(variables, { proxyFlag: 'http://flag:3', proxySetting: 'http://setting:2' });
    expect(all.transport.describe(https)).toBe('via proxy http://flag:3 (from --proxy)');
    const settingOnly = transportWith(variables, { proxySetting: 'http://setting:2' });
    expect(settingOnly.transport.describe(https)).toBe(
      'via proxy http://setting:2 (from the "proxy" setting)',
    );
    // The flag and the setting serve http URLs too.
    expect(settingOnly.transport.proxyFor(http)?.display).toBe('http://setting:2');
  });

  test('NO_PROXY applies to every source, as curl applies it to --proxy', () => {
    const variables = { HTTPS_PROXY: 'http://env:1', NO_PROXY: '.example.com', no_proxy: '*' };
    const { transport } = transportWith(variables, { proxyFlag: 'http://flag:3' });
    expect(transport.proxyFor(https)).toBeUndefined();
    expect(transport.proxyFor('https://dashscope.aliyuncs.com/v1')?.source).toBe('--proxy');
    // Lower-case no_proxy is read when NO_PROXY is not set.
    expect(
      transportWith({ HTTPS_PROXY: 'http://env:1', no_proxy: 'example.com' }).transport.proxyFor(https),
    ).toBeUndefined();
  });

  test('a proxy without a scheme is http://; credentials become a header and never show', () => {
    const route = parseProxyUrl('user%40corp:p%3Ass@proxy.corp:3128', '--proxy');
    expect(route.display).toBe('http://proxy.corp:3128');
    expect(route.url.href).toBe('http://proxy.corp:3128/');
    expect(route.authorization).toBe(`Basic ${btoa('user@corp:p:ss')}`);
    const { transport } = transportWith({ HTTPS_PROXY: 'http://alice:s3cret@proxy:8080' });
    expect(transport.describe(https)).toBe('via proxy http://proxy:8080 (from HTTPS_PROXY)');
    expect(transport.describe(https)).not.toContain('s3cret');
  });

  test('a bad proxy URL is a clear error with the credentials masked', () => {
    const flagFailure = errorOf(() => transportWith({}, { proxyFlag: 'http://bob:hunter2@bad host:80' }));
    expect(flagFailure.kind).toBe('input');
    expect(flagFailure.message).toContain('--proxy');
    expect(flagFailure.message).not.toContain('hunter2');
    const settingFailure = errorOf(() => transportWith({}, { proxySetting: 'socks5://proxy:1080' }));
    expect(settingFailure.kind).toBe('config');
    expect(settingFailure.message).toContain('socks5');
    // Environment proxies fail when a request needs them, naming the variable.
    const { transport } = transportWith({ HTTPS_PROXY: 'http://carol:pw123456@[bad' });
    const environmentFailure = errorOf(() => transport.proxyFor(https));
    expect(environmentFailure.message).toContain('HTTPS_PROXY');
    expect(environmentFailure.message).not.toContain('pw123456');
    expect(environmentFailure.message).toContain('http://carol:***@[bad');
  });
});

describe('certificates and insecure mode', () => {
  test('QWEN_TLS_INSECURE=1 and --insecure warn every time', () => {
    expect(transportWith({ QWEN_TLS_INSECURE: '1' }).warnings[0]).toContain('QWEN_TLS_INSECURE=1');
    expect(transportWith({}, { insecureFlag: true }).warnings[0]).toContain('--insecure');
    expect(transportWith({ QWEN_TLS_INSECURE: '0' }).warnings).toEqual([]);
    // The value as it was set, and Node's own variable with the same warning (the runtimes honour it silently).
    expect(transportWith({ QWEN_TLS_INSECURE: 'yes' }).warnings[0]).toContain('(QWEN_TLS_INSECURE=yes)');
    expect(transportWith({ NODE_TLS_REJECT_UNAUTHORIZED: '0' }).warnings[0]).toContain(
      'TLS certificate verification is off (NODE_TLS_REJECT_UNAUTHORIZED=0)',
    );
    expect(transportWith({ NODE_TLS_REJECT_UNAUTHORIZED: '1' }).warnings).toEqual([]);
  });

  test('an unreadable NODE_EXTRA_CA_CERTS is a configuration error naming the file', () => {
    const missing = errorOf(() => transportWith({ NODE_EXTRA_CA_CERTS: '/nowhere/ca.pem' }));
    expect(missing.kind).toBe('config');
    expect(missing.exitCode).toBe(52);
    expect(missing.message).toContain('/nowhere/ca.pem');
    expect(missing.message).toContain('no such file');
    const notPem = errorOf(() =>
      transportWith({ NODE_EXTRA_CA_CERTS: '/ca.der' }, { readFile: () => 'binary junk' }),
    );
    expect(notPem.message).toContain('no PEM certificate');
  });
});

describe('requests over loopback', () => {
  let certificates: TestCertificates;
  let secureServer: ReturnType<typeof Bun.serve>;
  let plainServer: ReturnType<typeof Bun.serve>;
  let proxy: ConnectProxy;
  let lockedProxy: ConnectProxy;
  let secureUrl: string;
  let plainUrl: string;

  beforeAll(async () => {
    certificates = createTestCertificates();
    secureServer = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      tls: { cert: certificates.certificatePem, key: certificates.keyPem },
      fetch: () => new Response('secure hello'),
    });
    plainServer = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('plain hello') });
    proxy = await startConnectProxy();
    lockedProxy = await startConnectProxy({ credentials: 'alice:s3:cr@t' });
    secureUrl = `https://127.0.0.1:${secureServer.port}/v1`;
    plainUrl = `http://127.0.0.1:${plainServer.port}/v1`;
  });

  afterAll(async () => {
    secureServer.stop(true);
    plainServer.stop(true);
    await proxy.close();
    await lockedProxy.close();
  });

  test('a private CA is refused without NODE_EXTRA_CA_CERTS, with a message naming host and remedies', async () => {
    const { transport } = transportWith({});
    const failure = await caught(transport.fetchImplementation(secureUrl));
    expect(failure.kind).toBe('network');
    expect(failure.message).toContain(`127.0.0.1:${secureServer.port}`);
    expect(failure.message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(failure.hint).toContain('NODE_EXTRA_CA_CERTS=/path/ca.pem');
    expect(failure.hint).toContain('--insecure');
    expect(failure.hint).toContain('QWEN_TLS_INSECURE=1');
  });

  test('NODE_EXTRA_CA_CERTS adds the CA to the built-in roots (a bundle of several certificates)', async () => {
    const other = createTestCertificates();
    const bundle = path.join(other.directory, 'bundle.pem');
    writeFileSync(bundle, `${other.caPem}\n${certificates.caPem}`);
    const { transport } = transportWith({ NODE_EXTRA_CA_CERTS: bundle });
    const response = await transport.fetchImplementation(secureUrl);
    expect(await response.text()).toBe('secure hello');
  });

  test('a damaged certificate in the bundle is a configuration error naming the file and which one', () => {
    // Real certificates pass the check, one or several.
    expect(brokenCertificateIn(certificates.caPem)).toBeUndefined();
    expect(brokenCertificateIn(`${certificates.caPem}\n${certificates.certificatePem}`)).toBeUndefined();
    const cut = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const notBase64 = '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n';
    expect(brokenCertificateIn(cut)).toBe(1);
    expect(brokenCertificateIn(`${certificates.caPem}\n${notBase64}`)).toBe(2);
    // Cut short: no END line, at the end of the file or before the next certificate.
    const withoutEnd = certificates.caPem.slice(0, 400);
    expect(brokenCertificateIn(withoutEnd)).toBe(1);
    expect(brokenCertificateIn(`${certificates.caPem}\n${withoutEnd}`)).toBe(2);
    expect(brokenCertificateIn(`${withoutEnd}\n${certificates.caPem}`)).toBe(1);
    const damaged = errorOf(() =>
      transportWith(
        { NODE_EXTRA_CA_CERTS: '/corp/ca.pem' },
        { readFile: () => `${certificates.caPem}${cut}` },
      ),
    );
    expect(damaged).toMatchObject({ kind: 'config', exitCode: 52 });
    expect(damaged.message).toBe(
      'NODE_EXTRA_CA_CERTS=/corp/ca.pem: certificate 2 of the file is damaged (cut short, or its body is not Base-64).',
    );
  });

  test("an untrusted certificate on the way to a plain-HTTP target is the https:// proxy's, and named so", () => {
    const untrusted = Object.assign(new Error('unable to verify the first certificate'), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    const route = {
      url: new URL('https://proxy.corp:3129'),
      display: 'https://proxy.corp:3129',
      source: 'HTTPS_PROXY',
    };
    const context = { noProxyVariable: 'NO_PROXY' };
    const plain = classifyFailure(untrusted, new URL('http://llm.internal/v1'), route, context) as CliError;
    expect(plain.message).toBe(
      'The TLS certificate of the proxy https://proxy.corp:3129 (from HTTPS_PROXY) is not signed by a trusted certificate authority (UNABLE_TO_VERIFY_LEAF_SIGNATURE).',
    );
    // An https:// target through it: either certificate may be the one (the runtime does not say), so both are named.
    const secure = classifyFailure(untrusted, new URL('https://llm.example/v1'), route, context) as CliError;
    expect(secure.message).toBe(
      'The TLS certificate of llm.example or of the proxy https://proxy.corp:3129 (from HTTPS_PROXY) is not signed by a trusted certificate authority (UNABLE_TO_VERIFY_LEAF_SIGNATURE).',
    );
    // Through a plain-HTTP proxy only the target speaks TLS.
    const tunnel = { ...route, url: new URL('http://proxy.corp:3128'), display: 'http://proxy.corp:3128' };
    const target = classifyFailure(untrusted, new URL('https://llm.example/v1'), tunnel, context) as CliError;
    expect(target.message).toStartWith(
      'The TLS certificate of llm.example (reached via proxy http://proxy.corp:3128)',
    );
  });

  test("a certificate failure without a code (Deno's rustls words) is quoted from 'invalid peer certificate' on", () => {
    const inner = new Error(
      'error sending request for url (https://127.0.0.1:8443/v1/chat/completions): client error (Connect): invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))',
    );
    const failure = classifyFailure(
      new TypeError('fetch failed', { cause: inner }),
      new URL('https://127.0.0.1:8443/v1'),
      undefined,
      { noProxyVariable: 'NO_PROXY' },
    ) as CliError;
    expect(failure.message).toBe(
      'The TLS certificate of 127.0.0.1:8443 was not accepted: invalid peer certificate: Other(OtherError(CaUsedAsEndEntity)).',
    );
  });

  test('the remedy fits the problem: a CA for an unknown issuer, the URL for another name, the clock for dates', () => {
    const failure = (code: string) =>
      classifyFailure(
        Object.assign(new Error(code), { code }),
        new URL('https://llm.example/v1'),
        undefined,
        {
          noProxyVariable: 'NO_PROXY',
          extraCertificatesSetting: 'NODE_EXTRA_CA_CERTS=/corp/ca.pem',
        },
      ) as CliError;
    expect(failure('UNABLE_TO_GET_ISSUER_CERT_LOCALLY').hint).toStartWith(
      "NODE_EXTRA_CA_CERTS=/corp/ca.pem does not hold the CA that signed it; add that CA's PEM to the file.",
    );
    const otherName = failure('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(otherName.message).toContain('is issued for another host name');
    expect(otherName.hint).toStartWith('Use the host name the certificate was issued for in the URL.');
    expect(otherName.hint).not.toContain('NODE_EXTRA_CA_CERTS');
    expect(failure('CERT_HAS_EXPIRED').hint).toStartWith("Check this machine's clock");
  });

  test('a CA bundle that lacks the signer says so', async () => {
    const other = createTestCertificates();
    const { transport } = transportWith({ NODE_EXTRA_CA_CERTS: other.caPath });
    const failure = await caught(transport.fetchImplementation(secureUrl));
    expect(failure.hint).toContain(`NODE_EXTRA_CA_CERTS=${other.caPath} does not hold the CA`);
  });

  test('--insecure accepts the certificate', async () => {
    const { transport, warnings } = transportWith({}, { insecureFlag: true });
    const response = await transport.fetchImplementation(secureUrl);
    expect(await response.text()).toBe('secure hello');
    expect(warnings).toHaveLength(1);
  });

  test('https through the CONNECT proxy with the private CA; NO_PROXY goes around it', async () => {
    const through = transportWith({ HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: certificates.caPath });
    const before = proxy.requests.length;
    expect(await (await through.transport.fetchImplementation(secureUrl)).text()).toBe('secure hello');
    expect(proxy.requests.slice(before).map((request) => request.method)).toEqual(['CONNECT']);

    const around = transportWith({
      HTTPS_PROXY: proxy.url,
      NO_PROXY: `localhost, 127.0.0.1:${secureServer.port}`,
      NODE_EXTRA_CA_CERTS: certificates.caPath,
    });
    const beforeBypass = proxy.requests.length;
    expect(await (await around.transport.fetchImplementation(secureUrl)).text()).toBe('secure hello');
    expect(proxy.requests.length).toBe(beforeBypass);
  });

  test('plain http through the proxy as an absolute-URI request', async () => {
    const { transport } = transportWith({ HTTP_PROXY: proxy.url.replace('http://', '') });
    const before = proxy.requests.length;
    expect(await (await transport.fetchImplementation(plainUrl)).text()).toBe('plain hello');
    expect(proxy.requests.slice(before).map((request) => request.target)).toEqual([plainUrl]);
  });

  test('proxy credentials from the URL reach the proxy; wrong or missing ones say so without echoing', async () => {
    const withCredentials = lockedProxy.url.replace('//', '//alice:s3%3Acr%40t@');
    const good = transportWith({ NODE_EXTRA_CA_CERTS: certificates.caPath }, { proxyFlag: withCredentials });
    expect(await (await good.transport.fetchImplementation(plainUrl)).text()).toBe('plain hello');
    expect(await (await good.transport.fetchImplementation(secureUrl)).text()).toBe('secure hello');
    const expected = `Basic ${btoa('alice:s3:cr@t')}`;
    expect(lockedProxy.requests.map((request) => request.proxyAuthorization)).toEqual([expected, expected]);

    const missing = transportWith({}, { proxyFlag: lockedProxy.url });
    const tunnelFailure = await caught(missing.transport.fetchImplementation(secureUrl));
    expect(tunnelFailure.message).toContain('asks for a user name and password (407)');
    expect(tunnelFailure.message).toContain(`127.0.0.1:${lockedProxy.port}`);
    const plainFailure = await caught(missing.transport.fetchImplementation(plainUrl));
    expect(plainFailure.message).toContain('(407)');

    const wrong = transportWith({}, { proxyFlag: lockedProxy.url.replace('//', '//alice:wrongpass@') });
    const wrongFailure = await caught(wrong.transport.fetchImplementation(plainUrl));
    expect(wrongFailure.message).toContain('rejected the user name and password');
    expect(`${wrongFailure.message} ${wrongFailure.hint}`).not.toContain('wrongpass');
  });

  test('a dead proxy is named, not the target', async () => {
    const { transport } = transportWith({}, { proxySetting: 'http://127.0.0.1:1' });
    const failure = await caught(transport.fetchImplementation(plainUrl));
    expect(failure.message).toContain(
      'Could not reach the proxy http://127.0.0.1:1 (from the "proxy" setting)',
    );
    expect(failure.message).toContain('connection refused');
    expect(failure.hint).toContain('NO_PROXY');
  });

  test('a proxy that cannot reach the target says so', async () => {
    const { transport } = transportWith({ HTTPS_PROXY: proxy.url });
    const failure = await caught(transport.fetchImplementation('https://127.0.0.1:1/v1'));
    expect(failure.message).toContain(
      `The proxy ${proxy.url} (from HTTPS_PROXY) could not connect to 127.0.0.1:1`,
    );
    expect(failure.message).toContain('502');
  });

  test('a direct connection failure passes through untouched for the caller to describe', async () => {
    const { transport } = transportWith({});
    const error = await transport
      .fetchImplementation('http://127.0.0.1:1/v1')
      .catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(CliError);
    expect((error as { code?: string }).code).toBe('ECONNREFUSED');
  });
});

test('a certificate failure is told from its words (Deno gives no codes), never from a URL or host name', () => {
  expect(
    certificateProblemOf(
      [],
      'fetch failed: error sending request for url (https://h/v1): client error (Connect): invalid peer certificate: UnknownIssuer',
    ),
  ).toEqual({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  expect(
    certificateProblemOf([], 'invalid peer certificate: certificate not valid for name "127.0.0.1"'),
  ).toEqual({ code: 'HOSTNAME_MISMATCH' });
  expect(certificateProblemOf(['CERT_HAS_EXPIRED'], 'x')).toEqual({ code: 'CERT_HAS_EXPIRED' });
  expect(
    certificateProblemOf(
      [],
      'fetch failed: error sending request for url (http://127.0.0.1:9/certificate/v1): connection refused',
    ),
  ).toBeUndefined();
  expect(
    certificateProblemOf(['ENOTFOUND'], 'getaddrinfo ENOTFOUND certificate-proxy.invalid'),
  ).toBeUndefined();
});
