// The charsets (static/charset.js): decoding a byte stream, encoding typed
// text, and CP437's rule for the low bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CP437_CONTROLS, charsetName, encode, newDecoder } from '../static/charset.js';

const bytes = (...b) => Uint8Array.from(b);

test('names and aliases', () => {
  assert.equal(charsetName('UTF8'), 'utf-8');
  assert.equal(charsetName(' IBM437 '), 'cp437');
  assert.equal(charsetName('latin1'), 'iso-8859-1');
  assert.equal(charsetName('cp1252'), 'windows-1252');
  assert.equal(charsetName('ebcdic'), '');
});

test('UTF-8 keeps a character split across chunks', () => {
  const d = newDecoder('utf-8');
  assert.equal(d(bytes(0x63, 0xe2, 0x82)) + d(bytes(0xac, 0x21)), 'c€!');
  assert.equal(newDecoder('utf-8')(bytes(0xff)), '\ufffd');
});

test('ISO-8859-1 is real Latin-1; Windows-1252 has its quotes', () => {
  assert.equal(newDecoder('iso-8859-1')(bytes(0xe9, 0x85)), 'é\x85');
  assert.equal(newDecoder('windows-1252')(bytes(0x93, 0xe9, 0x94, 0x80)), '“é”€');
  assert.deepEqual([...encode('iso-8859-1', 'né € 😀')], [0x6e, 0xe9, 0x20, 0x3f, 0x20, 0x3f]);
  assert.deepEqual([...encode('windows-1252', '€“')], [0x80, 0x93]);
  // The five bytes Windows-1252 leaves undefined are the C1 controls, as in browsers.
  assert.equal(newDecoder('windows-1252')(bytes(0x81, 0x8d, 0x8f, 0x90, 0x9d)), '\x81\x8d\x8f\x90\x9d');
});

test('CP437: the high half is box drawing and letters', () => {
  assert.equal(newDecoder('cp437')(bytes(0x82, 0xc9, 0xcd, 0xbb, 0xb0, 0xdb, 0xff)), 'é╔═╗░█\u00a0');
  assert.deepEqual([...encode('cp437', 'né ═ €')], [0x6e, 0x82, 0x20, 0xcd, 0x20, 0x3f]);
});

test('CP437: low bytes are glyphs, except the controls a BBS uses', () => {
  const d = newDecoder('cp437');
  const low = [];
  for (let b = 1; b < 0x20; b++) low.push(b);
  const shown = d(Uint8Array.from([...low, 0x7f]));
  // Every low byte but BEL BS TAB LF FF CR ESC becomes its picture.
  assert.equal(shown, '☺☻♥♦♣♠\x07\b\t\n♂\f\r♫☼►◄↕‼¶§▬↨↑↓→\x1b∟↔▲▼⌂');
  assert.deepEqual(CP437_CONTROLS, [0x00, 0x07, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1b]);
  // ESC still starts a sequence, NUL stays NUL (the views drop it).
  assert.equal(d(bytes(0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x03, 0x00)), '\x1b[31m♥\x00');
});

test('CP437 and Latin charsets: typed controls are sent as controls', () => {
  // Ctrl+C, Enter, Esc, Backspace (DEL) from the keyboard are bytes, not "?".
  for (const cs of ['cp437', 'iso-8859-1', 'windows-1252']) {
    assert.deepEqual([...encode(cs, '\x03\r\x1b\x7f\t')], [0x03, 0x0d, 0x1b, 0x7f, 0x09], cs);
  }
  // A glyph typed (pasted) is its CP437 byte.
  assert.deepEqual([...encode('cp437', '♥⌂')], [0x03, 0x7f]);
});

test('other charsets keep the low bytes as controls', () => {
  assert.equal(newDecoder('iso-8859-1')(bytes(0x01, 0x7f)), '\x01\x7f');
  assert.equal(newDecoder('windows-1252')(bytes(0x01, 0x7f)), '\x01\x7f');
});
