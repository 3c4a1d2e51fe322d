// The ANSI parser of line mode (lineview.js), kept free of the DOM so that
// it can be tested on its own (node --test webtest/).
//
// SGR sequences (colours and bold, dim, italic, underline, inverse, strike)
// become attributes of runs of text; every other escape sequence (CSI, OSC,
// DCS, charset selection...) is removed, even when it is split across two
// writes. CR LF and LF end a line; a lone CR goes back to the start of the
// line, where the next text overwrites it (progress bars); BS removes the
// character before the cursor; other controls but TAB are dropped.

const MAX_LINE_LENGTH = 16384; // a longer line without an ending is cut, so redrawing it stays cheap

// ---- attributes --------------------------------------------------------------
// An attribute set is a frozen object, interned: equal sets are the same
// object, so runs of text compare them with ===. Colours are null (the
// default), 0-255 (the 256-colour palette) or "rgb(r, g, b)".

const interned = new Map();

function attrOf(a) {
  const key = `${a.fg}|${a.bg}|${+a.bold}${+a.dim}${+a.italic}${+a.underline}${+a.inverse}${+a.strike}`;
  let got = interned.get(key);
  if (!got) {
    if (interned.size > 4096) interned.clear(); // truecolor art could make many
    got = Object.freeze({ ...a, ...look(a) });
    interned.set(key, got);
  }

  return got;
}

export const DEFAULT = attrOf({ fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false });

// The 6x6x6 cube and the grey ramp of the 256-colour palette, as xterm has them.
const CUBE = [0, 95, 135, 175, 215, 255];

function paletteRGB(n) {
  if (n < 232) {
    n -= 16;
    return `rgb(${CUBE[Math.floor(n / 36)]}, ${CUBE[Math.floor(n / 6) % 6]}, ${CUBE[n % 6]})`;
  }

  const v = 8 + 10 * (n - 232);
  return `rgb(${v}, ${v}, ${v})`;
}

// look works out how a set is drawn: class names for the 16 themed colours
// and the flags, CSSOM colours for the rest. Bold draws the eight normal
// colours in their bright shade, as xterm and xterm.js (terminal mode) do:
// BBS art and MUDs write bright colours as bold. Inverse swaps the colours;
// a default colour swapped becomes the console's own ("fg-inv", "bg-inv").
function look(a) {
  let fg = a.fg;
  let bg = a.bg;
  if (a.bold && typeof fg === 'number' && fg < 8) fg += 8;
  if (a.inverse) [fg, bg] = [bg ?? 'inv', fg ?? 'inv'];
  const cls = [];
  let color = '';
  let background = '';
  if (fg === 'inv' || (typeof fg === 'number' && fg < 16)) cls.push(`fg-${fg}`);
  else if (typeof fg === 'number') color = paletteRGB(fg);
  else if (fg) color = fg;
  if (bg === 'inv' || (typeof bg === 'number' && bg < 16)) cls.push(`bg-${bg}`);
  else if (typeof bg === 'number') background = paletteRGB(bg);
  else if (bg) background = bg;
  if (a.bold) cls.push('bold');
  if (a.dim) cls.push('dim');
  if (a.italic) cls.push('italic');
  if (a.underline) cls.push('underline');
  if (a.strike) cls.push('strike');
  return { cls: cls.join(' '), color, background };
}

// sgr applies "CSI params m" to the attribute set a.
function sgr(a, params) {
  const p = params === '' ? [''] : params.split(';');
  const n = { ...a };
  for (let i = 0; i < p.length; i++) {
    const sub = p[i].includes(':') ? p[i].split(':') : null;
    const code = parseInt(sub ? sub[0] : p[i], 10) || 0;
    switch (true) {
      case code === 0: Object.assign(n, DEFAULT); break;
      case code === 1: n.bold = true; break;
      case code === 2: n.dim = true; break;
      case code === 3: n.italic = true; break;
      case code === 4: n.underline = !(sub && sub[1] === '0'); break; // 4:0 is "no underline"
      case code === 7: n.inverse = true; break;
      case code === 9: n.strike = true; break;
      case code === 21: n.underline = true; break; // double underline
      case code === 22: n.bold = n.dim = false; break;
      case code === 23: n.italic = false; break;
      case code === 24: n.underline = false; break;
      case code === 27: n.inverse = false; break;
      case code === 29: n.strike = false; break;
      case code >= 30 && code <= 37: n.fg = code - 30; break;
      case code === 39: n.fg = null; break;
      case code >= 40 && code <= 47: n.bg = code - 40; break;
      case code === 49: n.bg = null; break;
      case code >= 90 && code <= 97: n.fg = code - 90 + 8; break;
      case code >= 100 && code <= 107: n.bg = code - 100 + 8; break;
      case code === 38 || code === 48 || code === 58: {
        // 38;5;N or 38;2;R;G;B, or with colons: 38:5:N, 38:2:R:G:B, 38:2:CS:R:G:B.
        let args;
        if (sub) {
          args = sub.slice(1);
          if (args[0] === '2' && args.length >= 5) args.splice(1, 1); // drop the colour space id
        } else {
          args = p.slice(i + 1, i + 1 + (p[i + 1] === '2' ? 4 : 2));
          i += args.length;
        }
        const num = (s) => Math.min(255, parseInt(s, 10) || 0);
        let c;
        if (args[0] === '5' && args.length >= 2) c = num(args[1]);
        else if (args[0] === '2' && args.length >= 4) c = `rgb(${num(args[1])}, ${num(args[2])}, ${num(args[3])})`;
        if (c === undefined || code === 58) break; // malformed, or the underline colour: ignored
        if (code === 38) n.fg = c;
        else n.bg = c;
        break;
      }
      default: break; // blink, hidden, fonts...: not shown
    }
  }

  return attrOf(n);
}

// ---- one line of output ----------------------------------------------------------

// A Line is runs of text with their attributes and a cursor: -1 while it
// sits at the end (the usual case, where text is appended), else the column,
// in characters, where the next text overwrites (after a CR or a BS).
export class Line {
  constructor() {
    this.runs = []; // [{text, attr}]
    this.col = -1;
    this.length = 0; // in UTF-16 units, to cut runaway lines
    this.prompt = false; // the game marked the line a prompt (EOR or GA)
  }

  get empty() { return this.runs.length === 0; }

  text() { return this.runs.map((r) => r.text).join(''); }

  put(text, attr) {
    this.length += text.length;
    if (this.col < 0) {
      const last = this.runs[this.runs.length - 1];
      if (last && last.attr === attr) last.text += text;
      else this.runs.push({ text, attr });
      return;
    }
    const cells = this.cells();
    let col = this.col;
    for (const ch of text) cells[col++] = [ch, attr];
    this.col = col >= cells.length ? -1 : col;
    this.setCells(cells);
  }

  cr() {
    if (!this.empty) this.col = 0;
  }

  bs() {
    if (this.col === 0 || this.empty) return;
    if (this.col < 0) {
      // Remove the last character, both halves of a surrogate pair.
      const last = this.runs[this.runs.length - 1];
      const t = last.text;
      let cut = t.length - 1;
      if (cut > 0 && /[\udc00-\udfff]/.test(t[cut]) && /[\ud800-\udbff]/.test(t[cut - 1])) cut--;
      last.text = t.slice(0, cut);
      if (last.text === '') this.runs.pop();
      this.length -= t.length - cut;
      return;
    }
    const cells = this.cells();
    cells.splice(this.col - 1, 1);
    this.col--;
    this.setCells(cells);
  }

  // cells and setCells convert to and from one [character, attr] per column,
  // for the rare edits in the middle of a line.
  cells() {
    const cells = [];
    for (const r of this.runs) for (const ch of r.text) cells.push([ch, r.attr]);
    return cells;
  }

  setCells(cells) {
    this.runs = [];
    this.length = 0;
    for (const [ch, attr] of cells) {
      const last = this.runs[this.runs.length - 1];
      if (last && last.attr === attr) last.text += ch;
      else this.runs.push({ text: ch, attr });
      this.length += ch.length;
    }
  }
}

// ---- the parser's states ----------------------------------------------------------

const GROUND = 0;
const ESC = 1;       // after ESC
const ESC_INTER = 2; // ESC and intermediates, e.g. "ESC (" before "B"
const CSI = 3;       // ESC [ params...
const OSC = 4;       // ESC ] ... up to BEL or ST
const STR = 5;       // DCS, SOS, PM, APC: up to ST
const STR_ESC = 6;   // ESC inside OSC or STR: ST if "\" follows

// The controls that interrupt plain text (TAB is text). U+0080-U+009F are
// the 8-bit C1 controls, which Latin-1 and UTF-8 text can carry.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
// What ends an OSC or a string: BEL, ESC (for ESC \), CAN, SUB, ST.
const STRING_END = /[\x07\x1b\x18\x1a\x9c]/g;

const MAX_PARAMS = 64; // longer CSI parameters are not SGR anyone sends; they are ignored

// ---- the parser ---------------------------------------------------------------------

// AnsiParser turns the target's text into lines of runs ({text, attr}).
// Each finished line goes to onLine(runs, prompt), prompt true for a line
// the game marked as a prompt; the line still being received (a prompt, a
// progress bar) is this.line.
export class AnsiParser {
  constructor(onLine) {
    this.onLine = onLine;
    this.line = new Line();
    this.reset();
  }

  // reset forgets the parser's state, for a new session.
  reset() {
    this.state = GROUND;
    this.strState = OSC; // which string STR_ESC returns to
    this.params = '';
    this.paramsOK = true;
    this.attr = DEFAULT;
  }

  // write takes the target's next piece of text.
  write(text) {
    let i = 0;
    const n = text.length;
    while (i < n) {
      if (this.state === GROUND) {
        CONTROL.lastIndex = i;
        const m = CONTROL.exec(text);
        const end = m ? m.index : n;
        if (end > i) this.put(text.slice(i, end));
        if (!m) break;
        this.control(text.charCodeAt(end));
        i = end + 1;
        continue;
      }
      if (this.state === OSC || this.state === STR) {
        STRING_END.lastIndex = i;
        const m = STRING_END.exec(text);
        if (!m) break; // the rest is the string's content: dropped
        i = m.index + 1;
        const c = text.charCodeAt(m.index);
        if (c === 0x1b) {
          this.strState = this.state;
          this.state = STR_ESC;
        } else if (c !== 0x07 || this.state === OSC) {
          this.state = GROUND; // BEL ends only an OSC; CAN and SUB cancel; ST ends
        }
        continue;
      }
      const c = text.charCodeAt(i);
      if (this.escape(c)) i++;
    }
  }

  // escape handles one character inside an escape sequence. It returns
  // false when the character is not part of it and must be read again as text.
  escape(c) {
    if (c === 0x18 || c === 0x1a) { // CAN, SUB: cancel
      this.state = GROUND;
      return true;
    }
    if (c === 0x1b) {
      this.state = ESC;
      return true;
    }
    if (this.state === STR_ESC) {
      if (c === 0x5c) { // ESC \ is ST
        this.state = GROUND;
        return true;
      }
      this.state = ESC; // another sequence starts: read c in it
    }
    if (c < 0x20) { // C0 controls act even inside a sequence, as in a terminal
      this.control(c);
      return true;
    }
    if (c >= 0x7f) { // not part of any sequence: abandon it
      this.state = GROUND;
      return c === 0x7f;
    }
    switch (this.state) {
      case ESC:
        if (c === 0x5b) { // [
          this.state = CSI;
          this.params = '';
          this.paramsOK = true;
        } else if (c === 0x5d) { // ]
          this.state = OSC;
        } else if (c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) { // P X ^ _
          this.state = STR;
        } else if (c < 0x30) {
          this.state = ESC_INTER; // ( ) * + # % and friends take one more byte
        } else {
          this.state = GROUND; // a two-byte sequence such as ESC 7 or ESC M
        }
        return true;
      case ESC_INTER:
        if (c >= 0x30) this.state = GROUND;
        return true;
      case CSI:
        if (c >= 0x40) { // the final byte
          this.state = GROUND;
          if (c === 0x6d && this.paramsOK && !/^[<=>?]/.test(this.params)) this.attr = sgr(this.attr, this.params);
        } else if (c < 0x30 || this.params.length >= MAX_PARAMS) {
          this.paramsOK = false; // intermediates: not an SGR
        } else {
          this.params += String.fromCharCode(c);
        }
        return true;
      default:
        this.state = GROUND;
        return false;
    }
  }

  // control acts on a control character met in plain text.
  control(c) {
    switch (c) {
      case 0x0a: this.newline(); break;
      case 0x0d: this.line.cr(); break;
      case 0x08: this.line.bs(); this.line.prompt = false; break;
      case 0x1b: this.state = ESC; break;
      case 0x9b: this.state = CSI; this.params = ''; this.paramsOK = true; break; // 8-bit CSI
      case 0x9d: this.state = OSC; break;
      case 0x90: case 0x98: case 0x9e: case 0x9f: this.state = STR; break; // DCS SOS PM APC
      default: break; // BEL, NUL, DEL and the rest: dropped
    }
  }

  put(text) {
    // Text after a prompt starts a line of its own, as in MUD clients: the
    // game's next message does not run on after its prompt. After a CR it
    // rewrites the prompt's line (a game redrawing it), no longer a prompt.
    if (this.line.prompt) {
      if (this.line.col >= 0) this.line.prompt = false;
      else this.newline();
    }
    this.line.put(text, this.attr);
    if (this.line.col < 0 && this.line.length > MAX_LINE_LENGTH) this.newline();
  }

  newline() {
    const { runs, prompt } = this.line;
    this.line = new Line();
    this.onLine(runs, prompt);
  }

  // prompt marks the line being received as a prompt, as the game's EOR
  // or GA does (the gateway's {"type":"prompt"}): it stays as it is, and
  // what comes next starts a new line, unless a line ending or a CR comes
  // first. An empty line is no prompt (games that mark every message).
  // It says whether there was a prompt to mark.
  prompt() {
    if (this.line.empty) return false;
    this.line.prompt = true;
    return true;
  }

  // partial returns the line being received, if it is short (a prompt).
  partial(max) {
    return this.line.length <= max ? this.line.text() : '';
  }
}
