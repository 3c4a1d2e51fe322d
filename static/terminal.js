// Terminal mode: a full terminal (xterm.js, vendored under vendor/) that
// fills its container, keeps its size fitted to it, and passes keys through
// character by character. xterm.js is loaded the first time terminal mode is
// needed, so line mode does not pay for it.

let loading = null;

// loadXterm imports xterm.js and its fit addon (once; again after a failure).
function loadXterm() {
  loading ??= Promise.all([
    import('./vendor/xterm/xterm.mjs'),
    import('./vendor/addon-fit/addon-fit.mjs'),
  ]).then(([xterm, fit]) => ({ Terminal: xterm.Terminal, FitAddon: fit.FitAddon }))
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
  // few raw byte reports (old mouse modes), resize(cols, rows).
  constructor(container, handlers) {
    this.container = container;
    this.handlers = handlers;
    this.term = null;
    this.fitter = null;
    this.fitScheduled = false;
  }

  // open creates the terminal in its container (which must be visible, so
  // that xterm.js can measure a character), or fits the existing one.
  async open() {
    if (this.term) {
      this.fit();
      return;
    }
    const { Terminal, FitAddon } = await loadXterm();
    if (this.term) return; // opened meanwhile
    const css = getComputedStyle(this.container);
    const term = new Terminal({
      fontFamily: css.getPropertyValue('--mono').trim() || 'monospace',
      fontSize: parseFloat(css.fontSize) || 14,
      lineHeight: 1.15,
      scrollback: 5000,
      cursorBlink: true,
      theme: theme(),
    });
    this.term = term;
    this.fitter = new FitAddon();
    term.loadAddon(this.fitter);
    term.open(this.container);
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

  // key lets the browser have the clipboard keys: Ctrl+Shift+C copies the
  // selection; Ctrl+V and Ctrl+Shift+V paste (xterm.js turns the paste event
  // into input). Everything else goes to the target, Ctrl+C included.
  key(event) {
    if (event.type !== 'keydown' || !event.ctrlKey || event.altKey || event.metaKey) return true;
    if (event.shiftKey && event.code === 'KeyC') {
      event.preventDefault();
      this.copy();
      return false;
    }
    return event.code !== 'KeyV';
  }

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
  // characters split across frames whole) or text already decoded.
  write(data) { this.term.write(data); }

  reset() { this.term?.reset(); }

  focus() { this.term?.focus(); }

  // notice writes a line of the page's own, dimmed, on a fresh line.
  notice(text) {
    text = text.replace(/[\x00-\x1f\x7f-\x9f]/g, ''); // text, never control sequences
    this.term?.write(`\x1b[0m\r\n\x1b[2m[${text}]\x1b[0m\r\n`);
  }
}
