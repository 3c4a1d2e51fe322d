// The ANSI parser of line mode (static/ansi.js): lines, CR and BS edits,
// SGR attributes, and escape sequences removed even when split across writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnsiParser, DEFAULT } from '../static/ansi.js';

// parse feeds the pieces one write each and returns the finished lines as
// text, the line still open, and the parser.
function parse(...pieces) {
  const lines = [];
  const runs = [];
  const prompts = [];
  const p = new AnsiParser((r, prompt) => {
    runs.push(r);
    lines.push(r.map((x) => x.text).join(''));
    prompts.push(prompt);
  });
  for (const piece of pieces) p.write(piece);
  return { lines, runs, prompts, open: p.line.text(), p };
}

test('line endings: CR LF, LF; a lone CR overwrites', () => {
  assert.deepEqual(parse('one\r\ntwo\nthree\r\n').lines, ['one', 'two', 'three']);
  assert.deepEqual(parse('progress 10%\r', 'progress 50%\r', 'progress 100%\r\n').lines, ['progress 100%']);
  assert.deepEqual(parse('abcdef\rXY\r\n').lines, ['XYcdef']);
});

test('BS removes the character before the cursor, a surrogate pair whole', () => {
  assert.deepEqual(parse('abc\bX\b\bYZ\r\n').lines, ['aYZ']);
  assert.deepEqual(parse('a😀\bb\r\n').lines, ['ab']);
  assert.deepEqual(parse('\b\bok\r\n').lines, ['ok']);
});

test('other controls are dropped, TAB is text', () => {
  assert.deepEqual(parse('bell\x07 nul\x00 tab\tend\x0e\r\n').lines, ['bell nul tab\tend']);
});

test('escape sequences split across writes disappear', () => {
  const { lines, runs } = parse('split \x1b', '[3', '1mred\x1b[', '0m \x1b]0;ti', 'tle\x1b', '\\done\r\n');
  assert.deepEqual(lines, ['split red done']);
  assert.equal(runs[0][1].text, 'red');
  assert.equal(runs[0][1].attr.fg, 1);
  assert.equal(runs[0][1].attr.cls, 'fg-1');
});

test('non-SGR sequences: charsets, private modes, erase, DCS, 8-bit CSI', () => {
  const { lines } = parse('\x1b(Bcharset \x1b[?25lcursor\x1b[?25h \x1b[2J\x1b[Hclear \x1bMrev \x1bP1;2q\x1b\\dcs \x9b31mC1\r\n');
  assert.deepEqual(lines, ['charset cursor clear rev dcs C1']);
});

test('SGR: colours, 256 colours, truecolor, attributes, reset', () => {
  const { runs } = parse('\x1b[1;32mA\x1b[38;5;208mB\x1b[38;2;10;20;30mC\x1b[0mD\x1b[44;97mE\x1b[7mF\x1b[0m\r\n');
  const [a, b, c, d, e, f] = runs[0];
  assert.equal(a.attr.fg, 2);
  assert.equal(a.attr.bold, true);
  assert.equal(a.attr.cls, 'fg-10 bold', 'bold draws a normal colour bright, as xterm does');
  assert.equal(b.attr.color, 'rgb(255, 135, 0)');
  assert.equal(c.attr.color, 'rgb(10, 20, 30)');
  assert.equal(d.attr, DEFAULT);
  assert.equal(e.attr.cls, 'fg-15 bg-4');
  assert.equal(f.attr.cls, 'fg-4 bg-15', 'inverse swaps the colours');
  // Bold leaves bright and default colours as they are; it
  // brightens the foreground before inverse swaps it.
  assert.equal(parse('\x1b[1;94mx').p.attr.cls, 'fg-12 bold');
  assert.equal(parse('\x1b[1mx').p.attr.cls, 'bold');
  assert.equal(parse('\x1b[1;31;44;7mx').p.attr.cls, 'fg-4 bg-9 bold');
  // Equal attribute sets are the same object.
  assert.equal(parse('\x1b[31mx').p.attr, parse('\x1b[31;1;22mx').p.attr);
});

test('colon forms and the underline colour', () => {
  const { runs } = parse('\x1b[38:2::1:2:3mA\x1b[58;5;1mB\x1b[4:0mC\r\n');
  // The underline colour and "no underline" change nothing here: one run.
  assert.equal(runs[0].length, 1);
  assert.equal(runs[0][0].text, 'ABC');
  assert.equal(runs[0][0].attr.color, 'rgb(1, 2, 3)');
  assert.equal(runs[0][0].attr.underline, false);
});

test('CP437 glyphs are text, not controls', () => {
  // What the CP437 decoder makes of 0x01-0x1F and 0x7F: shown as they are.
  assert.deepEqual(parse('☺☻♥♦ ►◄ ⌂\r\n').lines, ['☺☻♥♦ ►◄ ⌂']);
});

test('partial returns a short open line (a prompt)', () => {
  const { p } = parse('Password: ');
  assert.equal(p.partial(200), 'Password: ');
  assert.equal(p.partial(3), '');
});

test('a runaway line is cut', () => {
  const { lines } = parse('x'.repeat(20000));
  assert.equal(lines.length, 1);
  assert.ok(lines[0].length > 16000);
});

test('a prompt marked by the game stays a line of its own', () => {
  // "> " then EOR: the next message starts on a new line.
  const r = parse('Welcome\r\n', '\x1b[1m> ');
  assert.equal(r.p.prompt(), true);
  assert.equal(r.open, '> ');
  assert.equal(r.p.line.prompt, true);
  r.p.write('\x1b[0mA rat arrives.\r\n');
  assert.deepEqual(r.lines, ['Welcome', '> ', 'A rat arrives.']);
  assert.deepEqual(r.prompts, [false, true, false]);

  // A line ending after the prompt just ends its line: no empty line.
  const nl = parse('HP 10> ');
  nl.p.prompt();
  nl.p.write('\r\nYou look around.\r\n');
  assert.deepEqual(nl.lines, ['HP 10> ', 'You look around.']);
  assert.deepEqual(nl.prompts, [true, false]);

  // A CR rewrites the prompt (a game redrawing it): the line is no prompt then.
  const cr = parse('HP 10> ');
  cr.p.prompt();
  cr.p.write('\rHP 9> ');
  assert.equal(cr.p.line.text(), 'HP 9>  ', 'overwritten in place, as a terminal does');
  assert.equal(cr.p.line.prompt, false);
  assert.deepEqual(cr.lines, []);

  // An empty line is no prompt: games that mark every message add no lines.
  const empty = parse('You rest.\r\n');
  assert.equal(empty.p.prompt(), false);
  empty.p.write('You wake.\r\n');
  assert.deepEqual(empty.lines, ['You rest.', 'You wake.']);

  // The password prompt is still seen as one.
  const pw = parse('Password: ');
  pw.p.prompt();
  assert.equal(pw.p.partial(200), 'Password: ');
});
