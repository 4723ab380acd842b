import { describe, expect, test } from 'bun:test';
import { keepUnitsWhole, type LineState, unitAround, verticalMove } from '../../src/cli/line-units.ts';

const placeholder = '[Pasted text #1 +4 lines]';
const family = '👨‍👩‍👧';
/** The state with the cursor where `|` is. */
const at = (marked: string): LineState => ({ line: marked.replace('|', ''), cursor: marked.indexOf('|') });

describe('units: placeholders and grapheme clusters', () => {
  test('an index strictly inside one finds it; its edges and plain text do not', () => {
    const line = `see ${placeholder} ${family}!`;
    expect(unitAround(line, 5)).toEqual({ start: 4, end: 4 + placeholder.length });
    expect(unitAround(line, 4)).toBeUndefined();
    expect(unitAround(line, 4 + placeholder.length)).toBeUndefined();
    const familyStart = line.indexOf(family);
    expect(unitAround(line, familyStart + 2)).toEqual({
      start: familyStart,
      end: familyStart + family.length,
    });
    expect(unitAround('e\u0301', 1)).toEqual({ start: 0, end: 2 });
    expect(unitAround('[Pasted text #1 +4 lines', 3)).toBeUndefined();
  });
});

describe('an edit widened to whole units', () => {
  test('Backspace, Delete, Ctrl+W that cut into a placeholder remove all of it', () => {
    // Backspace after it: readline took the `]`.
    expect(keepUnitsWhole(at(`see ${placeholder}|`), at(`see ${placeholder.slice(0, -1)}|`))).toEqual(
      at('see |'),
    );
    // Delete before it: readline took the `[`.
    expect(keepUnitsWhole(at(`|${placeholder} ok`), at(`|${placeholder.slice(1)} ok`))).toEqual(at('| ok'));
    // Ctrl+W: readline took `lines]`.
    expect(keepUnitsWhole(at(`${placeholder}|`), at(`${placeholder.slice(0, -6)}|`))).toEqual(at('|'));
  });

  test('Backspace over a family emoji or a combining accent removes the whole cluster', () => {
    expect(keepUnitsWhole(at(`a${family}|`), at(`a${family.slice(0, -2)}|`))).toEqual(at('a|'));
    expect(keepUnitsWhole(at('ce\u0301|'), at('ce|'))).toEqual(at('c|'));
  });

  test('the cursor never stops inside a unit; text typed inside one goes after it', () => {
    const line = `${placeholder}!`;
    expect(keepUnitsWhole(at(`${placeholder}|!`), at(`${placeholder.slice(0, -1)}|]!`))).toEqual(
      at(`|${line}`),
    );
    expect(keepUnitsWhole(at(`|${line}`), at(`[|${line.slice(1)}`))).toEqual(at(`${placeholder}|!`));
    expect(keepUnitsWhole(at(`${family}|`), at(`${family.slice(0, -2)}|👧`))).toEqual(at(`|${family}`));
    expect(keepUnitsWhole(at(`[Pa|sted text #1 +4 lines]`), at(`[Pax|sted text #1 +4 lines]`))).toEqual(
      at(`${placeholder}x|`),
    );
  });

  test('edits that leave units whole, and wholesale changes like history, are left alone', () => {
    expect(keepUnitsWhole(at(`${placeholder} ab|`), at(`${placeholder} a|`))).toBeUndefined();
    expect(keepUnitsWhole(at(`${placeholder}|`), at(`${placeholder}x|`))).toBeUndefined();
    expect(keepUnitsWhole(at(`${placeholder}|`), at('|'))).toBeUndefined();
    expect(keepUnitsWhole(at(`|${family}`), at(`${family}|`))).toBeUndefined();
    expect(keepUnitsWhole(at('[Pasted text #2 +3 lines]|'), at(`${placeholder} explain|`))).toBeUndefined();
  });
});

test('verticalMove: the same column of the line above or below, clamped to its end; none past the first or last line', () => {
  const line = 'one\ntwo three\nx';
  expect(verticalMove({ line, cursor: 3 }, 1)).toEqual({ line, cursor: 7 });
  expect(verticalMove({ line, cursor: 13 }, -1)).toEqual({ line, cursor: 3 });
  expect(verticalMove({ line, cursor: 13 }, 1)).toEqual({ line, cursor: 15 });
  expect(verticalMove({ line, cursor: 14 }, -1)).toEqual({ line, cursor: 4 });
  expect(verticalMove({ line, cursor: 0 }, -1)).toBeUndefined();
  expect(verticalMove({ line, cursor: 15 }, 1)).toBeUndefined();
  expect(verticalMove({ line: 'single', cursor: 2 }, 1)).toBeUndefined();
  // An empty line between: the cursor stops at its start.
  expect(verticalMove({ line: 'abc\n\nxyz', cursor: 2 }, 1)).toEqual({ line: 'abc\n\nxyz', cursor: 4 });
});
