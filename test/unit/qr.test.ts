import { expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  alignmentPositions,
  dataCodewordCount,
  encodeQr,
  formatBits,
  type QrCode,
  reedSolomonDivisor,
  reedSolomonRemainder,
  renderQrForTerminal,
  versionBits,
} from '../../src/auth/qr.ts';

test('Reed-Solomon: the "HELLO WORLD" 1-M codewords give the published error correction bytes', () => {
  const data = [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17];
  expect(reedSolomonRemainder(data, reedSolomonDivisor(10))).toEqual([
    196, 35, 39, 119, 235, 215, 231, 226, 93, 23,
  ]);
});

test('format information matches the standard table for every mask at L and M', () => {
  const table = {
    L: [
      '111011111000100',
      '111001011110011',
      '111110110101010',
      '111100010011101',
      '110011000101111',
      '110001100011000',
      '110110001000001',
      '110100101110110',
    ],
    M: [
      '101010000010010',
      '101000100100101',
      '101111001111100',
      '101101101001011',
      '100010111111001',
      '100000011001110',
      '100111110010111',
      '100101010100000',
    ],
  } as const;
  for (const level of ['L', 'M'] as const) {
    table[level].forEach((bits, mask) => {
      expect(formatBits(level, mask).toString(2).padStart(15, '0')).toBe(bits);
    });
  }
});

test('version information and alignment positions match the standard', () => {
  expect(versionBits(7)).toBe(0x07c94);
  expect(versionBits(10)).toBe(0x0a4d3);
  expect(alignmentPositions(1)).toEqual([]);
  expect(alignmentPositions(2)).toEqual([6, 18]);
  expect(alignmentPositions(7)).toEqual([6, 22, 38]);
  expect(alignmentPositions(10)).toEqual([6, 28, 50]);
  // Data capacities (codewords) from the standard's table 7.
  expect([1, 4, 7, 10].map((version) => dataCodewordCount(version, 'M'))).toEqual([16, 64, 124, 216]);
  expect([1, 4, 7, 10].map((version) => dataCodewordCount(version, 'L'))).toEqual([19, 80, 156, 274]);
});

/** Reads back the first copy of the format bits, as a scanner would. */
function readFormatBits(code: QrCode): number {
  const at = (x: number, y: number) => (code.modules[y]![x]! ? 1 : 0);
  const positions: [number, number][] = [];
  for (let index = 0; index <= 5; index += 1) positions.push([8, index]);
  positions.push([8, 7], [8, 8], [7, 8]);
  for (let index = 9; index < 15; index += 1) positions.push([14 - index, 8]);
  return positions.reduce((bits, [x, y], index) => bits | (at(x, y) << index), 0);
}

function readSecondFormatCopy(code: QrCode): number {
  const at = (x: number, y: number) => (code.modules[y]![x]! ? 1 : 0);
  let bits = 0;
  for (let index = 0; index < 8; index += 1) bits |= at(code.size - 1 - index, 8) << index;
  for (let index = 8; index < 15; index += 1) bits |= at(8, code.size - 15 + index) << index;
  return bits;
}

test('a device-login URL: smallest version, finders, timing, dark module and both format copies in place', () => {
  const url = 'https://chat.qwen.ai/authorize?user_code=ABCD-1234&client=qwen-code';
  const code = encodeQr(url, 'M');
  expect(code.version).toBe(5); // 67 bytes: version 4-M holds 62, 5-M holds 84.
  expect(code.size).toBe(37);
  const finderRow = [true, true, true, true, true, true, true, false];
  for (const [x, y] of [
    [0, 0],
    [code.size - 7, 0],
    [0, code.size - 7],
  ] as const) {
    expect(code.modules[y]!.slice(x, x + 7)).toEqual(finderRow.slice(0, 7));
    expect(code.modules[y + 2]!.slice(x, x + 7)).toEqual([true, false, true, true, true, false, true]);
  }
  for (let index = 8; index < code.size - 8; index += 1) {
    expect(code.modules[6]![index]).toBe(index % 2 === 0);
    expect(code.modules[index]![6]).toBe(index % 2 === 0);
  }
  expect(code.modules[code.size - 8]![8]).toBe(true);
  expect(readFormatBits(code)).toBe(formatBits('M', code.mask));
  expect(readSecondFormatCopy(code)).toBe(formatBits('M', code.mask));
});

test('too long for version 10 is refused rather than drawn wrong', () => {
  expect(() => encodeQr('x'.repeat(300), 'M')).toThrow(RangeError);
  expect(encodeQr('x'.repeat(200), 'L').version).toBe(9);
});

test('terminal rendering: two module rows per line, quiet zone around, colors only when asked', () => {
  const code = encodeQr('hi', 'L');
  const plain = renderQrForTerminal(code, { color: false, quietZone: 2 }).split('\n');
  expect(plain).toHaveLength(Math.ceil((code.size + 4) / 2));
  expect(plain.every((line) => [...line].length === code.size + 4)).toBe(true);
  expect(plain[0]).toBe('█'.repeat(code.size + 4)); // Light quiet zone drawn as ink without colors.
  const colored = renderQrForTerminal(code);
  expect(colored.startsWith('\u001b[30;107m')).toBe(true);
});

// When a QR decoder is installed (apt-get install zbar-tools), check that real scanners read what we draw.
const zbarAvailable = spawnSync('zbarimg', ['--version']).status === 0;
test.skipIf(!zbarAvailable)('zbarimg decodes the codes (ragged blocks, versions 1 to 10)', () => {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'qr-'));
  try {
    // ASCII only: without an ECI header zbar guesses Shift-JIS for other bytes (URLs are ASCII anyway).
    const texts = [
      'hi',
      'https://chat.qwen.ai/authorize?user_code=ABCD-1234&client=qwen-code',
      'a/b?c=d&'.repeat(12),
      'a/b?c=d&'.repeat(26),
    ];
    for (const text of texts) {
      for (const level of ['L', 'M'] as const) {
        const code = encodeQr(text, level);
        const scale = 4;
        const border = 4;
        const side = (code.size + border * 2) * scale;
        const pixels = Buffer.alloc(side * side, 255);
        for (let y = 0; y < side; y += 1) {
          for (let x = 0; x < side; x += 1) {
            const row = Math.floor(y / scale) - border;
            const column = Math.floor(x / scale) - border;
            if (code.modules[row]?.[column]) pixels[y * side + x] = 0;
          }
        }
        const file = path.join(directory, 'code.pgm');
        writeFileSync(file, Buffer.concat([Buffer.from(`P5\n${side} ${side}\n255\n`), pixels]));
        const result = spawnSync('zbarimg', ['-q', '--raw', file], { encoding: 'utf8' });
        expect(result.stdout.replace(/\n$/, '')).toBe(text);
      }
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
