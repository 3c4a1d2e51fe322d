// Terminal mode: a full terminal (xterm.js, vendored under vendor/) that
// fills its container, keeps its size fitted to it, and passes keys through
// as xterm sends them (keys.js lists the few the page keeps). xterm.js is
// loaded the first time terminal mode is needed, so line mode does not pay
// for it.
//
// It has two ways of typing, as a telnet client has (RFC 1184's "kludge"
// line mode): character mode while the host echoes (it agreed to ECHO:
// telnetd, full-screen programs), where every key goes to the host as
// typed and nothing is echoed here; and local line mode otherwise (MUDs,
// SMTP, the echo server, raw TCP), where lineedit.js echoes and edits the
// line and Enter sends it with CR LF. In line mode a bare LF from the host
// is shown as CR LF, as a telnet client's terminal shows it (its tty maps
// LF to CR LF); character mode shows the host's bytes untouched.

import { LEAVE_SHORTCUT, pageShortcut } from './keys.js';
import { LineEditor } from './lineedit.js';

let loading = null;

// loadXterm imports xterm.js and its addons (once; again after a failure).
function loadXterm() {
  loading ??= Promise.all([
    import('./vendor/xterm/xterm.mjs'),
    import('./vendor/addon-fit/addon-fit.mjs'),
    import('./vendor/addon-unicode11/addon-unicode11.mjs'),
  ]).then(([xterm, fit, u11]) => ({ Terminal: xterm.Terminal, FitAddon: fit.FitAddon, Unicode11Addon: u11.Unicode11Addon }))
    .catch((err) => {
      loading = null;
      throw err;
    });
  return loading;
}

// theme reads the terminal's colours from the page's CSS custom properties
// (style.css): one place for the page's colours.
function theme() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  const names = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];
  const t = {
    background: v('--term-bg'),
    foreground: v('--term-fg'),
    cursor: v('--term-cursor'),
    cursorAccent: v('--term-bg'),
    selectionBackground: v('--term-selection'),
  };
  names.forEach((name, i) => {
    t[name] = v(`--term-ansi-${i}`);
    t['bright' + name[0].toUpperCase() + name.slice(1)] = v(`--term-ansi-${i + 8}`);
  });
  return t;
}

// lfToCRLF returns data (text or bytes) with every LF that does not follow
// a CR made CR LF; afterCR says whether the previous piece ended with CR.
export function lfToCRLF(data, afterCR) {
  if (typeof data === 'string') {
    let out = '';
    let prev = afterCR ? '\r' : '';
    for (const ch of data) {
      if (ch === '\n' && prev !== '\r') out += '\r';
      out += ch;
      prev = ch;
    }
    return out;
  }
  let extra = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a && (i > 0 ? data[i - 1] : afterCR ? 0x0d : 0) !== 0x0d) extra++;
  }
  if (extra === 0) return data;
  const out = new Uint8Array(data.length + extra);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a && (i > 0 ? data[i - 1] : afterCR ? 0x0d : 0) !== 0x0d) out[n++] = 0x0d;
    out[n++] = data[i];
  }
  return out;
}

export class TerminalView {
  // handlers: typed(string) for what the keyboard typed (the page may
  // change it, e.g. apply a sticky Ctrl, and passes it on to type()),
  // data(string) for text to send to the host, binary(string of bytes) for
  // the few raw byte reports (old mouse modes), resize(cols, rows), leave()
  // for the shortcut that moves the focus out of the terminal.
  constructor(container, handlers) {
    this.container = container;
    this.handlers = handlers;
    this.term = null;
    this.fitter = null;
    this.fitScheduled = false;
    this.screenReader = false;
    this.charMode = false;       // the host echoes: keys go as typed
    this.editor = new LineEditor(); // local line mode's line
    this.afterCR = false;        // the host's last byte shown was CR
  }

  // type takes what was typed (keys, a paste, the key bar): in character
  // mode it goes to the host as it is; in line mode to the line editor,
  // which echoes it and sends whole lines.
  type(text) {
    if (this.charMode || !this.term) {
      this.handlers.data(text);
      return;
    }
    const { send, echo } = this.editor.input(text);
    if (echo) this.term.write(echo);
    for (const t of send) this.handlers.data(t);
  }

  // setCharMode switches between character mode (on: the host echoes) and
  // local line mode. A line half typed when the host takes over echo is
  // sent as typed (the host echoes it), so that nothing typed is lost.
  setCharMode(on) {
    on = Boolean(on);
    if (on === this.charMode) return;
    this.charMode = on;
    this.container.dataset.typing = on ? 'char' : 'line';
    if (!this.term) return;
    if (on) {
      const { text, echo } = this.editor.take();
      // Reverse wraparound off again, as xterm starts: it is the line
      // editor's (BS back over a wrapped row), not the host's.
      this.term.write(echo + '\x1b[?45l');
      if (text) this.handlers.data(text);
    } else {
      this.term.write('\x1b[?45h');
    }
  }

  // open creates the terminal in its container (which must be visible, so
  // that xterm.js can measure a character), or fits the existing one.
  async open() {
    if (this.term) {
      this.fit();
      return;
    }
    const { Terminal, FitAddon, Unicode11Addon } = await loadXterm();
    if (this.term) return; // opened meanwhile
    const css = getComputedStyle(this.container);
    const term = new Terminal({
      fontFamily: css.getPropertyValue('--mono').trim() || 'monospace',
      fontSize: parseFloat(css.fontSize) || 14,
      lineHeight: 1.15,
      scrollback: 5000,
      cursorBlink: true,
      theme: theme(),
      screenReaderMode: this.screenReader,
      allowProposedApi: true, // term.unicode, for the Unicode 11 widths
    });
    this.term = term;
    this.fitter = new FitAddon();
    term.loadAddon(this.fitter);
    // Unicode 11 widths: emoji and CJK take two cells, as in current
    // terminals and the programs (ncurses, readline) that count cells.
    term.loadAddon(new Unicode11Addon());
    term.unicode.activeVersion = '11';
    term.open(this.container);
    // The terminal's focus is its hidden textarea: that is where a screen
    // reader announces the shortcut that leads out of it.
    term.textarea?.setAttribute('aria-keyshortcuts', LEAVE_SHORTCUT);
    term.onData((data) => this.handlers.typed(data));
    term.onBinary((data) => this.handlers.binary(data));
    term.onResize(({ cols, rows }) => this.handlers.resize(cols, rows));
    term.attachCustomKeyEventHandler((event) => this.key(event));
    // Fit after layout settles rather than inside the observer's callback,
    // where resizing would re-trigger it in the same frame.
    new ResizeObserver(() => this.scheduleFit()).observe(this.container);
    term.write('\x1b[2mThe target\'s screen appears here once connected.\x1b[0m');
    if (!this.charMode) term.write('\x1b[?45h'); // for the line editor: see lineedit.js
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
      term.options.theme = theme();
    });
    this.fit();
  }

  scheduleFit() {
    if (this.fitScheduled) return;
    this.fitScheduled = true;
    requestAnimationFrame(() => {
      this.fitScheduled = false;
      this.fit();
    });
  }

  fit() {
    // Nothing to fit to while hidden (line mode).
    if (!this.term || this.container.clientWidth === 0 || this.container.clientHeight === 0) return;
    // The stylesheet picks a smaller font on phones.
    const fontSize = parseFloat(getComputedStyle(this.container).fontSize);
    if (fontSize > 0 && fontSize !== this.term.options.fontSize) this.term.options.fontSize = fontSize;
    this.fitter.fit();
  }

  // key keeps the page's few shortcuts (keys.js) from the target:
  // Ctrl+Shift+C copies, Ctrl+Shift+V and Shift+Insert are left to the
  // browser, which pastes (xterm.js turns the paste event into input), and
  // Ctrl+Shift+L leaves the terminal. Every other key goes to the target
  // as xterm sends it: Ctrl+V, Ctrl+W, Alt+x, F5, Home, PgDn...
  key(event) {
    if (event.type !== 'keydown') return true;
    switch (pageShortcut(event)) {
      case 'copy':
        event.preventDefault();
        this.copy();
        return false;
      case 'paste':
        return false; // no preventDefault: the browser's paste follows
      case 'leave':
        event.preventDefault();
        this.handlers.leave();
        return false;
      default:
        return true;
    }
  }

  // setScreenReader turns xterm.js's screen reader mode on or off (an
  // accessible buffer that screen readers read, announcing new output).
  setScreenReader(on) {
    this.screenReader = on;
    if (this.term) this.term.options.screenReaderMode = on;
  }

  // paste sends text as pasted (bracketed when the program asked for it).
  paste(text) { this.term?.paste(text); }

  // appCursor says whether the program asked for application cursor keys
  // (arrows as ESC O A rather than ESC [ A).
  get appCursor() { return this.term?.modes.applicationCursorKeysMode ?? false; }

  // copy puts the selection on the clipboard. Returns false if nothing is selected.
  copy() {
    const text = this.term?.getSelection() ?? '';
    if (text === '') return false;
    if (navigator.clipboard?.writeText) {
      navigator.clipboard.writeText(text).catch(() => this.copyByCommand());
    } else {
      this.copyByCommand(); // plain http on another host: no clipboard API
    }
    return true;
  }

  // copyByCommand fires a copy event in the terminal, which xterm.js answers
  // with the selection.
  copyByCommand() {
    this.term.focus();
    document.execCommand('copy');
  }

  get size() {
    return this.term ? { cols: this.term.cols, rows: this.term.rows } : { cols: 80, rows: 24 };
  }

  // write takes bytes (UTF-8, which xterm.js decodes itself, keeping
  // characters split across frames whole) or text already decoded; done,
  // if given, runs once xterm.js has parsed them. In line mode the line
  // being typed is moved out of the output's way and drawn after it, and
  // a bare LF starts a line at the left margin.
  write(data, done) {
    if (this.charMode) {
      this.term.write(data, done);
      return;
    }
    const last = data.length > 0 ? (typeof data === 'string' ? data.charCodeAt(data.length - 1) : data[data.length - 1]) : -1;
    data = lfToCRLF(data, this.afterCR);
    if (last !== -1) this.afterCR = last === 0x0d;
    const hide = this.editor.hide();
    if (hide) this.term.write(hide);
    this.term.write(data, done);
    const show = this.editor.show();
    if (show) this.term.write(show);
  }

  // reset clears the terminal for a new session, which starts in local
  // line mode until the host says it echoes.
  reset() {
    this.term?.reset();
    this.charMode = false;
    this.container.dataset.typing = 'line';
    this.afterCR = false;
    this.editor.take(); // the line goes; the history stays
    this.term?.write('\x1b[?45h');
  }

  focus() { this.term?.focus(); }

  // notice writes a line of the page's own, dimmed, on a fresh line.
  notice(text) {
    text = text.replace(/[\x00-\x1f\x7f-\x9f]/g, ''); // text, never control sequences
    const line = this.charMode ? '' : this.editor.hide();
    this.term?.write(`${line}\x1b[0m\r\n\x1b[2m[${text}]\x1b[0m\r\n`);
    if (line) this.term?.write(this.editor.show());
  }
}
