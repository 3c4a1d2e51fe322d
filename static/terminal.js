// Terminal mode: a full terminal (xterm.js, vendored under vendor/) that
// fills its container, keeps its size fitted to it, and passes keys through
// as xterm sends them (keys.js lists the few the page keeps). xterm.js is
// loaded the first time terminal mode is needed, so line mode does not pay
// for it.

import { LEAVE_SHORTCUT, pageShortcut } from './keys.js';

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

export class TerminalView {
  // handlers: data(string) for typed text, binary(string of bytes) for the
  // few raw byte reports (old mouse modes), resize(cols, rows), leave() for
  // the shortcut that moves the focus out of the terminal.
  constructor(container, handlers) {
    this.container = container;
    this.handlers = handlers;
    this.term = null;
    this.fitter = null;
    this.fitScheduled = false;
    this.screenReader = false;
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
    term.onData((data) => this.handlers.data(data));
    term.onBinary((data) => this.handlers.binary(data));
    term.onResize(({ cols, rows }) => this.handlers.resize(cols, rows));
    term.attachCustomKeyEventHandler((event) => this.key(event));
    // Fit after layout settles rather than inside the observer's callback,
    // where resizing would re-trigger it in the same frame.
    new ResizeObserver(() => this.scheduleFit()).observe(this.container);
    term.write('\x1b[2mThe target\'s screen appears here once connected.\x1b[0m');
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
  // if given, runs once xterm.js has parsed them.
  write(data, done) { this.term.write(data, done); }

  reset() { this.term?.reset(); }

  focus() { this.term?.focus(); }

  // notice writes a line of the page's own, dimmed, on a fresh line.
  notice(text) {
    text = text.replace(/[\x00-\x1f\x7f-\x9f]/g, ''); // text, never control sequences
    this.term?.write(`\x1b[0m\r\n\x1b[2m[${text}]\x1b[0m\r\n`);
  }
}
