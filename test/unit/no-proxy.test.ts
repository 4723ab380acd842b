import { describe, expect, test } from 'bun:test';
import { bypassesProxy, parseIpAddress, parseNoProxy } from '../../src/net/no-proxy.ts';

const bypass = (noProxy: string | undefined, url: string) => bypassesProxy(noProxy, new URL(url));

describe('NO_PROXY matching', () => {
  test('empty or missing lists match nothing', () => {
    expect(bypass(undefined, 'https://api.example.com/v1')).toBe(false);
    expect(bypass('', 'https://api.example.com/v1')).toBe(false);
    expect(bypass(' , ,', 'https://api.example.com/v1')).toBe(false);
  });

  test('* matches every host, alone or in a list', () => {
    expect(bypass('*', 'https://api.example.com')).toBe(true);
    expect(bypass('internal.corp, *', 'http://10.1.2.3:8080')).toBe(true);
  });

  test('a host name matches itself and its subdomains, not look-alikes', () => {
    expect(bypass('corp.example', 'https://corp.example/v1')).toBe(true);
    expect(bypass('corp.example', 'https://llm.corp.example/v1')).toBe(true);
    expect(bypass('corp.example', 'https://a.b.corp.example/v1')).toBe(true);
    expect(bypass('corp.example', 'https://xcorp.example/v1')).toBe(false);
    expect(bypass('corp.example', 'https://corp.example.com/v1')).toBe(false);
  });

  test('a leading dot or *. is a domain suffix that also matches the domain itself (curl)', () => {
    expect(bypass('.corp.example', 'https://llm.corp.example')).toBe(true);
    expect(bypass('.corp.example', 'https://corp.example')).toBe(true);
    expect(bypass('*.corp.example', 'https://llm.corp.example')).toBe(true);
    expect(bypass('.corp.example', 'https://notcorp.example')).toBe(false);
  });

  test('case and trailing dots do not matter', () => {
    expect(bypass('LLM.Corp.Example', 'https://llm.corp.example')).toBe(true);
    expect(bypass('llm.corp.example.', 'https://LLM.CORP.EXAMPLE.')).toBe(true);
  });

  test('entries are separated by commas and any whitespace', () => {
    const list = 'localhost,\t127.0.0.1  .internal\n  api.local';
    expect(bypass(list, 'http://localhost:8080')).toBe(true);
    expect(bypass(list, 'http://127.0.0.1:11434')).toBe(true);
    expect(bypass(list, 'https://vllm.internal')).toBe(true);
    expect(bypass(list, 'https://api.local')).toBe(true);
    expect(bypass(list, 'https://dashscope.aliyuncs.com')).toBe(false);
  });

  test('host:port matches that port only; a host alone matches every port', () => {
    expect(bypass('llm.corp.example:8443', 'https://llm.corp.example:8443/v1')).toBe(true);
    expect(bypass('llm.corp.example:8443', 'https://llm.corp.example/v1')).toBe(false);
    expect(bypass('llm.corp.example:443', 'https://llm.corp.example/v1')).toBe(true);
    expect(bypass('llm.corp.example:80', 'http://llm.corp.example/v1')).toBe(true);
    expect(bypass('127.0.0.1:9000', 'http://127.0.0.1:9001')).toBe(false);
    expect(bypass('127.0.0.1:9000', 'http://127.0.0.1:9000')).toBe(true);
    expect(bypass('llm.corp.example', 'https://llm.corp.example:9999')).toBe(true);
  });

  test('IP addresses match exactly, ranges by CIDR, and never by name', () => {
    expect(bypass('10.0.0.5', 'http://10.0.0.5/v1')).toBe(true);
    expect(bypass('10.0.0.5', 'http://10.0.0.50/v1')).toBe(false);
    expect(bypass('10.0.0.0/8', 'http://10.200.3.4/v1')).toBe(true);
    expect(bypass('10.0.0.0/8', 'http://11.0.0.1/v1')).toBe(false);
    expect(bypass('192.168.1.0/24', 'http://192.168.1.77')).toBe(true);
    expect(bypass('0.0.0.0/0', 'http://203.0.113.9')).toBe(true);
    // Names are not resolved, as in curl.
    expect(bypass('localhost', 'http://127.0.0.1')).toBe(false);
    expect(bypass('127.0.0.1', 'http://localhost')).toBe(false);
    // An address is not a domain suffix: .0.0.1 must not match 10.0.0.1.
    expect(bypass('0.0.1', 'http://10.0.0.1')).toBe(false);
  });

  test('IPv6 with or without brackets, with ports and ranges', () => {
    expect(bypass('::1', 'http://[::1]:8080')).toBe(true);
    expect(bypass('[::1]', 'http://[::1]:8080')).toBe(true);
    expect(bypass('[::1]:8080', 'http://[::1]:8080')).toBe(true);
    expect(bypass('[::1]:8080', 'http://[::1]:8081')).toBe(false);
    expect(bypass('0:0:0:0:0:0:0:1', 'http://[::1]')).toBe(true);
    expect(bypass('fd00::/8', 'http://[fd12:3456::1]')).toBe(true);
    expect(bypass('fd00::/8', 'http://[fe80::1]')).toBe(false);
    expect(bypass('::1', 'http://127.0.0.1')).toBe(false);
  });

  test('malformed entries are skipped, the rest still apply', () => {
    const list = parseNoProxy('host:notaport, 10.0.0.0/99, ., good.example');
    expect(list.entries.map((entry) => entry.host)).toEqual(['good.example']);
    expect(bypassesProxy(list, new URL('https://api.good.example'))).toBe(true);
  });

  test('IPv6 parsing handles :: anywhere and embedded IPv4', () => {
    expect(parseIpAddress('::')?.value).toBe(0n);
    expect(parseIpAddress('::ffff:10.0.0.1')?.value).toBe(0xffff0a000001n);
    expect(parseIpAddress('1::')?.value).toBe(1n << 112n);
    expect(parseIpAddress('1:2:3:4:5:6:7:8')?.value).toBe(0x00010002000300040005000600070008n);
    expect(parseIpAddress('1:2:3:4:5:6:7:8:9')).toBeUndefined();
    expect(parseIpAddress('1::2::3')).toBeUndefined();
    expect(parseIpAddress('256.1.1.1')).toBeUndefined();
  });
});
