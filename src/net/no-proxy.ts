// NO_PROXY as curl reads it, so one value works for curl, git and us alike:
//   - entries are separated by commas and/or whitespace, compared without regard to case;
//   - `*` matches every host;
//   - `corp.example`, `.corp.example` and `*.corp.example` all match corp.example and every subdomain of it
//     (curl strips the leading dot; it never matches `xcorp.example`);
//   - an IP address matches that address, and `10.0.0.0/8` or `fd00::/8` a range (curl >= 7.86);
//     IPv6 may be written with or without brackets;
//   - `host:port` (curl ignores ports; Go and Python honour them) matches that host on that port only,
//     a host without a port matches every port.
// Host names are not resolved: `localhost` does not match 127.0.0.1, as in curl. Pure: no I/O.

export interface NoProxyEntry {
  /** Lower-case host name without leading dots, or the address as written. */
  host: string;
  address?: IpAddress;
  /** Prefix length when the entry is a CIDR range. */
  prefixLength?: number;
  port?: number;
}

export interface NoProxyList {
  matchesAll: boolean;
  entries: NoProxyEntry[];
}

export function parseNoProxy(value: string | undefined): NoProxyList {
  const list: NoProxyList = { matchesAll: false, entries: [] };
  // Usually unset: then not even the splitting regex is compiled.
  if (value === undefined || value.trim() === '') return list;
  for (const raw of value.split(/[\s,]+/)) {
    const token = raw.trim().toLowerCase();
    if (token === '') continue;
    if (token === '*') {
      list.matchesAll = true;
      continue;
    }
    const entry = parseEntry(token);
    if (entry !== undefined) list.entries.push(entry);
  }
  return list;
}

/** True when a request to `url` should skip the proxy under this NO_PROXY value. */
export function bypassesProxy(noProxy: string | NoProxyList | undefined, url: URL): boolean {
  const list = typeof noProxy === 'object' ? noProxy : parseNoProxy(noProxy);
  if (list.matchesAll) return true;
  if (list.entries.length === 0) return false;
  const host = normalizeHost(url.hostname);
  const port = Number(url.port || defaultPort(url.protocol));
  const address = parseIpAddress(host);
  return list.entries.some((entry) => {
    if (entry.port !== undefined && entry.port !== port) return false;
    if (address !== undefined || entry.address !== undefined) return matchesAddress(entry, address);
    return host === entry.host || host.endsWith(`.${entry.host}`);
  });
}

function parseEntry(token: string): NoProxyEntry | undefined {
  let rest = token;
  let port: number | undefined;
  // [v6]:port, [v6], v4:port or name:port. A bare IPv6 address has several colons and no port.
  const bracketed = /^\[([^\]]+)\](?::(\d+))?(?:\/(\d+))?$/.exec(rest);
  if (bracketed) {
    rest = bracketed[1]! + (bracketed[3] === undefined ? '' : `/${bracketed[3]}`);
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    const colon = rest.indexOf(':');
    const portText = rest.slice(colon + 1);
    if (!/^\d+$/.test(portText)) return undefined;
    port = Number(portText);
    rest = rest.slice(0, colon);
  }

  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const address = parseIpAddress(rest.slice(0, slash));
    const prefixLength = Number(rest.slice(slash + 1));
    if (address === undefined || !Number.isInteger(prefixLength)) return undefined;
    if (prefixLength < 0 || prefixLength > address.bits) return undefined;
    return withPort({ host: rest.slice(0, slash), address, prefixLength }, port);
  }
  const address = parseIpAddress(rest);
  if (address !== undefined) return withPort({ host: rest, address }, port);

  const host = normalizeHost(rest.replace(/^\*/, '').replace(/^\.+/, ''));
  if (host === '') return undefined;
  return withPort({ host }, port);
}

function withPort(entry: NoProxyEntry, port: number | undefined): NoProxyEntry {
  return port === undefined ? entry : { ...entry, port };
}

function normalizeHost(host: string): string {
  const lower = host.toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  // `example.com.` is the same host as `example.com`.
  return unbracketed.replace(/\.$/, '');
}

function defaultPort(protocol: string): number {
  return protocol === 'https:' ? 443 : 80;
}

export interface IpAddress {
  bits: 32 | 128;
  value: bigint;
}

/** An address entry never matches a name, nor a name entry an address (no resolving, no suffixes). */
function matchesAddress(entry: NoProxyEntry, address: IpAddress | undefined): boolean {
  const network = entry.address;
  if (network === undefined || address === undefined || network.bits !== address.bits) return false;
  if (entry.prefixLength === undefined) return network.value === address.value;
  const shift = BigInt(address.bits - entry.prefixLength);
  return network.value >> shift === address.value >> shift;
}

export function parseIpAddress(text: string): IpAddress | undefined {
  const host = normalizeHost(text);
  const v4 = parseIpv4(host);
  if (v4 !== undefined) return { bits: 32, value: v4 };
  const v6 = parseIpv6(host);
  if (v6 !== undefined) return { bits: 128, value: v6 };
  return undefined;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  if (!text.includes(':')) return undefined;
  const withoutZone = text.replace(/%.*$/, '');
  const halves = withoutZone.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string | undefined): number[] | undefined => {
    if (part === undefined || part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (const [index, piece] of pieces.entries()) {
      // An embedded IPv4 tail (::ffff:10.0.0.1) counts as two groups.
      if (index === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
        continue;
      }
      if (!/^[0-9a-f]{1,4}$/.test(piece)) return undefined;
      groups.push(Number.parseInt(piece, 16));
    }
    return groups;
  };
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}
