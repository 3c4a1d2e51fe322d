// Line mode's console: the target's text as lines of coloured spans.
//
// Output goes through a small terminal parser. SGR sequences (colours and
// bold, dim, italic, underline, inverse, strike) become spans; every other
// escape sequence (CSI, OSC, DCS, charset selection...) is removed, even when
// it is split across two frames. CR LF and LF end a line; a lone CR goes
// back to the start of the line, where the next text overwrites it (progress
// bars); BS removes the character before the cursor; other controls but TAB
// are dropped.
//
// Drawing is batched: finished lines are queued and drawn once per animation
// frame, at most LINES_PER_FRAME at a time, and the console keeps the last
// MAX_LINES. The line still being received (a prompt, a progress bar) is
// drawn in place at the end and completed by what follows.

const MAX_LINES = 5000;        // scrollback kept in the console
const LINES_PER_FRAME = 500;   // keeps each frame short during a flood
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
// and the flags, CSSOM colours for the rest. Inverse swaps the colours; a
// default colour swapped becomes the console's own ("fg-inv", "bg-inv").
function look(a) {
  let fg = a.fg;
  let bg = a.bg;
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
class Line {
  constructor() {
    this.runs = []; // [{text, attr}]
    this.col = -1;
    this.length = 0; // in UTF-16 units, to cut runaway lines
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

// ---- the view ---------------------------------------------------------------------

export class LineView {
  constructor(el) {
    this.el = el;
    this.queue = [];      // finished lines not yet drawn: {kind, text} or {kind, runs, el?}
    this.line = new Line();
    this.lineEl = null;   // the element showing this.line, once drawn
    this.lineDirty = false;
    this.scheduled = false;
    this.stick = true;    // false while the user has scrolled up to read
    this.reset();
    el.addEventListener('scroll', () => {
      // A few pixels of slack: zoom levels make scrollTop fractional.
      this.stick = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
    }, { passive: true });
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
    this.lineDirty = true;
    this.schedule();
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
      case 0x08: this.line.bs(); break;
      case 0x1b: this.state = ESC; break;
      case 0x9b: this.state = CSI; this.params = ''; this.paramsOK = true; break; // 8-bit CSI
      case 0x9d: this.state = OSC; break;
      case 0x90: case 0x98: case 0x9e: case 0x9f: this.state = STR; break; // DCS SOS PM APC
      default: break; // BEL, NUL, DEL and the rest: dropped
    }
  }

  put(text) {
    this.line.put(text, this.attr);
    if (this.line.col < 0 && this.line.length > MAX_LINE_LENGTH) this.newline();
  }

  newline() {
    this.queue.push({ kind: 'out', runs: this.line.runs, el: this.lineEl });
    this.line = new Line();
    this.lineEl = null;
    this.lineDirty = false;
    this.trimQueue();
  }

  // partial returns the line being received, if it is short (a prompt).
  partial(max) {
    return this.line.length <= max ? this.line.text() : '';
  }

  // add shows a line of our own: kind "sys" (the page's messages), "in"
  // (a sent line) or "in secret". The line being received ends first.
  add(text, kind) {
    if (!this.line.empty) {
      this.newline();
    } else if (this.lineEl) {
      this.lineEl.remove(); // emptied by backspaces
      this.lineEl = null;
    }
    this.queue.push({ kind, text });
    this.trimQueue();
    this.schedule();
  }

  // Lines that could never be shown are dropped in bulk, not one by one.
  trimQueue() {
    if (this.queue.length >= 2 * MAX_LINES) this.queue = this.queue.slice(-MAX_LINES);
  }

  schedule() {
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => this.draw());
    }
  }

  draw() {
    this.scheduled = false;
    if (this.queue.length > MAX_LINES) this.queue = this.queue.slice(-MAX_LINES);
    const batch = this.queue.splice(0, LINES_PER_FRAME);
    const fragment = document.createDocumentFragment();
    for (const entry of batch) {
      // A line whose start was drawn already is completed where it stands
      // (it is the console's last element: nothing is queued before it).
      if (entry.el && entry.el.isConnected) fill(entry.el, entry);
      else fragment.append(fill(document.createElement('div'), entry));
    }
    this.el.append(fragment);
    if (this.queue.length > 0) {
      this.schedule();
    } else if (this.lineDirty) {
      this.lineDirty = false;
      if (!this.line.empty || this.lineEl) {
        if (!this.lineEl) this.el.append(this.lineEl = document.createElement('div'));
        fill(this.lineEl, { kind: 'out', runs: this.line.runs });
      }
    }
    const excess = this.el.childElementCount - MAX_LINES;
    if (excess > 0) {
      // One range deletion is much cheaper than thousands of remove() calls.
      const range = document.createRange();
      range.setStartBefore(this.el.firstChild);
      range.setEndBefore(this.el.children[excess]);
      range.deleteContents();
    }
    if (this.stick) this.el.scrollTop = this.el.scrollHeight;
  }

  // follow scrolls to the newest line and keeps following.
  follow() {
    this.stick = true;
    this.schedule();
  }

  // size is the console's size in characters, for the target's idea of the window.
  size() {
    const style = getComputedStyle(this.el);
    const ctx = (this.canvas ??= document.createElement('canvas')).getContext('2d');
    ctx.font = style.font;
    const charWidth = ctx.measureText('0'.repeat(50)).width / 50;
    const lineHeight = parseFloat(style.lineHeight) || 1.45 * parseFloat(style.fontSize);
    const width = this.el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const height = this.el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    if (!(charWidth > 0) || width <= 0 || height <= 0) return { cols: 80, rows: 24 }; // hidden
    return { cols: Math.max(1, Math.floor(width / charWidth)), rows: Math.max(1, Math.floor(height / lineHeight)) };
  }
}

// fill draws a queued line into div. The target's text goes in as text
// nodes, never as markup.
function fill(div, entry) {
  div.className = 'line ' + entry.kind;
  if (entry.text !== undefined) {
    div.textContent = entry.text;
    return div;
  }
  const runs = entry.runs;
  if (runs.length === 1 && runs[0].attr === DEFAULT) {
    div.textContent = runs[0].text;
    return div;
  }
  const nodes = runs.map(({ text, attr }) => {
    if (attr === DEFAULT) return text;
    const span = document.createElement('span');
    if (attr.cls) span.className = attr.cls;
    // The CSSOM, not a style attribute: the CSP allows the one, not the other.
    if (attr.color) span.style.color = attr.color;
    if (attr.background) span.style.backgroundColor = attr.background;
    span.textContent = text;
    return span;
  });
  div.replaceChildren(...nodes);
  return div;
}
