// A small QR code encoder (ISO/IEC 18004): byte mode, error correction L or M, versions 1-10 (up to 213
// bytes at L), which covers a device-login URL. It exists so a login over SSH can be finished by pointing
// a phone at the terminal, without a new dependency. Layout and tables follow the standard; the structure
// follows Project Nayuki's well-known reference implementation.

export type ErrorCorrectionLevel = 'L' | 'M';

export interface QrCode {
  version: number;
  /** Modules per side: 17 + 4 x version. */
  size: number;
  level: ErrorCorrectionLevel;
  mask: number;
  /** modules[y][x], true = dark. */
  modules: boolean[][];
}

const maximumVersion = 10;
// Indexed by version (index 0 unused), from the standard's table 9.
const eccCodewordsPerBlock: Record<ErrorCorrectionLevel, number[]> = {
  L: [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18],
  M: [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26],
};
const errorCorrectionBlocks: Record<ErrorCorrectionLevel, number[]> = {
  L: [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4],
  M: [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5],
};
/** The two bits the format information uses for each level. */
const levelFormatBits: Record<ErrorCorrectionLevel, number> = { L: 1, M: 0 };

/** Encodes text (as UTF-8) in the smallest version that fits; throws when it does not fit version 10. */
export function encodeQr(text: string, level: ErrorCorrectionLevel = 'M'): QrCode {
  const bytes = new TextEncoder().encode(text);
  let version = 1;
  for (; version <= maximumVersion; version += 1) {
    if (4 + characterCountBits(version) + bytes.length * 8 <= dataCodewordCount(version, level) * 8) break;
  }
  if (version > maximumVersion)
    throw new RangeError(`Text too long for a QR code here (${bytes.length} bytes)`);

  const codewords = addErrorCorrection(dataCodewords(bytes, version, level), version, level);
  const size = version * 4 + 17;
  const matrix = new Matrix(size);
  drawFunctionPatterns(matrix, version);
  drawCodewords(matrix, codewords);

  let bestMask = 0;
  let bestPenalty = Number.POSITIVE_INFINITY;
  for (let mask = 0; mask < 8; mask += 1) {
    applyMask(matrix, mask);
    drawFormatBits(matrix, level, mask);
    const penalty = penaltyScore(matrix.modules);
    if (penalty < bestPenalty) {
      bestPenalty = penalty;
      bestMask = mask;
    }
    applyMask(matrix, mask); // XOR again: undone.
  }
  applyMask(matrix, bestMask);
  drawFormatBits(matrix, level, bestMask);
  return { version, size, level, mask: bestMask, modules: matrix.modules };
}

function characterCountBits(version: number): number {
  return version <= 9 ? 8 : 16;
}

/** Modules left for data and error correction once the function patterns are drawn. */
function rawDataModules(version: number): number {
  let result = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const alignmentCount = Math.floor(version / 7) + 2;
    result -= (25 * alignmentCount - 10) * alignmentCount - 55;
    if (version >= 7) result -= 36;
  }
  return result;
}

export function dataCodewordCount(version: number, level: ErrorCorrectionLevel): number {
  return (
    Math.floor(rawDataModules(version) / 8) -
    eccCodewordsPerBlock[level][version]! * errorCorrectionBlocks[level][version]!
  );
}

/** Mode indicator, count, bytes, terminator, then the alternating pad bytes 0xEC 0x11. */
function dataCodewords(bytes: Uint8Array, version: number, level: ErrorCorrectionLevel): number[] {
  const bits: number[] = [];
  const append = (value: number, length: number) => {
    for (let index = length - 1; index >= 0; index -= 1) bits.push((value >>> index) & 1);
  };
  append(0b0100, 4);
  append(bytes.length, characterCountBits(version));
  for (const byte of bytes) append(byte, 8);
  const capacityBits = dataCodewordCount(version, level) * 8;
  append(0, Math.min(4, capacityBits - bits.length));
  append(0, (8 - (bits.length % 8)) % 8);
  const result: number[] = [];
  for (let index = 0; index < bits.length; index += 8) {
    result.push(bits.slice(index, index + 8).reduce((byte, bit) => (byte << 1) | bit, 0));
  }
  for (let pad = 0xec; result.length < capacityBits / 8; pad ^= 0xec ^ 0x11) result.push(pad);
  return result;
}

/** Splits the data into blocks, appends each block's Reed-Solomon codewords, and interleaves them. */
function addErrorCorrection(data: number[], version: number, level: ErrorCorrectionLevel): number[] {
  const blockCount = errorCorrectionBlocks[level][version]!;
  const eccLength = eccCodewordsPerBlock[level][version]!;
  const rawCodewords = Math.floor(rawDataModules(version) / 8);
  const shortBlockCount = blockCount - (rawCodewords % blockCount);
  const shortBlockLength = Math.floor(rawCodewords / blockCount);
  const divisor = reedSolomonDivisor(eccLength);

  const blocks: number[][] = [];
  for (let index = 0, offset = 0; index < blockCount; index += 1) {
    const length = shortBlockLength - eccLength + (index < shortBlockCount ? 0 : 1);
    const block = data.slice(offset, offset + length);
    offset += length;
    const ecc = reedSolomonRemainder(block, divisor);
    // A placeholder keeps every block the same length for interleaving; it is skipped below.
    if (index < shortBlockCount) block.push(0);
    blocks.push([...block, ...ecc]);
  }
  const result: number[] = [];
  for (let position = 0; position < blocks[0]!.length; position += 1) {
    blocks.forEach((block, index) => {
      if (position !== shortBlockLength - eccLength || index >= shortBlockCount)
        result.push(block[position]!);
    });
  }
  return result;
}

/** Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1. */
function multiply(first: number, second: number): number {
  let result = 0;
  for (let bit = 7; bit >= 0; bit -= 1) {
    result = (result << 1) ^ ((result >>> 7) * 0x11d);
    result ^= ((second >>> bit) & 1) * first;
  }
  return result;
}

/** The generator polynomial (x - 2^0)(x - 2^1)...(x - 2^(degree-1)), leading coefficient dropped. */
export function reedSolomonDivisor(degree: number): number[] {
  const result = new Array<number>(degree).fill(0);
  result[degree - 1] = 1;
  let root = 1;
  for (let step = 0; step < degree; step += 1) {
    for (let index = 0; index < result.length; index += 1) {
      result[index] = multiply(result[index]!, root);
      if (index + 1 < result.length) result[index] = result[index]! ^ result[index + 1]!;
    }
    root = multiply(root, 0x02);
  }
  return result;
}

export function reedSolomonRemainder(data: readonly number[], divisor: readonly number[]): number[] {
  const result = new Array<number>(divisor.length).fill(0);
  for (const byte of data) {
    const factor = byte ^ result.shift()!;
    result.push(0);
    divisor.forEach((coefficient, index) => {
      result[index] = result[index]! ^ multiply(coefficient, factor);
    });
  }
  return result;
}

class Matrix {
  readonly modules: boolean[][];
  /** Finder, timing, alignment, format and version modules: never masked, never hold data. */
  readonly reserved: boolean[][];

  constructor(readonly size: number) {
    this.modules = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
    this.reserved = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  }

  setFunction(x: number, y: number, dark: boolean): void {
    this.modules[y]![x] = dark;
    this.reserved[y]![x] = true;
  }
}

export function alignmentPositions(version: number): number[] {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const step = Math.ceil((version * 4 + 4) / (count * 2 - 2)) * 2;
  const result = [6];
  for (let position = version * 4 + 10; result.length < count; position -= step)
    result.splice(1, 0, position);
  return result;
}

function drawFunctionPatterns(matrix: Matrix, version: number): void {
  const { size } = matrix;
  for (let index = 0; index < size; index += 1) {
    matrix.setFunction(6, index, index % 2 === 0);
    matrix.setFunction(index, 6, index % 2 === 0);
  }
  for (const [x, y] of [
    [3, 3],
    [size - 4, 3],
    [3, size - 4],
  ] as const) {
    // The 7x7 finder plus its light separator ring.
    for (let dy = -4; dy <= 4; dy += 1) {
      for (let dx = -4; dx <= 4; dx += 1) {
        const distance = Math.max(Math.abs(dx), Math.abs(dy));
        const column = x + dx;
        const row = y + dy;
        if (column >= 0 && column < size && row >= 0 && row < size) {
          matrix.setFunction(column, row, distance !== 2 && distance !== 4);
        }
      }
    }
  }
  const positions = alignmentPositions(version);
  const last = positions.length - 1;
  positions.forEach((y, row) => {
    positions.forEach((x, column) => {
      // The three corners overlap the finders.
      if ((row === 0 && column === 0) || (row === 0 && column === last) || (row === last && column === 0))
        return;
      for (let dy = -2; dy <= 2; dy += 1) {
        for (let dx = -2; dx <= 2; dx += 1) {
          matrix.setFunction(x + dx, y + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
        }
      }
    });
  });
  drawFormatBits(matrix, 'L', 0); // Reserves the area; the real bits are drawn after masking.
  if (version >= 7) {
    const bits = versionBits(version);
    for (let index = 0; index < 18; index += 1) {
      const dark = ((bits >>> index) & 1) === 1;
      const along = size - 11 + (index % 3);
      const across = Math.floor(index / 3);
      matrix.setFunction(along, across, dark);
      matrix.setFunction(across, along, dark);
    }
  }
}

/** 15 bits: level and mask, a BCH(15,5) remainder, XOR 0x5412 so the field is never all light. */
export function formatBits(level: ErrorCorrectionLevel, mask: number): number {
  const data = (levelFormatBits[level] << 3) | mask;
  let remainder = data;
  for (let step = 0; step < 10; step += 1) remainder = (remainder << 1) ^ ((remainder >>> 9) * 0x537);
  return ((data << 10) | remainder) ^ 0x5412;
}

/** 18 bits for versions 7 and up: the version and a BCH(18,6) remainder. */
export function versionBits(version: number): number {
  let remainder = version;
  for (let step = 0; step < 12; step += 1) remainder = (remainder << 1) ^ ((remainder >>> 11) * 0x1f25);
  return (version << 12) | remainder;
}

function drawFormatBits(matrix: Matrix, level: ErrorCorrectionLevel, mask: number): void {
  const bits = formatBits(level, mask);
  const bit = (index: number) => ((bits >>> index) & 1) === 1;
  const { size } = matrix;
  // First copy, around the top-left finder.
  for (let index = 0; index <= 5; index += 1) matrix.setFunction(8, index, bit(index));
  matrix.setFunction(8, 7, bit(6));
  matrix.setFunction(8, 8, bit(7));
  matrix.setFunction(7, 8, bit(8));
  for (let index = 9; index < 15; index += 1) matrix.setFunction(14 - index, 8, bit(index));
  // Second copy, split between the other two finders.
  for (let index = 0; index < 8; index += 1) matrix.setFunction(size - 1 - index, 8, bit(index));
  for (let index = 8; index < 15; index += 1) matrix.setFunction(8, size - 15 + index, bit(index));
  matrix.setFunction(8, size - 8, true); // The dark module, always dark.
}

/** Data bits go up and down two-column strips from the right, skipping the vertical timing column. */
function drawCodewords(matrix: Matrix, codewords: number[]): void {
  const { size } = matrix;
  let bitIndex = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let step = 0; step < size; step += 1) {
      for (let offset = 0; offset < 2; offset += 1) {
        const x = right - offset;
        const upward = ((right + 1) & 2) === 0;
        const y = upward ? size - 1 - step : step;
        if (matrix.reserved[y]![x] || bitIndex >= codewords.length * 8) continue;
        matrix.modules[y]![x] = ((codewords[bitIndex >>> 3]! >>> (7 - (bitIndex & 7))) & 1) === 1;
        bitIndex += 1;
      }
    }
  }
}

const maskConditions: ((x: number, y: number) => boolean)[] = [
  (x, y) => (x + y) % 2 === 0,
  (_x, y) => y % 2 === 0,
  (x) => x % 3 === 0,
  (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
  (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
];

function applyMask(matrix: Matrix, mask: number): void {
  const condition = maskConditions[mask]!;
  for (let y = 0; y < matrix.size; y += 1) {
    for (let x = 0; x < matrix.size; x += 1) {
      if (!matrix.reserved[y]![x] && condition(x, y)) matrix.modules[y]![x] = !matrix.modules[y]![x];
    }
  }
}

const finderLike = [
  [true, false, true, true, true, false, true, false, false, false, false],
  [false, false, false, false, true, false, true, true, true, false, true],
];

/** The standard's four penalty rules; the mask with the lowest score is the easiest to scan. */
export function penaltyScore(modules: boolean[][]): number {
  const size = modules.length;
  const at = (x: number, y: number, transposed: boolean) => (transposed ? modules[x]![y]! : modules[y]![x]!);
  let penalty = 0;
  for (const transposed of [false, true]) {
    for (let y = 0; y < size; y += 1) {
      let run = 1;
      for (let x = 1; x <= size; x += 1) {
        if (x < size && at(x, y, transposed) === at(x - 1, y, transposed)) {
          run += 1;
          continue;
        }
        if (run >= 5) penalty += run - 2; // Rule 1: 3 for five in a row, one more per extra module.
        run = 1;
      }
      for (let x = 0; x + 11 <= size; x += 1) {
        for (const pattern of finderLike) {
          if (pattern.every((dark, offset) => at(x + offset, y, transposed) === dark)) penalty += 40; // Rule 3
        }
      }
    }
  }
  let dark = 0;
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const color = modules[y]![x]!;
      if (color) dark += 1;
      if (
        x + 1 < size &&
        y + 1 < size &&
        color === modules[y]![x + 1] &&
        color === modules[y + 1]![x] &&
        color === modules[y + 1]![x + 1]
      ) {
        penalty += 3; // Rule 2: 2x2 blocks of one color.
      }
    }
  }
  const percentDark = (dark * 100) / (size * size);
  return penalty + Math.floor(Math.abs(percentDark - 50) / 5) * 10; // Rule 4: balance.
}

export interface RenderOptions {
  /** Light modules this many wide around the code (the standard asks for 4; 2 scans fine on screens). */
  quietZone?: number;
  /**
   * Paint black on white with ANSI colors, so the code has the right polarity on dark and light terminal
   * themes alike. Without colors, dark modules are drawn as blanks, which suits the usual dark theme.
   */
  color?: boolean;
}

/** Two module rows per text line with half blocks, so the code stays square and half as tall. */
export function renderQrForTerminal(code: QrCode, options: RenderOptions = {}): string {
  const quietZone = options.quietZone ?? 2;
  const color = options.color ?? true;
  const span = code.size + quietZone * 2;
  const isDark = (x: number, y: number): boolean => {
    const column = x - quietZone;
    const row = y - quietZone;
    if (column < 0 || row < 0 || column >= code.size || row >= code.size) return false;
    return code.modules[row]![column]!;
  };
  const lines: string[] = [];
  for (let y = 0; y < span; y += 2) {
    let line = '';
    for (let x = 0; x < span; x += 1) {
      const top = isDark(x, y);
      const bottom = y + 1 < span && isDark(x, y + 1);
      // With colors the glyph's ink is the dark module; without, the ink is the light module.
      const inkTop = color ? top : !top;
      const inkBottom = color ? bottom : !(bottom || y + 1 >= span);
      line += inkTop ? (inkBottom ? '█' : '▀') : inkBottom ? '▄' : ' ';
    }
    lines.push(color ? `\u001b[30;107m${line}\u001b[0m` : line);
  }
  return lines.join('\n');
}
