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

// CP437, the IBM PC's charset that BBS art is drawn in: bytes 0x80-0xFF.
// 0x00-0x7F stay ASCII, controls included, so that CR, LF and ESC keep
// working; only DOS screens drew glyphs for them, never a byte stream.
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅ' + 'ÉæÆôöòûùÿÖÜ¢£¥₧ƒ' + 'áíóúñÑªº¿⌐¬½¼¡«»' + '░▒▓│┤╡╢╖╕╣║╗╝╜╛┐' +
  '└┴┬├─┼╞╟╚╔╩╦╠═╬╧' + '╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' + 'αßΓπΣσµτΦΘΩδ∞φε∩' + '≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

// A table of 256 strings, one per byte value.
function table(high) {
  const t = new Array(256);
  for (let b = 0; b < 128; b++) t[b] = String.fromCharCode(b);
  for (let b = 128; b < 256; b++) t[b] = high[b - 128];
  return t;
}

const tables = {
  cp437: () => table(CP437_HIGH),
  // Real Latin-1: every byte is the code point of the same number, so
  // 0x80-0x9F are the C1 controls. (The WHATWG "latin1" label means
  // windows-1252, which is why TextDecoder is not used here.)
  'iso-8859-1': () => {
    const t = new Array(256);
    for (let b = 0; b < 256; b++) t[b] = String.fromCharCode(b);
    return t;
  },
  // windows-1252 as browsers decode it (0x81, 0x8D, 0x8F, 0x90 and 0x9D,
  // which it leaves undefined, become the C1 controls of the same number).
  'windows-1252': () => {
    const all = new Uint8Array(256).map((_, i) => i);
    return [...new TextDecoder('windows-1252').decode(all)];
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
export function encode(name, text) {
  if (name === 'utf-8') return utf8.encode(text);
  const { toByte } = single(name);
  const out = new Uint8Array(text.length); // enough: one byte per UTF-16 unit at most
  let n = 0;
  for (const ch of text) {
    const b = toByte.get(ch);
    out[n++] = b === undefined ? 0x3f : b;
  }
  return out.subarray(0, n);
}
