// Terminal mode's local line editor (static/lineedit.js): what is sent, and
// that the echo, played on a small model of a terminal, shows the line
// with the cursor where the editor has it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineEditor, cellWidth } from '../static/lineedit.js';

// Screen is a terminal as far as the echo uses it: characters (wide ones
// take two cells), BS, CR and LF. Rows are never wrapped.
class Screen {
  constructor() {
    this.rows = [[]];
    this.x = 0;
  }

  write(s) {
    for (const ch of s) {
      const row = this.rows.at(-1);
      if (ch === '\b') this.x = Math.max(0, this.x - 1);
      else if (ch === '\r') this.x = 0;
      else if (ch === '\n') this.rows.push([]);
      else {
        const w = cellWidth(ch.codePointAt(0));
        while (row.length < this.x) row.push(' ');
        row[this.x] = ch;
        if (w === 2) row[this.x + 1] = '';
        this.x += w;
      }
    }
  }

  get text() { return this.rows.map((r) => r.join('').trimEnd()); }
}

// run types each key into a fresh editor on a screen that shows a prompt,
// and returns the editor, the screen and everything sent.
function run(...keys) {
  const ed = new LineEditor();
  const screen = new Screen();
  screen.write('> ');
  const sent = [];
  for (const k of keys) {
    const { send, echo } = ed.input(k);
    screen.write(echo);
    sent.push(...send);
  }
  return { ed, screen, sent };
}

// showsLine checks the screen's last row is the prompt and the line, with
// the cursor after the prompt and the cells before the editor's cursor.
function showsLine({ ed, screen }, line) {
  assert.equal(ed.line, line);
  assert.equal(screen.text.at(-1), ('> ' + line.replaceAll('\t', ' ')).trimEnd());
  assert.equal(screen.x, 2 + ed.width(0, ed.cursor), 'the cursor is where the editor has it');
}

test('typing echoes; Enter sends the line with CR LF and starts a new row', () => {
  const r = run(...'say hello', '\r');
  assert.deepEqual(r.sent, ['say hello\r\n']);
  assert.deepEqual(r.screen.text, ['> say hello', '']);
  assert.equal(r.ed.line, '');
  const empty = run('\r');
  assert.deepEqual(empty.sent, ['\r\n'], 'an empty line is a bare CR LF');
});

test('Backspace, Ctrl+U and Ctrl+W edit the line', () => {
  showsLine(run(...'helo', '\x7f', '\x7f', ...'llo'), 'hello');
  showsLine(run(...'abc', '\b'), 'ab');
  showsLine(run(...'get the lamp', '\x17'), 'get the ');
  showsLine(run(...'get the lamp  ', '\x17', '\x17'), 'get ');
  showsLine(run(...'wrong', '\x15', 'right'), 'right');
  showsLine(run('\x7f', '\x15', '\x17', 'x'), 'x');
  const r = run(...'abc', '\x7f', '\r');
  assert.deepEqual(r.sent, ['ab\r\n']);
});

test('arrows, Home and End move in the line; typing inserts there', () => {
  const left = '\x1b[D', right = '\x1b[C', home = '\x1b[H', end = '\x1b[F';
  showsLine(run(...'sy hello', home, right, 'a'), 'say hello');
  showsLine(run(...'say hllo', left, left, left, 'e'), 'say hello');
  showsLine(run(...'ello', home, 'h', end, '!'), 'hello!');
  // Application cursor keys and the other forms of Home and End.
  showsLine(run(...'bc', '\x1bOD', '\x1bOD', 'a', '\x1bOF', 'd'), 'abcd');
  showsLine(run(...'bc', '\x1b[1~', 'a', '\x1b[4~', 'd'), 'abcd');
  // Delete removes the character at the cursor; Backspace in the middle.
  showsLine(run(...'abxc', left, left, '\x1b[3~'), 'abc');
  showsLine(run(...'abxc', left, '\x7f'), 'abc');
  // Ctrl+U deletes before the cursor only, as readline does.
  showsLine(run(...'junk keep', left, left, left, left, '\x15'), 'keep');
  // Past either end, nothing moves.
  const r = run('a', left, left, left, 'b', right, right, 'c');
  showsLine(r, 'bac');
  assert.deepEqual(run('a', left, 'b', '\r').sent, ['ba\r\n'], 'Enter sends the whole line wherever the cursor is');
  // Ctrl+Left and Ctrl+Right go by words.
  showsLine(run(...'one two', '\x1b[1;5D', '\x1b[1;5D', 'X', '\x1b[1;5C', 'Y'), 'XoneY two');
});

test('Up and Down walk the lines sent; the line being typed comes back', () => {
  const up = '\x1b[A', down = '\x1b[B';
  const ed = new LineEditor();
  const screen = new Screen();
  const type = (...keys) => keys.forEach((k) => screen.write(ed.input(k).echo));
  type(...'first', '\r', ...'second', '\r', ...'draft');
  type(up);
  assert.equal(ed.line, 'second');
  assert.equal(screen.text.at(-1), 'second', 'the longer draft is blanked out');
  type(up);
  assert.equal(ed.line, 'first');
  type(up);
  assert.equal(ed.line, 'first', 'no further back than the first');
  type(down, down);
  assert.equal(ed.line, 'draft');
  assert.equal(screen.text.at(-1), 'draft');
  type(down);
  assert.equal(ed.line, 'draft');
  // A repeated line is remembered once; an empty one not at all.
  type('\x15', ...'second', '\r', '\r', up, up);
  assert.equal(ed.line, 'first');
});

test('Ctrl+C throws the line away and sends ^C; other controls go at once', () => {
  const r = run(...'half a li', '\x03');
  assert.deepEqual(r.sent, ['\x03']);
  assert.equal(r.ed.line, '');
  assert.deepEqual(r.screen.text, ['> half a li^C', '']);
  const d = run(...'ab', '\x04', '\x1a', '\x1c', 'c', '\r');
  assert.deepEqual(d.sent, ['\x04', '\x1a', '\x1c', 'abc\r\n'], 'Ctrl+D, Ctrl+Z, Ctrl+\\ are sent as typed; the line stays');
  showsLine(run('a', '\t', 'b'), 'a\tb');
});

test('other escape sequences are dropped, even several in one piece', () => {
  const r = run('a', '\x1b[15~', '\x1bOP', '\x1b[5~', '\x1bx', '\x1b', 'b', '\x1b[1;2Pc', '\r');
  assert.deepEqual(r.sent, ['abc\r\n']);
});

test('a paste: several lines at once, CR LF or LF, each sent whole', () => {
  const r = run('one\r\ntwo\nthree\rfour');
  assert.deepEqual(r.sent, ['one\r\n', 'two\r\n', 'three\r\n']);
  assert.equal(r.ed.line, 'four');
  assert.deepEqual(r.screen.text, ['> one', 'two', 'three', 'four']);
});

test('wide characters and emoji take two cells; the cursor follows', () => {
  showsLine(run(...'日本', '\x1b[D', 'x'), '日x本');
  showsLine(run('a😀b', '\x1b[D', '\x7f'), 'ab');
  assert.equal(cellWidth('日'.codePointAt(0)), 2);
  assert.equal(cellWidth('é'.codePointAt(0)), 1);
});

test('hide and show move the line out of the way of the output', () => {
  const r = run(...'say hel', '\x1b[D');
  r.screen.write(r.ed.hide());
  assert.equal(r.screen.text.at(-1), '>', 'hidden: only the prompt is left');
  assert.equal(r.screen.x, 2, 'the cursor is where the line started');
  r.screen.write('Bob says hi\r\n');
  r.screen.write(r.ed.show());
  assert.deepEqual(r.screen.text, ['> Bob says hi', 'say hel']);
  assert.equal(r.screen.x, 6, 'the cursor is back before the l');
  assert.equal(new LineEditor().hide() + new LineEditor().show(), '', 'nothing to do for an empty line');
});

test('take empties the line for character mode', () => {
  const r = run(...'abc', '\x1b[D');
  const { text, echo } = r.ed.take();
  r.screen.write(echo);
  assert.equal(text, 'abc');
  assert.equal(r.ed.line, '');
  assert.equal(r.screen.text.at(-1), '>');
});
