// The page's pure session logic (static/session.js): the form's target,
// the WebSocket address, the hash, a session's charset, echo and password
// prompts, and the words for a close. The connection itself is tested in
// connection.test.mjs.
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
  assert.deepEqual(Object.fromEntries(u.searchParams), {
    telnet: 'auto', cols: '80', rows: '24', term: 'XTERM-256COLOR', resume: '1',
    gmcp: '1', msdp: '1', charset: 'utf-8', mtts: '319',
  });
  const l = new URL(socketURL('http://127.0.0.1:8000/', 'line', { cols: 100, rows: 30 }, { charset: 'cp437', screenReader: true }));
  assert.equal(l.protocol, 'ws:');
  assert.equal(l.searchParams.get('term'), 'ANSI,DUMB');
  assert.equal(l.searchParams.get('charset'), 'cp437');
  assert.equal(l.searchParams.get('mtts'), String(1 + 8 + 256 + 64), 'line mode: colours, no UTF-8 in CP437, a screen reader');
});

test('a session decodes output in its charset, afresh after SUCC', () => {
  const s = new Session('h:23', 'cp437');
  assert.equal(s.output(Uint8Array.from([0xc9, 0x03])), '╔♥');
  s.setCharset('utf-8');
  assert.equal(s.output(Uint8Array.from([0xe2, 0x82])) + s.output(Uint8Array.from([0xac])), '€');
  assert.equal(s.output(Uint8Array.from([0xe2, 0x82])), '');
  s.started();
  assert.equal(s.output(Uint8Array.from([0x41])), 'A', 'the half character of before is gone');
});

test('echo taken over after output means a password; from the start it does not', () => {
  const mud = new Session('h:1', 'utf-8');
  mud.output(Uint8Array.from([0x3e]));
  mud.echo(true);
  assert.equal(mud.secret, true);
  mud.echo(false);
  assert.equal(mud.secret, false);

  const telnetd = new Session('h:2', 'utf-8');
  telnetd.echo(true);
  assert.equal(telnetd.remoteEcho, true);
  assert.equal(telnetd.secret, false);
  telnetd.resumed();
  assert.equal(telnetd.remoteEcho, false, 'after a resume the gateway says echo again if it is on');
});

test('a password prompt makes the next line secret until it is sent', () => {
  const s = new Session('h:1', 'utf-8');
  assert.equal(s.notePrompt('login: '), false);
  assert.equal(s.notePrompt('Password: '), true);
  assert.equal(s.secret, true);
  s.lineSent();
  assert.equal(s.secret, false);
});

test('close codes in words', () => {
  assert.equal(closeText(1006, '', false).text, 'Could not reach the gateway.');
  assert.equal(closeText(1006, '', true).text, 'Connection to the gateway lost.');
  assert.equal(closeText(1005, '', true).text, 'Disconnected.');
  assert.equal(closeText(4000, '', true).text, 'Disconnected (WebSocket close code 4000).');
  assert.match(closeText(4001, 'the session was resumed on another connection', true).text, /another connection/);
  assert.match(closeText(4001, '', true).text, /another connection/);
  assert.deepEqual(closeText(1000, 'the target closed the connection', true, 'the target closed the connection'),
    { text: 'Disconnected: the target closed the connection.', error: false });
  assert.deepEqual(closeText(1000, '', true, 'the target closed the connection'),
    { text: 'Disconnected: the target closed the connection.', error: false }, 'the closed message alone');
});

test('each end keeps its own words: the closed message, the close frame and its code', () => {
  assert.deepEqual(closeText(1001, 'the gateway is shutting down.', true),
    { text: 'Disconnected: the gateway is shutting down (close code 1001).', error: true });
  assert.deepEqual(closeText(1001, 'the gateway is shutting down', true, 'the gateway is shutting down'),
    { text: 'Disconnected: the gateway is shutting down (close code 1001).', error: true });
  // When the two say different things, both are shown, not one for the other.
  assert.equal(closeText(1001, 'the gateway is shutting down', true, 'the connection to the target was lost').text,
    'Disconnected: the connection to the target was lost; the gateway is shutting down (close code 1001).');
  assert.equal(closeText(1000, 'closed after 30m0s without activity', true, 'closed after 30m0s without activity').text,
    'Disconnected: closed after 30m0s without activity.');
});

test('the hash names a target, or a host and port, and the embedded view', () => {
  assert.deepEqual(readHash('#target=mybbs&mode=Terminal&charset=cp437&embed=1'),
    { target: 'mybbs', mode: 'terminal', charset: 'cp437', embed: true, vitals: true });
  assert.deepEqual(readHash('#host=bbs.example.org&port=23'), { host: 'bbs.example.org', port: '23', embed: false, vitals: true });
  assert.deepEqual(readHash('#target=%20&host=h'), { host: 'h', port: '', embed: false, vitals: true });
  assert.deepEqual(readHash('#target=a&host=h&port=1'), { target: 'a', embed: false, vitals: true });
  assert.deepEqual(readHash(''), { embed: false, vitals: true });
  assert.equal(readHash('#target=a&embed=1&vitals=0').vitals, false, 'the vitals bar off');
  assert.equal(writeHash({ target: 'a', mode: 'line', charset: 'utf-8', embed: true, vitals: false }), '#target=a&mode=line&charset=utf-8&embed=1&vitals=0');
  assert.equal(writeHash({ target: 'my bbs', mode: 'line', charset: 'utf-8' }), '#target=my+bbs&mode=line&charset=utf-8');
  assert.equal(writeHash({ host: 'h', port: '23', mode: 'terminal', charset: 'cp437', embed: true }), '#host=h&port=23&mode=terminal&charset=cp437&embed=1');
  for (const s of [{ target: 'x', mode: 'terminal', charset: 'cp437', embed: true }, { host: '::1', port: '', mode: 'line', charset: 'utf-8', embed: false }]) {
    const back = readHash(writeHash(s));
    assert.equal(back.target ?? back.host, s.target ?? s.host);
    assert.equal(back.embed, s.embed);
  }
});
