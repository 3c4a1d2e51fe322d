// The session state (static/session.js): one object per connection, the
// form's target, the WebSocket address, echo and password prompts, resize
// deduplication and the words for a close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session, closeText, defaultPort, parseTarget, readHash, socketURL, writeHash } from '../static/session.js';

test('an empty port is 23 in terminal mode and 80 in line mode', () => {
  assert.equal(defaultPort('terminal'), '23');
  assert.equal(defaultPort('line'), '80');
  assert.deepEqual(parseTarget('bbs.example.org', '', 'terminal'), { target: 'bbs.example.org:23' });
  assert.deepEqual(parseTarget('127.0.0.1', ' ', 'line'), { target: '127.0.0.1:80' });
  assert.deepEqual(parseTarget('127.0.0.1', '7000', 'terminal'), { target: '127.0.0.1:7000' });
});

test('targets: IPv6 in brackets, bad ports and hosts refused', () => {
  assert.deepEqual(parseTarget(' ::1 ', '23', 'line'), { target: '[::1]:23' });
  assert.deepEqual(parseTarget('[::1]', '23', 'line'), { target: '[::1]:23' });
  assert.equal(parseTarget('', '23', 'line').field, 'host');
  for (const port of ['0', '65536', 'telnet', '-1', '123456']) {
    assert.equal(parseTarget('h', port, 'line').field, 'port', port);
  }
});

test('the socket URL sits next to the page and names the terminal', () => {
  const u = new URL(socketURL('https://gw.example/telnet/?x#mode=line', 'terminal', { cols: 80, rows: 24 }));
  assert.equal(u.origin + u.pathname, 'wss://gw.example/telnet/ws');
  assert.equal(u.hash, '');
  assert.deepEqual(Object.fromEntries(u.searchParams), { telnet: 'auto', cols: '80', rows: '24', term: 'XTERM-256COLOR', resume: '1' });
  const l = new URL(socketURL('http://127.0.0.1:8000/', 'line', { cols: 100, rows: 30 }));
  assert.equal(l.protocol, 'ws:');
  assert.equal(l.searchParams.get('term'), 'ANSI,DUMB');
});

test('a session: SUCC opens it, output decodes in its charset', () => {
  const s = new Session('h:23', 'cp437');
  assert.equal(s.state, 'connecting');
  assert.deepEqual(s.answer('SUCC'), { ok: true });
  assert.equal(s.open, true);
  assert.equal(s.output(Uint8Array.from([0xc9, 0x03])), '╔♥');
  s.setCharset('utf-8');
  assert.equal(s.output(Uint8Array.from([0xe2, 0x82])) + s.output(Uint8Array.from([0xac])), '€');
});

test('FAIL and other answers close the session', () => {
  const f = new Session('h:23', 'utf-8');
  assert.deepEqual(f.answer('FAIL:h:23 refused the connection'), { fail: 'h:23 refused the connection' });
  assert.equal(f.state, 'closed');
  assert.deepEqual(new Session('h:1', 'utf-8').answer('HELLO'), { unexpected: true });
});

test('echo taken over after output means a password; from the start it does not', () => {
  const mud = new Session('h:1', 'utf-8');
  mud.answer('SUCC');
  mud.output(Uint8Array.from([0x3e]));
  mud.control('{"type":"echo","remote":true}');
  assert.equal(mud.secret, true);
  mud.control('{"type":"echo","remote":false}');
  assert.equal(mud.secret, false);

  const telnetd = new Session('h:2', 'utf-8');
  telnetd.answer('SUCC');
  telnetd.control('{"type":"echo","remote":true}');
  assert.equal(telnetd.remoteEcho, true);
  assert.equal(telnetd.secret, false);
});

test('a password prompt makes the next line secret until it is sent', () => {
  const s = new Session('h:1', 'utf-8');
  s.answer('SUCC');
  assert.equal(s.notePrompt('login: '), false);
  assert.equal(s.notePrompt('Password: '), true);
  assert.equal(s.secret, true);
  s.lineSent();
  assert.equal(s.secret, false);
});

test('control messages: closed keeps the reason, junk is ignored', () => {
  const s = new Session('h:1', 'utf-8');
  assert.equal(s.control('not json'), null);
  assert.deepEqual(s.control('{"type":"future","x":1}'), { type: 'future', x: 1 });
  s.control('{"type":"closed","reason":"the target closed the connection"}');
  assert.deepEqual(s.ended(1000, ''), { text: 'Disconnected: the target closed the connection.', error: false });
  assert.equal(s.state, 'closed');
});

test('resize is sent once per change', () => {
  const s = new Session('h:1', 'utf-8');
  s.lastSize = { cols: 80, rows: 24 };
  assert.equal(s.resize(80, 24), null);
  assert.deepEqual(s.resize(100, 30), { type: 'resize', cols: 100, rows: 30 });
  assert.equal(s.resize(100, 30), null);
});

test('close codes in words', () => {
  assert.equal(closeText(1006, '', false).text, 'Could not reach the gateway.');
  assert.equal(closeText(1006, '', true).text, 'Connection to the gateway lost.');
  assert.deepEqual(closeText(1001, 'the gateway is shutting down.', true), { text: 'Disconnected: the gateway is shutting down.', error: true });
  assert.equal(closeText(1005, '', true).text, 'Disconnected.');
  assert.equal(closeText(4000, '', true).text, 'Disconnected (WebSocket close code 4000).');
  assert.match(closeText(4001, 'the session was resumed on another connection', true).text, /another connection/);
});

test('teardown closes the socket, or closes it once it opens', () => {
  const closed = [];
  const s = new Session('h:1', 'utf-8');
  s.socket = { readyState: 1, close: (code) => closed.push(code) };
  s.teardown();
  assert.deepEqual(closed, [1000]);
  assert.equal(s.socket, null);

  let onOpen = null;
  const c = new Session('h:1', 'utf-8');
  c.socket = { readyState: 0, close: (code) => closed.push(code), addEventListener: (ev, fn) => { if (ev === 'open') onOpen = fn; } };
  c.teardown();
  assert.deepEqual(closed, [1000]);
  onOpen();
  assert.deepEqual(closed, [1000, 1000]);
});

test('the hash names a target, or a host and port, and the embedded view', () => {
  assert.deepEqual(readHash('#target=mybbs&mode=Terminal&charset=cp437&embed=1'),
    { target: 'mybbs', mode: 'terminal', charset: 'cp437', embed: true });
  assert.deepEqual(readHash('#host=bbs.example.org&port=23'), { host: 'bbs.example.org', port: '23', embed: false });
  assert.deepEqual(readHash('#target=%20&host=h'), { host: 'h', port: '', embed: false });
  assert.deepEqual(readHash('#target=a&host=h&port=1'), { target: 'a', embed: false });
  assert.deepEqual(readHash(''), { embed: false });
  assert.equal(writeHash({ target: 'my bbs', mode: 'line', charset: 'utf-8' }), '#target=my+bbs&mode=line&charset=utf-8');
  assert.equal(writeHash({ host: 'h', port: '23', mode: 'terminal', charset: 'cp437', embed: true }), '#host=h&port=23&mode=terminal&charset=cp437&embed=1');
  for (const s of [{ target: 'x', mode: 'terminal', charset: 'cp437', embed: true }, { host: '::1', port: '', mode: 'line', charset: 'utf-8', embed: false }]) {
    const back = readHash(writeHash(s));
    assert.equal(back.target ?? back.host, s.target ?? s.host);
    assert.equal(back.embed, s.embed);
  }
});

test('resume: the session message makes it resumable; acks free what we sent', () => {
  const s = new Session('h:1', 'utf-8');
  s.answer('SUCC');
  assert.equal(s.resumable, false, 'no id yet (or a gateway with resume off)');
  s.control('{"type":"session","id":"QUJDREVGR0hJSktMTU5PUA","window":60}');
  assert.equal(s.resumable, true);
  s.up.write(new TextEncoder().encode('typed'), true);
  s.up.take();
  s.control('{"type":"ack","offset":5}');
  assert.equal(s.up.kept, 0);
});

test('resume: a lost session reconnects, and carries on where it was', () => {
  const s = new Session('h:1', 'utf-8');
  s.answer('SUCC');
  s.control('{"type":"session","id":"abc","window":60}');
  s.down.take(100);
  s.up.write(new TextEncoder().encode('0123456789'), true);
  s.up.take();
  s.control('{"type":"echo","remote":true}');
  s.lose(1000);
  assert.equal(s.state, 'reconnecting');
  assert.equal(s.deadline, 61000);
  assert.equal(s.resuming(), '{"type":"resume","id":"abc","offset":100}');
  assert.deepEqual(s.resumeAnswer('SUCC'), { wait: true });
  assert.deepEqual(s.resumeAnswer('{"type":"resumed","offset":100,"received":4}'), { ok: true });
  assert.equal(s.state, 'open');
  assert.equal(s.remoteEcho, false, 'the gateway says echo again if it is on');
  assert.equal(new TextDecoder().decode(s.up.take()[0]), '456789');
  assert.deepEqual(s.resize(80, 24), { type: 'resize', cols: 80, rows: 24 }, 'the size goes again');
});

test('resume: FAIL, or offsets that do not add up, end the session', () => {
  const gone = new Session('h:1', 'utf-8');
  gone.lose(0);
  gone.resuming();
  assert.deepEqual(gone.resumeAnswer('FAIL:unknown session: it has ended'), { gone: 'unknown session: it has ended' });
  assert.equal(gone.state, 'closed');

  const odd = new Session('h:1', 'utf-8');
  odd.lose(0);
  odd.resuming();
  odd.resumeAnswer('SUCC');
  assert.ok(odd.resumeAnswer('{"type":"resumed","offset":0,"received":7}').gone, 'we never sent 7 bytes');
  assert.equal(odd.state, 'closed');
});
