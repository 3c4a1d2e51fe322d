// Keys: what the page's own keys send (the key bar on touch screens) and
// which keyboard shortcuts the page keeps for itself in terminal mode. Pure,
// so that node can test it (webtest/).
//
// In terminal mode every key goes to the host, as in xterm: Ctrl+letters
// (Ctrl+V, Ctrl+W, Ctrl+C...), Alt+key as ESC and the key, function keys,
// Home/End/PgUp/PgDn, the keypad, Tab and Esc. The page keeps only these:
//
//   Ctrl+Shift+C        copy the selection
//   Ctrl+Shift+V        paste (the browser's paste, which xterm.js sends)
//   Shift+Insert        paste
//   Ctrl+Shift+L        leave the terminal: focus goes to the page's controls

// LEAVE_SHORTCUT is the leave shortcut as aria-keyshortcuts writes it.
export const LEAVE_SHORTCUT = 'Control+Shift+L';

// pageShortcut says what a keydown in the terminal is for the page:
// 'copy', 'paste' (let the browser paste), 'leave', or '' (the host's).
export function pageShortcut(e) {
  if (e.altKey || e.metaKey) return '';
  if (e.ctrlKey && e.shiftKey) {
    if (e.code === 'KeyC') return 'copy';
    if (e.code === 'KeyV') return 'paste';
    if (e.code === 'KeyL') return 'leave';
    return '';
  }
  if (e.shiftKey && !e.ctrlKey && e.key === 'Insert') return 'paste';
  return '';
}

// ctrlChar returns the control character Ctrl+ch types in xterm, or '' if
// Ctrl does nothing to ch: letters give 0x01-0x1A, and @ [ \ ] ^ _ (and
// space, 2, 6, -, ? as on a PC keyboard) the rest.
export function ctrlChar(ch) {
  if (ch.length !== 1) return '';
  const c = ch.toUpperCase().charCodeAt(0);
  if (c >= 0x40 && c <= 0x5f) return String.fromCharCode(c & 0x1f); // @ A-Z [ \ ] ^ _
  const other = { ' ': 0x00, '2': 0x00, '6': 0x1e, '-': 0x1f, '/': 0x1f, '?': 0x7f, '8': 0x7f };
  return ch in other ? String.fromCharCode(other[ch]) : '';
}

const ARROWS = { up: 'A', down: 'B', right: 'C', left: 'D' };

// keySequence returns what a key of the key bar sends, as xterm sends it:
// arrows as ESC [ A (ESC O A when the program asked for application cursor
// keys; ESC [ 1 ; 5 A with Ctrl), "ctrl-x" as Ctrl+x.
export function keySequence(name, { ctrl = false, appCursor = false } = {}) {
  if (name in ARROWS) {
    const f = ARROWS[name];
    if (ctrl) return `\x1b[1;5${f}`;
    return appCursor ? `\x1bO${f}` : `\x1b[${f}`;
  }
  switch (name) {
    case 'esc': return '\x1b';
    case 'tab': return ctrl ? '' : '\t';
    default: {
      const m = /^ctrl-(.)$/.exec(name);
      return m ? ctrlChar(m[1]) : '';
    }
  }
}
