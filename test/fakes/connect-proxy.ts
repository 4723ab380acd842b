// A small forwarding proxy for tests, on 127.0.0.1 with a free port: it tunnels CONNECT (for https targets)
// and forwards plain HTTP requests written with an absolute URI, and records every request that reaches it,
// so a test can tell whether the client went through the proxy or around it. It can insist on credentials
// (407 otherwise), as a corporate proxy does.
import net from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** `host:port` for CONNECT, the absolute URI otherwise. */
  target: string;
  proxyAuthorization?: string;
  /** False when the proxy refused it (407) or could not reach the target (502). */
  forwarded: boolean;
}

export interface ConnectProxyOptions {
  /** `user:password` the client must send as Basic Proxy-Authorization. */
  credentials?: string;
}

export interface ConnectProxy {
  port: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

const headEnd = '\r\n\r\n';

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const expectedAuthorization =
    options.credentials === undefined
      ? undefined
      : `Basic ${Buffer.from(options.credentials).toString('base64')}`;

  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(headEnd);
      if (end < 0) return;
      client.off('data', onData);
      client.pause();
      const head = buffered.subarray(0, end).toString('latin1');
      const rest = buffered.subarray(end + headEnd.length);
      handle(client, head, rest);
    };
    client.on('data', onData);
  });

  const handle = (client: net.Socket, head: string, rest: Buffer) => {
    const [requestLine = '', ...headerLines] = head.split('\r\n');
    const [method = '', target = ''] = requestLine.split(' ');
    const headers = headerLines.map((line) => {
      const colon = line.indexOf(':');
      return { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() };
    });
    const proxyAuthorization = headers.find(
      (header) => header.name.toLowerCase() === 'proxy-authorization',
    )?.value;
    const record: ProxiedRequest = { method, target, forwarded: false };
    if (proxyAuthorization !== undefined) record.proxyAuthorization = proxyAuthorization;
    requests.push(record);

    if (expectedAuthorization !== undefined && proxyAuthorization !== expectedAuthorization) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n' +
          'Content-Length: 0\r\nConnection: close\r\n\r\n',
      );
      return;
    }

    /** Connects upstream, lets `opening` send the first bytes, then pipes both ways; 502 if it cannot. */
    const tunnel = (port: number, host: string, opening: (upstream: net.Socket) => void) => {
      const upstream = net.connect(port, host);
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('connect', () => {
        record.forwarded = true;
        opening(upstream);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.on('error', () => {
        if (!record.forwarded) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
        else client.destroy();
      });
    };

    if (method === 'CONNECT') {
      const { hostname, port } = new URL(`http://${target}`);
      tunnel(Number(port || 443), unbracket(hostname), (upstream) => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (rest.length > 0) upstream.write(rest);
      });
      return;
    }

    // Plain HTTP: rewrite the absolute URI to a path and drop what only the proxy should see. One request
    // per connection (Connection: close) keeps this fake free of HTTP parsing beyond the head.
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const forwardedHeaders = headers
      .filter(
        (header) =>
          !['proxy-authorization', 'proxy-connection', 'connection'].includes(header.name.toLowerCase()),
      )
      .map((header) => `${header.name}: ${header.value}`);
    tunnel(Number(url.port || 80), unbracket(url.hostname), (upstream) => {
      upstream.write(
        `${method} ${url.pathname}${url.search} HTTP/1.1\r\n${[...forwardedHeaders, 'Connection: close'].join('\r\n')}${headEnd}`,
      );
      if (rest.length > 0) upstream.write(rest);
    });
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The proxy has no TCP port.');
  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function unbracket(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}
