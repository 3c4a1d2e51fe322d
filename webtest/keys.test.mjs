// Keys (static/keys.js): the page's own shortcuts in terminal mode and what
// the touch key bar sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctrlChar, keySequence, pageShortcut } from '../static/keys.js';

const key = (code, key, mods = {}) => ({ code, key, ctrlKey: false, shiftKey: false, altKey: false, metaKey: false, ...mods });

test('the page keeps only copy, paste and leave; Ctrl+V and friends go to the host', () => {
  assert.equal(pageShortcut(key('KeyC', 'C', { ctrlKey: true, shiftKey: true })), 'copy');
  assert.equal(pageShortcut(key('KeyV', 'V', { ctrlKey: true, shiftKey: true })), 'paste');
  assert.equal(pageShortcut(key('Insert', 'Insert', { shiftKey: true })), 'paste');
  assert.equal(pageShortcut(key('KeyL', 'L', { ctrlKey: true, shiftKey: true })), 'leave');
  for (const k of [
    key('KeyV', 'v', { ctrlKey: true }), key('KeyC', 'c', { ctrlKey: true }), key('KeyW', 'w', { ctrlKey: true }),
    key('KeyL', 'l', { ctrlKey: true }), key('KeyX', 'x', { altKey: true }), key('KeyV', 'v', { altKey: true, ctrlKey: true, shiftKey: true }),
    key('F5', 'F5'), key('Home', 'Home'), key('PageDown', 'PageDown'), key('Insert', 'Insert'), key('Tab', 'Tab'),
    key('Escape', 'Escape'), key('Numpad5', '5'),
  ]) {
    assert.equal(pageShortcut(k), '', JSON.stringify(k));
  }
});

test('Ctrl+character as xterm makes it', () => {
  assert.equal(ctrlChar('c'), '\x03');
  assert.equal(ctrlChar('C'), '\x03');
  assert.equal(ctrlChar('['), '\x1b');
  assert.equal(ctrlChar('@'), '\x00');
  assert.equal(ctrlChar(' '), '\x00');
  assert.equal(ctrlChar('?'), '\x7f');
  assert.equal(ctrlChar('1'), '');
  assert.equal(ctrlChar('ab'), '');
});

test('key bar keys: arrows in both cursor modes, with Ctrl, and combinations', () => {
  assert.equal(keySequence('up'), '\x1b[A');
  assert.equal(keySequence('down'), '\x1b[B');
  assert.equal(keySequence('right'), '\x1b[C');
  assert.equal(keySequence('left'), '\x1b[D');
  assert.equal(keySequence('up', { appCursor: true }), '\x1bOA');
  assert.equal(keySequence('left', { ctrl: true }), '\x1b[1;5D');
  assert.equal(keySequence('esc'), '\x1b');
  assert.equal(keySequence('tab'), '\t');
  assert.equal(keySequence('ctrl-c'), '\x03');
  assert.equal(keySequence('ctrl-d'), '\x04');
  assert.equal(keySequence('ctrl-z'), '\x1a');
  assert.equal(keySequence('nonsense'), '');
});
