// A throwaway certificate authority and a server certificate it signed, made fresh for each test run with
// the openssl command line. Nothing here is trusted by the system: a client accepts the server only when it
// is told about the CA (NODE_EXTRA_CA_CERTS) or stops verifying (--insecure).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openAiStream } from './openai-server.ts';

export interface TestCertificates {
  directory: string;
  /** The CA certificate, PEM: what NODE_EXTRA_CA_CERTS should point at. */
  caPath: string;
  caPem: string;
  /** The server's certificate (for 127.0.0.1 and localhost) and its private key, PEM. */
  certificatePem: string;
  keyPem: string;
}

/** Makes a CA and a server certificate in a new temporary directory (or the one given). */
export function createTestCertificates(directory = mkdtempSync(path.join(tmpdir(), 'qwen-tls-'))) {
  const file = (name: string) => path.join(directory, name);
  // EC keys: an RSA key takes long enough to generate to matter in a test run.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl([
    'req',
    '-x509',
    ...newKey,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=qwen-lite throwaway test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  openssl([
    'req',
    ...newKey,
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    '/CN=localhost',
  ]);
  writeFileSync(
    file('server.ext'),
    [
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  openssl([
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
  ]);
  return {
    directory,
    caPath: file('ca.pem'),
    caPem: readFileSync(file('ca.pem'), 'utf8'),
    certificatePem: readFileSync(file('server.pem'), 'utf8'),
    keyPem: readFileSync(file('server.key'), 'utf8'),
  } satisfies TestCertificates;
}

function openssl(args: string[]): void {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`openssl ${args[0]} failed: ${result.stderr || result.error?.message}`);
  }
}

export interface HttpsFake {
  /** `https://127.0.0.1:<port>/v1`. */
  url: string;
  port: number;
  /** Paths of the chat requests that got through the TLS handshake. */
  requests: string[];
  stop(): Promise<void>;
}

/** A tiny OpenAI-compatible server over HTTPS with the throwaway certificate: it answers every chat request. */
export function startHttpsFakeOpenAi(
  certificates: TestCertificates,
  text = ['Hello', ' over TLS.'],
): HttpsFake {
  const requests: string[] = [];
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    tls: { cert: certificates.certificatePem, key: certificates.keyPem },
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (request.method !== 'POST' || !path.endsWith('/chat/completions')) {
        return Response.json({ error: { message: `Unknown request URL: ${path}` } }, { status: 404 });
      }
      requests.push(path);
      return new Response(openAiStream({ text }), {
        headers: { 'content-type': 'text/event-stream; charset=utf-8' },
      });
    },
  });
  const port = server.port ?? 0;
  return {
    url: `https://127.0.0.1:${port}/v1`,
    port,
    requests,
    stop: () => server.stop(true),
  };
}
