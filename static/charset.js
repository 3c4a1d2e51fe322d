// Character sets: the target sends bytes, the page shows text. Each charset
// has a streaming decoder (bytes to text; a character split across two
// frames is put together) and an encoder (text to bytes; a character the
// charset lacks becomes "?").

// The charsets offered, by the value of the <select> and of #charset= in the URL.
export const CHARSETS = ['utf-8', 'cp437', 'iso-8859-1', 'windows-1252'];

// Other names people write for them in a link.
const ALIASES = {
  utf8: 'utf-8',
  437: 'cp437', ibm437: 'cp437', 'ibm-437': 'cp437',
  latin1: 'iso-8859-1', 'latin-1': 'iso-8859-1', 'iso8859-1': 'iso-8859-1', 'iso-8859-1': 'iso-8859-1',
  cp1252: 'windows-1252', 'windows1252': 'windows-1252',
};

// charsetName returns the canonical name of a charset, or '' if unknown.
export function charsetName(name) {
  name = String(name || '').trim().toLowerCase();
  if (CHARSETS.includes(name)) return name;
  return ALIASES[name] || '';
}

// CP437, the IBM PC's charset that BBS art is drawn in. Bytes 0x80-0xFF
// are its letters, box drawing and shading.
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅ' + 'ÉæÆôöòûùÿÖÜ¢£¥₧ƒ' + 'áíóúñÑªº¿⌐¬½¼¡«»' + '░▒▓│┤╡╢╖╕╣║╗╝╜╛┐' +
  '└┴┬├─┼╞╟╚╔╩╦╠═╬╧' + '╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' + 'αßΓπΣσµτΦΘΩδ∞φε∩' + '≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

// The glyphs the IBM PC drew for bytes 0x00-0x1F (0x00 is blank), and for 0x7F.
const CP437_LOW = '\u0000☺☻♥♦♣♠•◘○◙♂♀♪♫☼' + '►◄↕‼¶§▬↨↑↓→←∟↔▲▼';
const CP437_DEL = '⌂';

// CP437_CONTROLS are the low bytes that stay controls, as a BBS client
// (SyncTERM's ANSI-BBS emulation) acts on them: NUL (padding, shown as
// nothing), BEL, BS, TAB, LF, FF, CR and ESC, which starts every ANSI
// sequence. Every other byte from 0x01 to 0x1F, and 0x7F, was never a
// working control on a BBS but a picture (♥, ►, ♪, arrows, ⌂ in ANSI art),
// so it becomes the CP437 glyph. FF stays a control because BBS software
// sends it to clear the screen; the views treat it as their terminal does
// (xterm.js moves down a line, line mode drops it).
export const CP437_CONTROLS = [0x00, 0x07, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1b];

// Windows-1252's 0x80-0x9F; "_" marks the five it leaves undefined.
const WINDOWS_1252_C1 = '€_‚ƒ„…†‡ˆ‰Š‹Œ_Ž_' + '_‘’“”•–—˜™š›œ_žŸ';

// A table of 256 strings, one per byte value.
function table(high, low = null) {
  const t = new Array(256);
  for (let b = 0; b < 128; b++) t[b] = String.fromCharCode(b);
  for (let b = 128; b < 256; b++) t[b] = high[b - 128];
  if (low) {
    for (let b = 0; b < 32; b++) if (!CP437_CONTROLS.includes(b)) t[b] = low[b];
    t[0x7f] = CP437_DEL;
  }
  return t;
}

const tables = {
  cp437: () => table(CP437_HIGH, [...CP437_LOW]),
  // Real Latin-1: every byte is the code point of the same number, so
  // 0x80-0x9F are the C1 controls. (The WHATWG "latin1" label means
  // windows-1252, which is why TextDecoder is not used here.)
  'iso-8859-1': () => {
    const t = new Array(256);
    for (let b = 0; b < 256; b++) t[b] = String.fromCharCode(b);
    return t;
  },
  // windows-1252 as browsers decode it: Latin-1 but for 0x80-0x9F (0x81,
  // 0x8D, 0x8F, 0x90 and 0x9D, which it leaves undefined, become the C1
  // controls of the same number). Written out rather than asked of
  // TextDecoder, which some runtimes (node 20) answer with Latin-1.
  'windows-1252': () => {
    const t = new Array(256);
    for (let b = 0; b < 256; b++) t[b] = String.fromCharCode(b);
    [...WINDOWS_1252_C1].forEach((ch, i) => { if (ch !== '_') t[0x80 + i] = ch; });
    return t;
  },
};

const cache = new Map(); // charset -> {toText: string[256], toByte: Map}

function single(name) {
  let c = cache.get(name);
  if (!c) {
    const toText = tables[name]();
    const toByte = new Map();
    // Backwards, so that a character with two bytes gets the lower one.
    for (let b = 255; b >= 0; b--) toByte.set(toText[b], b);
    c = { toText, toByte };
    cache.set(name, c);
  }
  return c;
}

// newDecoder returns a function that turns the next chunk of bytes
// (a Uint8Array) into text. UTF-8 keeps the state of a character split
// between chunks; invalid bytes become U+FFFD.
export function newDecoder(name) {
  if (name === 'utf-8') {
    const d = new TextDecoder('utf-8');
    return (bytes) => d.decode(bytes, { stream: true });
  }
  const { toText } = single(name);
  return (bytes) => {
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += toText[bytes[i]];
    return s;
  };
}

const utf8 = new TextEncoder();

// encode turns typed text into the target's bytes. Characters the charset
// cannot express become "?", one per character (not per UTF-16 unit).
// ASCII, controls included, is always its own byte: keys such as Ctrl+C or
// Enter send the control, even in CP437, where the byte's picture (♥ for
// 0x03) is what is shown when the target sends it.
export function encode(name, text) {
  if (name === 'utf-8') return utf8.encode(text);
  const { toByte } = single(name);
  const out = new Uint8Array(text.length); // enough: one byte per UTF-16 unit at most
  let n = 0;
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    const b = c < 0x80 ? c : toByte.get(ch);
    out[n++] = b === undefined ? 0x3f : b;
  }
  return out.subarray(0, n);
}
