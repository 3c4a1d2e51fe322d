// Terminal mode's display of a bare LF in local line mode (static/terminal.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lfToCRLF } from '../static/terminal.js';

test('a bare LF becomes CR LF; CR LF stays, also across pieces', () => {
  assert.equal(lfToCRLF('one\ntwo\r\nthree\n', false), 'one\r\ntwo\r\nthree\r\n');
  assert.equal(lfToCRLF('\nx', true), '\nx', 'the CR ended the previous piece');
  assert.equal(lfToCRLF('\nx', false), '\r\nx');
  assert.equal(lfToCRLF('\n\n', false), '\r\n\r\n');
  assert.equal(lfToCRLF('', false), '');
});

test('bytes too, untouched when there is nothing to do', () => {
  const enc = (s) => new TextEncoder().encode(s);
  assert.deepEqual(lfToCRLF(enc('a\nb\r\nc\n'), false), enc('a\r\nb\r\nc\r\n'));
  assert.deepEqual(lfToCRLF(enc('\nz'), true), enc('\nz'));
  assert.deepEqual(lfToCRLF(enc('\nz'), false), enc('\r\nz'));
  const same = enc('no line feeds\r');
  assert.equal(lfToCRLF(same, false), same);
});
