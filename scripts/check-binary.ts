// Reads an executable's header and says what it is: ELF / Mach-O / PE, CPU architecture, and for ELF the
// program interpreter (glibc's ld-linux or musl's ld-musl). The release build checks every artifact with it,
// so a mislabelled binary (the wrong target under the right name) fails the build instead of a user.
import { closeSync, openSync, readSync } from 'node:fs';

export type ExecutableFormat = 'elf' | 'mach-o' | 'pe';
export type Architecture = 'x64' | 'arm64';

export type ExecutableHeader = {
  format: ExecutableFormat;
  architecture: Architecture | `unknown (${string})`;
  /** ELF only: the PT_INTERP path, for example /lib64/ld-linux-x86-64.so.2 or /lib/ld-musl-x86_64.so.1. */
  interpreter?: string;
};

export type ReleaseTarget = {
  /** Bun's --target value. */
  bunTarget: string;
  /** File name under dist/. */
  fileName: string;
  format: ExecutableFormat;
  architecture: Architecture;
  libc?: 'glibc' | 'musl';
};

export const releaseTargets: readonly ReleaseTarget[] = [
  target('bun-linux-x64', 'qwen-linux-x64', 'elf', 'x64', 'glibc'),
  target('bun-linux-arm64', 'qwen-linux-arm64', 'elf', 'arm64', 'glibc'),
  target('bun-linux-x64-musl', 'qwen-linux-x64-musl', 'elf', 'x64', 'musl'),
  target('bun-darwin-x64', 'qwen-darwin-x64', 'mach-o', 'x64'),
  target('bun-darwin-arm64', 'qwen-darwin-arm64', 'mach-o', 'arm64'),
  target('bun-windows-x64', 'qwen-windows-x64.exe', 'pe', 'x64'),
];

function target(
  bunTarget: string,
  fileName: string,
  format: ExecutableFormat,
  architecture: Architecture,
  libc?: 'glibc' | 'musl',
): ReleaseTarget {
  return libc
    ? { bunTarget, fileName, format, architecture, libc }
    : { bunTarget, fileName, format, architecture };
}

// Headers, ELF program headers and the interpreter string all sit well inside the first 64 KiB.
const headerBytes = 64 * 1024;

export function readExecutableHeader(file: string): ExecutableHeader {
  const descriptor = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(headerBytes);
    const length = readSync(descriptor, buffer, 0, headerBytes, 0);
    return parseExecutableHeader(buffer.subarray(0, length));
  } finally {
    closeSync(descriptor);
  }
}

export function parseExecutableHeader(bytes: Buffer): ExecutableHeader {
  if (bytes.length >= 20 && bytes.readUInt32BE(0) === 0x7f454c46) return parseElf(bytes);
  if (bytes.length >= 8 && bytes.readUInt32LE(0) === 0xfeedfacf) return parseMachO(bytes);
  if (bytes.length >= 0x40 && bytes.toString('latin1', 0, 2) === 'MZ') return parsePe(bytes);
  throw new Error(
    `not an ELF, 64-bit Mach-O or PE executable (starts with ${bytes.subarray(0, 4).toString('hex')})`,
  );
}

function parseElf(bytes: Buffer): ExecutableHeader {
  const is64Bit = bytes[4] === 2;
  const littleEndian = bytes[5] === 1;
  if (!is64Bit || !littleEndian) throw new Error('ELF file is not 64-bit little-endian');
  const machine = bytes.readUInt16LE(18);
  const architecture = machine === 0x3e ? 'x64' : machine === 0xb7 ? 'arm64' : unknown(machine);
  const header: ExecutableHeader = { format: 'elf', architecture };
  const interpreter = elfInterpreter(bytes);
  if (interpreter !== undefined) header.interpreter = interpreter;
  return header;
}

function elfInterpreter(bytes: Buffer): string | undefined {
  if (bytes.length < 64) return undefined;
  const programHeaderOffset = Number(bytes.readBigUInt64LE(32));
  const programHeaderSize = bytes.readUInt16LE(54);
  const programHeaderCount = bytes.readUInt16LE(56);
  for (let index = 0; index < programHeaderCount; index += 1) {
    const entry = programHeaderOffset + index * programHeaderSize;
    if (entry + 56 > bytes.length) return undefined;
    const programType = bytes.readUInt32LE(entry);
    if (programType !== 3) continue; // PT_INTERP
    const offset = Number(bytes.readBigUInt64LE(entry + 8));
    const size = Number(bytes.readBigUInt64LE(entry + 32));
    if (offset + size > bytes.length) return undefined;
    return bytes.toString('latin1', offset, offset + size).replace(/\0+$/, '');
  }
  return undefined;
}

function parseMachO(bytes: Buffer): ExecutableHeader {
  const cpuType = bytes.readUInt32LE(4);
  const architecture = cpuType === 0x01000007 ? 'x64' : cpuType === 0x0100000c ? 'arm64' : unknown(cpuType);
  return { format: 'mach-o', architecture };
}

function parsePe(bytes: Buffer): ExecutableHeader {
  const peOffset = bytes.readUInt32LE(0x3c);
  if (peOffset + 26 > bytes.length || bytes.readUInt32BE(peOffset) !== 0x50450000) {
    throw new Error('MZ file without a PE signature');
  }
  const machine = bytes.readUInt16LE(peOffset + 4);
  const optionalHeaderMagic = bytes.readUInt16LE(peOffset + 24);
  if (optionalHeaderMagic !== 0x20b) throw new Error('PE file is not PE32+ (64-bit)');
  const architecture = machine === 0x8664 ? 'x64' : machine === 0xaa64 ? 'arm64' : unknown(machine);
  return { format: 'pe', architecture };
}

function unknown(code: number): `unknown (${string})` {
  return `unknown (0x${code.toString(16)})`;
}

/** Problems with an artifact for its target; empty when the header matches. */
export function checkExecutableHeader(header: ExecutableHeader, expected: ReleaseTarget): string[] {
  const problems: string[] = [];
  if (header.format !== expected.format)
    problems.push(`format is ${header.format}, expected ${expected.format}`);
  if (header.architecture !== expected.architecture) {
    problems.push(`architecture is ${header.architecture}, expected ${expected.architecture}`);
  }
  if (expected.libc) {
    const interpreter = header.interpreter ?? '(none)';
    const isMusl = interpreter.includes('ld-musl');
    const isGlibc = interpreter.includes('ld-linux');
    if (expected.libc === 'musl' && !isMusl) problems.push(`interpreter is ${interpreter}, expected ld-musl`);
    if (expected.libc === 'glibc' && !isGlibc)
      problems.push(`interpreter is ${interpreter}, expected ld-linux`);
  }
  return problems;
}

export function describeHeader(header: ExecutableHeader): string {
  const base = `${header.format} ${header.architecture}`;
  return header.interpreter ? `${base} (${header.interpreter})` : base;
}

if (import.meta.main) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: bun scripts/check-binary.ts <executable>...\n');
    process.exit(2);
  }
  // Every file is described, one line each; one that is no executable (SHA256SUMS in `dist/*`) says so.
  let failed = false;
  for (const file of files) {
    try {
      process.stdout.write(`${file}: ${describeHeader(readExecutableHeader(file))}\n`);
    } catch (error) {
      failed = true;
      process.stderr.write(`${file}: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}
