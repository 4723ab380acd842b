// Text from a server on its way to a terminal. An answer can carry escape sequences that the terminal would
// obey: clear the screen (`ESC [2J`), set the window title (`ESC ]0;…BEL`), write the clipboard (OSC 52),
// or C0/C1 controls that move the cursor over what was shown. Only printable text, newlines and tabs pass;
// the sequences go whole, also when a network read cuts one in two.

export interface ControlFilter {
  /** The printable part of `text`; a sequence left open waits for the next call. */
  push(text: string): string;
}

type State = 'text' | 'escape' | 'escapeIntermediate' | 'csi' | 'controlString' | 'controlStringEscape';

const escapeCode = 0x1b;
const bell = 0x07;
const lineFeed = 0x0a;
const tab = 0x09;
const stringTerminator = 0x9c;
const csi8Bit = 0x9b;
/** DCS, SOS, OSC, PM, APC as C1 controls: each opens a string that runs to ST or BEL. */
const controlStrings8Bit = new Set([0x90, 0x98, 0x9d, 0x9e, 0x9f]);
/** After ESC: `P` DCS, `X` SOS, `]` OSC, `^` PM, `_` APC. */
const controlStringIntroducers = new Set(['P', 'X', ']', '^', '_']);
/** `ESC` intermediates (0x20-0x2f) end at 0x30; CSI parameters and intermediates (0x20-0x3f) at 0x40. */
const firstFinalByte = { escapeIntermediate: 0x30, csi: 0x40 } as const;
/** Anything but printable text, `\n` and `\t`: C0 controls, DEL and C1 controls. */
const unsafe = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

function isControl(code: number): boolean {
  return (code < 0x20 && code !== lineFeed && code !== tab) || (code >= 0x7f && code <= 0x9f);
}

export function createControlFilter(): ControlFilter {
  let state: State = 'text';
  return {
    push(text) {
      if (state === 'text' && !unsafe.test(text)) return text;
      let out = '';
      let index = 0;
      while (index < text.length) {
        const char = text[index] as string;
        const code = char.charCodeAt(0);
        // The character that ends or breaks a sequence is seen again as text (`continue` without a step).
        switch (state) {
          case 'text':
            if (code === escapeCode) state = 'escape';
            else if (code === csi8Bit) state = 'csi';
            else if (controlStrings8Bit.has(code)) state = 'controlString';
            else if (!isControl(code)) out += char;
            break;
          case 'escape':
            if (char === '[') state = 'csi';
            else if (controlStringIntroducers.has(char)) state = 'controlString';
            else if (code >= 0x20 && code <= 0x2f) state = 'escapeIntermediate';
            else if (code >= 0x30 && code <= 0x7e) state = 'text';
            else if (code !== escapeCode) {
              state = 'text';
              continue;
            }
            break;
          case 'escapeIntermediate':
          case 'csi': {
            // A final byte ends the sequence; the bytes from 0x20 up to the first final one go on with it.
            const firstFinal = firstFinalByte[state];
            if (code >= firstFinal && code <= 0x7e) state = 'text';
            else if (code < 0x20 || code >= firstFinal) {
              state = 'text';
              continue;
            }
            break;
          }
          case 'controlString':
            if (code === bell || code === stringTerminator) state = 'text';
            else if (code === escapeCode) state = 'controlStringEscape';
            else if (code === lineFeed) {
              // An unterminated string must not swallow the rest of the answer: it ends with its line.
              state = 'text';
              continue;
            }
            break;
          case 'controlStringEscape':
            if (char === '\\') state = 'text';
            else {
              state = 'escape';
              continue;
            }
            break;
        }
        index += 1;
      }
      return out;
    },
  };
}

/** `text` without controls and escape sequences, for one whole piece of text (an error message). */
export function terminalSafe(text: string): string {
  return createControlFilter().push(text);
}
