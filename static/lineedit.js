// Terminal mode's local line editor: what a telnet client does while the
// host does not echo (RFC 1184's "kludge" line mode, as BSD and inetutils
// telnet do it). Until the host agrees to ECHO, typed text is echoed here,
// the line can be edited, and only Enter sends it, with CR LF. Hosts that
// never negotiate (MUDs, SMTP, Redis, the echo server, raw TCP) are used
// this way from start to end.
//
// Pure: input() takes what xterm.js says was typed and returns what to
// send to the host and what to write to the terminal (the echo, as
// terminal output: characters, BS and spaces), so that node can test it
// (webtest/lineedit.test.mjs). terminal.js wires it to xterm.js.
//
// The echo moves the cursor back with BS only. With xterm's reverse
// wraparound (DECSET 45, which terminal.js sets in line mode) BS goes back
// over a wrapped row too, so a line longer than the terminal is wide can
// be edited; the one place that is off is a line that ends exactly at the
// right margin, where the terminal waits to wrap.
//
// Keys:
//   Enter                     send the line and CR LF (a paste's line ends too)
//   Backspace, Delete         delete before / at the cursor
//   Ctrl+U, Ctrl+W            delete to the start of the line / the word before the cursor
//   Left, Right, Home, End    move in the line (Ctrl+Left/Right: a word)
//   Up, Down                  walk the lines sent before
//   Ctrl+C                    throw the line away (shown as ^C) and send ^C
//   Tab                       a character of the line
//   other control characters  sent at once, as typed, the line kept (Ctrl+D, Ctrl+Z, Ctrl+\ ...)
//   other escape sequences    dropped (F-keys, PgUp, Alt+key: nothing a line-based host reads)
//
// Ctrl+C and the other controls go as the bytes a terminal sends, rather
// than as telnet's IAC IP or IAC BRK (what BSD telnet's "localchars" turns
// them into): a host that does not echo reads bytes, and the Break button
// sends IAC BRK for those that want it. Ctrl+C also discards the line
// being edited, as a terminal's interrupt character does.

const MAX_HISTORY = 100;

// cellWidth is the number of terminal cells a code point takes, as xterm.js
// counts them with Unicode 11 widths: 2 for East Asian wide characters and
// emoji, 0 for combining marks, 1 otherwise. A rough table, enough to keep
// the cursor where the characters are.
export function cellWidth(cp) {
  if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) || (cp >= 0x3041 && cp <= 0x33ff) ||
      (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
      (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd)) return 2;
  return 1;
}

// What the escape sequences xterm.js sends for the editing keys mean
// (normal and application cursor keys; Home and End in their several forms).
const SEQUENCES = {
  '\x1b[D': 'left', '\x1bOD': 'left', '\x1b[C': 'right', '\x1bOC': 'right',
  '\x1b[A': 'up', '\x1bOA': 'up', '\x1b[B': 'down', '\x1bOB': 'down',
  '\x1b[H': 'home', '\x1bOH': 'home', '\x1b[1~': 'home', '\x1b[7~': 'home',
  '\x1b[F': 'end', '\x1bOF': 'end', '\x1b[4~': 'end', '\x1b[8~': 'end',
  '\x1b[3~': 'delete', '\x1b[1;5D': 'word-left', '\x1b[1;5C': 'word-right',
};

// escapeLength is the length of the escape sequence at the start of s: ESC [
// parameters and a final byte, ESC O and a letter, or ESC and a character.
function escapeLength(s) {
  if (s.length < 2) return s.length;
  if (s[1] === '[') {
    let i = 2;
    while (i < s.length && !(s.charCodeAt(i) >= 0x40 && s.charCodeAt(i) <= 0x7e)) i++;
    return Math.min(i + 1, s.length);
  }
  if (s[1] === 'O') return Math.min(3, s.length);
  return 2;
}

export class LineEditor {
  constructor() {
    this.chars = [];    // the line, one code point each
    this.cursor = 0;    // an index into chars
    this.history = [];  // lines sent, oldest first
    this.historyPos = 0; // history.length: the line being typed
    this.draft = '';    // what was typed before walking the history
  }

  get line() { return this.chars.join(''); }

  // input takes what was typed (a key, or a paste) and returns
  // {send: [text...], echo}: the texts to send to the host, in order, and
  // what to write to the terminal.
  input(data) {
    const out = { send: [], echo: '' };
    for (let i = 0; i < data.length;) {
      const ch = data[i];
      if (ch === '\x1b') {
        const n = escapeLength(data.slice(i));
        out.echo += this.key(SEQUENCES[data.slice(i, i + n)] ?? '');
        i += n;
        continue;
      }
      const cp = data.codePointAt(i);
      const step = cp > 0xffff ? 2 : 1;
      i += step;
      if (ch === '\r' || ch === '\n') {
        if (ch === '\r' && data[i] === '\n') i++; // CR LF is one Enter
        out.echo += this.moveTo(this.chars.length) + '\r\n';
        const line = this.line;
        out.send.push(line + '\r\n');
        this.remember(line);
        this.chars = [];
        this.cursor = 0;
      } else if (ch === '\x7f' || ch === '\b') {
        if (this.cursor > 0) out.echo += this.remove(this.cursor - 1, this.cursor);
      } else if (ch === '\x15') {
        out.echo += this.remove(0, this.cursor);
      } else if (ch === '\x17') {
        let from = this.cursor;
        while (from > 0 && this.chars[from - 1] === ' ') from--;
        while (from > 0 && this.chars[from - 1] !== ' ') from--;
        out.echo += this.remove(from, this.cursor);
      } else if (ch === '\x03') {
        out.echo += this.moveTo(this.chars.length) + '^C\r\n';
        this.chars = [];
        this.cursor = 0;
        this.historyPos = this.history.length;
        out.send.push(ch);
      } else if (cp < 0x20 && ch !== '\t') {
        out.send.push(ch);
      } else {
        out.echo += this.insert(String.fromCodePoint(cp));
      }
    }
    return out;
  }

  // key acts on an editing key; it returns the echo.
  key(name) {
    switch (name) {
      case 'left': return this.moveTo(this.cursor - 1);
      case 'right': return this.moveTo(this.cursor + 1);
      case 'home': return this.moveTo(0);
      case 'end': return this.moveTo(this.chars.length);
      case 'delete': return this.cursor < this.chars.length ? this.remove(this.cursor, this.cursor + 1) : '';
      case 'word-left': {
        let to = this.cursor;
        while (to > 0 && this.chars[to - 1] === ' ') to--;
        while (to > 0 && this.chars[to - 1] !== ' ') to--;
        return this.moveTo(to);
      }
      case 'word-right': {
        let to = this.cursor;
        while (to < this.chars.length && this.chars[to] === ' ') to++;
        while (to < this.chars.length && this.chars[to] !== ' ') to++;
        return this.moveTo(to);
      }
      case 'up':
        if (this.historyPos === 0) return '';
        if (this.historyPos === this.history.length) this.draft = this.line;
        this.historyPos--;
        return this.replace(this.history[this.historyPos]);
      case 'down':
        if (this.historyPos === this.history.length) return '';
        this.historyPos++;
        return this.replace(this.historyPos === this.history.length ? this.draft : this.history[this.historyPos]);
      default:
        return '';
    }
  }

  // remember keeps a sent line for Up and Down.
  remember(line) {
    if (line !== '' && this.history.at(-1) !== line) {
      this.history.push(line);
      if (this.history.length > MAX_HISTORY) this.history.shift();
    }
    this.historyPos = this.history.length;
    this.draft = '';
  }

  // width is the cells that chars[from, to) take on the screen.
  width(from = 0, to = this.chars.length) {
    let w = 0;
    for (let i = from; i < to; i++) w += cellWidth(this.chars[i].codePointAt(0));
    return w;
  }

  // shown is chars[from, to) as drawn: a tab as one space, as it is counted.
  shown(from = 0, to = this.chars.length) {
    return this.chars.slice(from, to).join('').replaceAll('\t', ' ');
  }

  // moveTo moves the cursor to index to (clamped) and returns the echo.
  moveTo(to) {
    to = Math.max(0, Math.min(this.chars.length, to));
    let echo;
    if (to < this.cursor) echo = '\b'.repeat(this.width(to, this.cursor));
    else echo = this.shown(this.cursor, to); // writing a character moves past it
    this.cursor = to;
    return echo;
  }

  insert(text) {
    this.chars.splice(this.cursor, 0, ...text);
    const at = this.cursor;
    this.cursor += [...text].length;
    return this.shown(at) + '\b'.repeat(this.width(this.cursor));
  }

  // remove deletes chars[from, to) and returns the echo: back to from,
  // the rest of the line, blanks over what is left of the old one, and
  // back to the cursor.
  remove(from, to) {
    if (to <= from) return '';
    const gone = this.width(from, to);
    let echo = this.moveTo(from);
    this.chars.splice(from, to - from);
    const tail = this.width(from);
    return echo + this.shown(from) + ' '.repeat(gone) + '\b'.repeat(tail + gone);
  }

  // replace puts text in place of the whole line (from the history).
  replace(text) {
    const old = this.width();
    let echo = this.moveTo(0);
    this.chars = [...text];
    this.cursor = this.chars.length;
    const now = this.width();
    echo += this.shown();
    if (old > now) echo += ' '.repeat(old - now) + '\b'.repeat(old - now);
    return echo;
  }

  // hide returns the echo that takes the line off the screen, leaving the
  // cursor where the line starts, so that the host's output can be
  // written there; show draws it again after it. The line is kept.
  hide() {
    if (this.chars.length === 0) return '';
    const w = this.width();
    return '\b'.repeat(this.width(0, this.cursor)) + ' '.repeat(w) + '\b'.repeat(w);
  }

  show() {
    if (this.chars.length === 0) return '';
    return this.shown() + '\b'.repeat(this.width(this.cursor));
  }

  // take empties the line and returns what it held (for character mode,
  // which sends it as typed), with the echo that takes it off the screen.
  take() {
    const echo = this.hide();
    const text = this.line;
    this.chars = [];
    this.cursor = 0;
    this.historyPos = this.history.length;
    return { text, echo };
  }
}
