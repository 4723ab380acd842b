// scripts/check-binary.ts reads ELF / Mach-O / PE headers well enough to catch a mislabelled artifact, and
// the host build prints the package version. Headers are synthesised here, so no cross build is needed.
import { describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import packageJson from '../../package.json' with { type: 'json' };
import { hostTarget } from '../../scripts/build.ts';
import {
  checkExecutableHeader,
  parseExecutableHeader,
  type ReleaseTarget,
  readExecutableHeader,
  releaseTargets,
} from '../../scripts/check-binary.ts';

function elf(machine: number, interpreter: string): Buffer {
  const bytes = Buffer.alloc(0x200);
  bytes.writeUInt32BE(0x7f454c46, 0);
  bytes[4] = 2; // 64-bit
  bytes[5] = 1; // little-endian
  bytes.writeUInt16LE(machine, 18);
  bytes.writeBigUInt64LE(64n, 32); // program headers right after the ELF header
  bytes.writeUInt16LE(56, 54);
  bytes.writeUInt16LE(2, 56);
  bytes.writeUInt32LE(6, 64); // PT_PHDR, skipped
  const interpreterEntry = 64 + 56;
  bytes.writeUInt32LE(3, interpreterEntry); // PT_INTERP
  bytes.writeBigUInt64LE(0x100n, interpreterEntry + 8);
  bytes.writeBigUInt64LE(BigInt(interpreter.length + 1), interpreterEntry + 32);
  bytes.write(`${interpreter}\0`, 0x100, 'latin1');
  return bytes;
}

function machO(cpuType: number): Buffer {
  const bytes = Buffer.alloc(32);
  bytes.writeUInt32LE(0xfeedfacf, 0);
  bytes.writeUInt32LE(cpuType, 4);
  return bytes;
}

function pe(machine: number, optionalMagic = 0x20b): Buffer {
  const bytes = Buffer.alloc(0x200);
  bytes.write('MZ', 0, 'latin1');
  bytes.writeUInt32LE(0x80, 0x3c);
  bytes.writeUInt32BE(0x50450000, 0x80);
  bytes.writeUInt16LE(machine, 0x84);
  bytes.writeUInt16LE(optionalMagic, 0x80 + 24);
  return bytes;
}

const targetNamed = (fileName: string): ReleaseTarget => {
  const found = releaseTargets.find((candidate) => candidate.fileName === fileName);
  if (!found) throw new Error(`no release target ${fileName}`);
  return found;
};

describe('check-binary', () => {
  test('the six release targets and their names', () => {
    expect(releaseTargets.map((target) => `${target.bunTarget} -> ${target.fileName}`)).toEqual([
      'bun-linux-x64 -> qwen-linux-x64',
      'bun-linux-arm64 -> qwen-linux-arm64',
      'bun-linux-x64-musl -> qwen-linux-x64-musl',
      'bun-darwin-x64 -> qwen-darwin-x64',
      'bun-darwin-arm64 -> qwen-darwin-arm64',
      'bun-windows-x64 -> qwen-windows-x64.exe',
    ]);
  });

  test('ELF: architecture and interpreter; glibc and musl are told apart', () => {
    const glibcX64 = parseExecutableHeader(elf(0x3e, '/lib64/ld-linux-x86-64.so.2'));
    expect(glibcX64).toEqual({
      format: 'elf',
      architecture: 'x64',
      interpreter: '/lib64/ld-linux-x86-64.so.2',
    });
    expect(checkExecutableHeader(glibcX64, targetNamed('qwen-linux-x64'))).toEqual([]);
    expect(checkExecutableHeader(glibcX64, targetNamed('qwen-linux-x64-musl'))).toEqual([
      'interpreter is /lib64/ld-linux-x86-64.so.2, expected ld-musl',
    ]);
    const musl = parseExecutableHeader(elf(0x3e, '/lib/ld-musl-x86_64.so.1'));
    expect(checkExecutableHeader(musl, targetNamed('qwen-linux-x64-musl'))).toEqual([]);
    const arm64 = parseExecutableHeader(elf(0xb7, '/lib/ld-linux-aarch64.so.1'));
    expect(checkExecutableHeader(arm64, targetNamed('qwen-linux-arm64'))).toEqual([]);
    expect(checkExecutableHeader(arm64, targetNamed('qwen-linux-x64'))).toEqual([
      'architecture is arm64, expected x64',
    ]);
  });

  test('Mach-O and PE', () => {
    expect(parseExecutableHeader(machO(0x0100000c))).toEqual({ format: 'mach-o', architecture: 'arm64' });
    expect(parseExecutableHeader(machO(0x01000007))).toEqual({ format: 'mach-o', architecture: 'x64' });
    expect(
      checkExecutableHeader(parseExecutableHeader(machO(0x01000007)), targetNamed('qwen-darwin-arm64')),
    ).toEqual(['architecture is x64, expected arm64']);
    expect(parseExecutableHeader(pe(0x8664))).toEqual({ format: 'pe', architecture: 'x64' });
    expect(parseExecutableHeader(pe(0xaa64)).architecture).toBe('arm64');
    expect(() => parseExecutableHeader(pe(0x14c, 0x10b))).toThrow('not PE32+');
    expect(
      checkExecutableHeader(parseExecutableHeader(pe(0x8664)), targetNamed('qwen-linux-x64')).at(0),
    ).toBe('format is pe, expected elf');
  });

  test('anything else is refused', () => {
    expect(() => parseExecutableHeader(Buffer.from('#!/bin/sh\necho hi\n'))).toThrow('not an ELF');
    expect(parseExecutableHeader(elf(0xf3, '/lib/ld-linux-riscv64-lp64d.so.1')).architecture).toBe(
      'unknown (0xf3)',
    );
  });
});

describe.skipIf(hostTarget() === undefined)('host build', () => {
  test('scripts/build.ts --outfile builds a binary of the host format that prints the version', async () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'qwen-build-test-'));
    try {
      const outfile = path.join(directory, 'qwen');
      const build = Bun.spawn(
        [
          process.execPath,
          path.join(import.meta.dir, '..', '..', 'scripts', 'build.ts'),
          '--outfile',
          outfile,
        ],
        { stdout: 'pipe', stderr: 'pipe' },
      );
      const [output, exitCode] = await Promise.all([new Response(build.stdout).text(), build.exited]);
      expect(exitCode).toBe(0);
      expect(output).toContain(`--version ${packageJson.version}`);
      const host = hostTarget() as ReleaseTarget;
      expect(checkExecutableHeader(readExecutableHeader(outfile), host)).toEqual([]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }, 60_000);

  test("a build stopped by SIGTERM removes Bun's 100 MB temporary file and its own", async () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'qwen-build-test-'));
    try {
      const build = Bun.spawn(
        [
          process.execPath,
          path.join(import.meta.dir, '..', '..', 'scripts', 'build.ts'),
          '--outfile',
          'out/qwen',
        ],
        { cwd: directory, stdout: 'ignore', stderr: 'ignore' },
      );
      // The build's own directory next to the outfile (`.build-XXXXXX`), where Bun writes its temporary file,
      // and any `.bun-build` file in the working directory.
      const out = path.join(directory, 'out');
      const own = () =>
        existsSync(out) ? readdirSync(out).filter((name) => name.startsWith('.build-')) : [];
      const leftovers = () => [
        ...readdirSync(directory).filter((name) => name.endsWith('.bun-build')),
        ...own(),
      ];
      // Stopped once Bun has started writing the executable.
      const writing = () =>
        own().some((name) => readdirSync(path.join(out, name)).some((file) => file.endsWith('.bun-build')));
      while (!writing() && build.exitCode === null) await Bun.sleep(10);
      build.kill('SIGTERM');
      expect(await build.exited).toBe(143);
      expect(leftovers()).toEqual([]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }, 60_000);
});
