// The page's connection (static/connection.js) against a fake WebSocket
// and a fake clock: the first answer, acks, loss and resume with backoff,
// the end of a session in each of its ways, typing kept while away, and
// the heartbeat that notices a frozen path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTEMPT_TIMEOUT, Connection, HEARTBEAT_IDLE, HEARTBEAT_WAIT, SUBPROTOCOL } from '../static/connection.js';

const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);

// FakeClock runs timers when the test moves time on.
class FakeClock {
  constructor() {
    this.t = 0;
    this.timers = new Map(); // id -> {at, fn}
    this.next = 1;
  }
  now() { return this.t; }
  setTimeout(fn, ms) {
    const id = this.next++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(id) { this.timers.delete(id); }
  // advance moves time on by ms, running each timer due on the way at its time.
  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      let due = null;
      for (const [id, timer] of this.timers) if (timer.at <= end && (!due || timer.at < due[1].at)) due = [id, timer];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
  get pending() { return this.timers.size; }
}

// fakeSockets makes a WebSocket class whose instances the test drives.
function fakeSockets() {
  const made = [];
  class FakeWebSocket {
    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.protocol = '';
      this.readyState = 0;
      this.sent = [];
      this.closedWith = null; // the code we closed it with
      this.listeners = {};
      this.binaryType = 'blob';
      made.push(this);
    }
    addEventListener(type, fn) { (this.listeners[type] ??= []).push(fn); }
    emit(type, event = {}) { for (const fn of this.listeners[type] ?? []) fn(event); }
    send(data) {
      if (this.readyState !== 1) throw new Error('send on a socket that is not open');
      this.sent.push(data);
    }
    close(code) {
      this.closedWith = code;
      this.readyState = 2;
    }
    // The gateway's side.
    accept(protocol = SUBPROTOCOL) {
      this.protocol = protocol;
      this.readyState = 1;
      this.emit('open');
    }
    text(s) { this.emit('message', { data: s }); }
    bytes(s) { this.emit('message', { data: enc(s).buffer }); }
    control(m) { this.text(JSON.stringify(m)); }
    drop(code = 1006, reason = '') {
      this.readyState = 3;
      this.emit('close', { code, reason });
    }
    // texts are the control messages we sent, parsed; data the bytes, as text.
    get texts() { return this.sent.filter((d) => typeof d === 'string').map((d) => (d.startsWith('{') ? JSON.parse(d) : d)); }
    get data() { return this.sent.filter((d) => typeof d !== 'string').map(dec).join(''); }
  }
  return { FakeWebSocket, made };
}

// setup makes a connection with a fake socket and clock, recording its
// events; random 0.5 makes the backoff exact (no spread).
function setup({ heartbeat } = {}) {
  const clock = new FakeClock();
  const { FakeWebSocket, made } = fakeSockets();
  const events = [];
  const output = [];
  const pendingShown = [];
  let showAtOnce = true;
  const log = (name) => (...args) => events.push([name, ...args]);
  const c = new Connection('h:23', {
    url: () => 'ws://gw/ws?resume=1',
    WebSocket: FakeWebSocket,
    clock,
    random: () => 0.5,
    heartbeat,
  }, {
    open: log('open'),
    refused: log('refused'),
    data: (bytes, shown) => {
      output.push(dec(bytes));
      if (showAtOnce) shown();
      else pendingShown.push(shown);
    },
    control: log('control'),
    lost: () => events.push(['lost', clock.now()]),
    attempt: (n) => events.push(['attempt', n, clock.now()]),
    resumed: log('resumed'),
    gone: log('gone'),
    closed: log('closed'),
  });
  return {
    c, clock, made, events, output, pendingShown,
    showLater() { showAtOnce = false; },
    get socket() { return made.at(-1); },
    names() { return events.map((e) => e[0]); },
  };
}

// opened starts a resumable session: SUCC, then the session's id.
function opened(h, window = 60) {
  h.c.start({ cols: 80, rows: 24 });
  const ws = h.socket;
  assert.deepEqual(ws.protocols, [SUBPROTOCOL]);
  assert.equal(ws.binaryType, 'arraybuffer');
  ws.accept();
  assert.deepEqual(ws.sent, ['h:23'], 'the first message names the target');
  ws.text('SUCC');
  ws.control({ type: 'session', id: 'QUJDREVGR0hJSktMTU5PUA', window });
  assert.equal(h.c.state, 'open');
  assert.equal(h.c.resumable, true);
  return ws;
}

test('SUCC opens; output is acknowledged within a second of being shown', () => {
  const h = setup();
  const ws = opened(h);
  assert.deepEqual(h.names(), ['open']);
  ws.bytes('hello ');
  ws.bytes('world');
  assert.deepEqual(h.output, ['hello ', 'world']);
  assert.deepEqual(ws.texts.filter((m) => m.type === 'ack'), [], 'not at once');
  h.clock.advance(1000);
  assert.deepEqual(ws.texts.filter((m) => m.type === 'ack'), [{ type: 'ack', offset: 11 }]);
  // The view may take its time (terminal mode): the ack waits for it.
  h.showLater();
  ws.bytes('later');
  h.clock.advance(5000);
  assert.equal(ws.texts.filter((m) => m.type === 'ack').length, 1, 'nothing shown, nothing acknowledged');
  h.pendingShown.shift()();
  h.clock.advance(1000);
  assert.deepEqual(ws.texts.filter((m) => m.type === 'ack').at(-1), { type: 'ack', offset: 16 });
});

test('FAIL and other first answers: refused, the socket closed', () => {
  const h = setup();
  h.c.start({ cols: 80, rows: 24 });
  h.socket.accept();
  h.socket.text('FAIL:h:23 refused the connection');
  assert.deepEqual(h.events, [['refused', { fail: 'h:23 refused the connection' }]]);
  assert.equal(h.c.state, 'closed');
  assert.equal(h.socket.closedWith, 1000);

  const o = setup();
  o.c.start({ cols: 80, rows: 24 });
  o.socket.accept();
  o.socket.text('HELLO');
  assert.deepEqual(o.events, [['refused', { unexpected: true }]]);
});

test('a loss is resumed with backoff: 0.5 s, doubling to 5 s', () => {
  const h = setup();
  const ws = opened(h);
  h.clock.advance(10_000);
  const lostAt = h.clock.now();
  ws.drop(1006);
  assert.equal(h.c.state, 'reconnecting');
  assert.deepEqual(h.events.at(-1), ['lost', lostAt]);
  assert.equal(h.made.length, 1, 'no attempt at once');
  // Each attempt is refused (closed before it opens); the next waits longer.
  for (const [n, wait] of [500, 1000, 2000, 4000, 5000, 5000, 5000].entries()) {
    const before = h.made.length;
    h.clock.advance(wait - 1);
    assert.equal(h.made.length, before, `no attempt ${n + 1} before ${wait} ms`);
    h.clock.advance(1);
    assert.equal(h.made.length, before + 1, `attempt ${n + 1} after ${wait} ms`);
    assert.deepEqual(h.events.at(-1), ['attempt', n + 1, h.clock.now()]);
    h.socket.drop(1006);
  }
});

test('resume: output goes on from the offset; unacknowledged and waiting typing is sent from "received"', () => {
  const h = setup();
  const ws = opened(h);
  ws.bytes('0123456789'); // 10 bytes of output
  h.clock.advance(1000);  // acknowledged: 10
  assert.equal(h.c.send(enc('abcdef')), true);
  assert.equal(ws.data, 'abcdef');
  ws.control({ type: 'ack', offset: 2 }); // the gateway has "ab"
  ws.bytes('XYZ'); // received, not acknowledged yet
  ws.drop(1006);
  // Typing while away is kept.
  assert.equal(h.c.send(enc('typed away')), true);
  assert.equal(h.c.state, 'reconnecting');

  h.clock.advance(500);
  const next = h.socket;
  assert.notEqual(next, ws);
  next.accept();
  assert.deepEqual(next.texts, [{ type: 'resume', id: 'QUJDREVGR0hJSktMTU5PUA', offset: 13 }], 'asks for the output after the 13 bytes it has');
  next.text('SUCC');
  assert.equal(h.c.state, 'reconnecting', 'resumed comes next');
  next.control({ type: 'resumed', offset: 13, received: 4 }); // the gateway took "abcd"
  assert.equal(h.c.state, 'open');
  assert.deepEqual(h.names().slice(-3), ['lost', 'attempt', 'resumed']);
  assert.equal(next.data, 'eftyped away', 'from byte 4 on, then what was typed meanwhile, once');
  next.bytes('more');
  assert.deepEqual(h.output, ['0123456789', 'XYZ', 'more']);
  h.clock.advance(1000);
  assert.deepEqual(next.texts.filter((m) => m.type === 'ack'), [{ type: 'ack', offset: 17 }]);
  // The size goes again after a resume.
  h.c.resize(80, 24);
  assert.deepEqual(next.texts.filter((m) => m.type === 'resize'), [{ type: 'resize', cols: 80, rows: 24 }]);
  h.c.resize(80, 24);
  assert.equal(next.texts.filter((m) => m.type === 'resize').length, 1, 'once per change');
  // The timers of the loss are all gone: only the heartbeat runs.
  assert.equal(h.clock.pending, 1);
});

test('resume: offsets that do not add up end the session', () => {
  const h = setup();
  const ws = opened(h);
  ws.drop(1006);
  h.clock.advance(500);
  h.socket.accept();
  h.socket.text('SUCC');
  h.socket.control({ type: 'resumed', offset: 0, received: 7 }); // we never sent 7 bytes
  assert.deepEqual(h.events.at(-1), ['gone', 'the gateway and the page disagree on what was sent']);
  assert.equal(h.c.state, 'closed');
});

test('gone: a FAIL on a resume is final', () => {
  const h = setup();
  const ws = opened(h);
  ws.drop(1006);
  h.clock.advance(500);
  h.socket.accept();
  h.socket.text('FAIL:unknown session: it has ended or never existed');
  h.socket.drop(1000);
  assert.deepEqual(h.events.at(-1), ['gone', 'unknown session: it has ended or never existed']);
  assert.equal(h.c.state, 'closed');
  const made = h.made.length;
  h.clock.advance(120_000);
  assert.equal(h.made.length, made, 'no more attempts');
  assert.equal(h.clock.pending, 0);
});

test('resume: a busy gateway (FAIL, then 1013) is asked again within the window', () => {
  const h = setup();
  const ws = opened(h);
  ws.drop(1006);
  h.clock.advance(500);
  const first = h.socket;
  first.accept();
  first.text('FAIL:the gateway is busy: too many connections are waiting to say what they want; try again');
  first.drop(1013);
  assert.equal(h.c.state, 'reconnecting');
  assert.ok(!h.events.some((e) => e[0] === 'gone'), 'not gone');
  h.clock.advance(10_000);
  assert.notEqual(h.socket, first, 'a new attempt');
  h.socket.accept();
  h.socket.text('SUCC');
  h.socket.control({ type: 'resumed', offset: 0, received: 0 });
  assert.equal(h.c.state, 'open');
});

test('gone: a FAIL on a resume whose close never comes is final at the attempt timeout', () => {
  const h = setup();
  const ws = opened(h);
  ws.drop(1006);
  h.clock.advance(500);
  h.socket.accept();
  h.socket.text('FAIL:unknown session: it has ended or never existed');
  h.clock.advance(ATTEMPT_TIMEOUT);
  assert.deepEqual(h.events.at(-1), ['gone', 'unknown session: it has ended or never existed']);
});

test('gone: the window passes without a connection', () => {
  const h = setup();
  const ws = opened(h, 10);
  ws.drop(1006);
  for (let i = 0; i < 100 && h.c.state === 'reconnecting'; i++) {
    h.clock.advance(100);
    const s = h.socket;
    if (s.readyState === 0 && s !== ws) s.drop(1006); // refused
  }
  assert.deepEqual(h.events.at(-1), ['gone', 'no connection to the gateway within 10 s']);
  const attempts = h.events.filter((e) => e[0] === 'attempt');
  assert.ok(attempts.at(-1)[2] < 10_000, 'the last attempt comes before the window closes');
  assert.equal(h.clock.pending, 0);
});

test('an attempt that hangs is given up after 10 s', () => {
  const h = setup();
  const ws = opened(h);
  ws.drop(1006);
  h.clock.advance(500);
  const hung = h.socket;
  h.clock.advance(ATTEMPT_TIMEOUT - 1);
  assert.equal(h.socket, hung);
  h.clock.advance(1);
  h.clock.advance(1000); // the next attempt, 1 s later
  assert.notEqual(h.socket, hung);
  hung.accept();
  assert.equal(hung.closedWith, 1000, 'the hung socket is closed once it opens, before it asks for anything');
  assert.deepEqual(hung.sent, []);
});

test('online tries at once', () => {
  const h = setup();
  const ws = opened(h);
  ws.drop(1006);
  h.clock.advance(500);
  h.socket.drop(1006);
  const before = h.made.length;
  h.c.online();
  assert.equal(h.made.length, before + 1, 'no wait for the backoff');
});

test('takeover: 4001 is not resumed', () => {
  const h = setup();
  const ws = opened(h);
  ws.drop(4001, 'the session was resumed on another connection');
  assert.equal(h.c.state, 'closed');
  assert.deepEqual(h.events.at(-1), ['closed', { code: 4001, reason: 'the session was resumed on another connection', said: '', opened: true, wasOpen: true }]);
  h.clock.advance(60_000);
  assert.equal(h.made.length, 1, 'no attempt');
});

test('takeover during a resume: 4001 ends it, no more attempts', () => {
  const h = setup();
  const ws = opened(h);
  ws.drop(1006);
  h.clock.advance(500);
  h.socket.accept();
  h.socket.text('SUCC');
  h.socket.drop(4001, 'the session was resumed on another connection'); // another tab was quicker
  assert.equal(h.c.state, 'closed');
  assert.equal(h.events.at(-1)[0], 'closed');
  const made = h.made.length;
  h.clock.advance(60_000);
  assert.equal(h.made.length, made);
});

test('1001 is resumed unless the gateway said closed first; 1000 never', () => {
  const proxy = setup();
  opened(proxy).drop(1001, '');
  assert.equal(proxy.c.state, 'reconnecting', 'a proxy going away');

  const shutdown = setup();
  const ws = opened(shutdown);
  ws.control({ type: 'closed', reason: 'the gateway is shutting down' });
  ws.drop(1001, 'the gateway is shutting down');
  assert.deepEqual(shutdown.events.at(-1), ['closed', { code: 1001, reason: 'the gateway is shutting down', said: 'the gateway is shutting down', opened: true, wasOpen: true }]);
  assert.deepEqual(shutdown.events.at(-2), ['control', { type: 'closed', reason: 'the gateway is shutting down' }]);

  const normal = setup();
  opened(normal).drop(1000, 'the target closed the connection');
  assert.equal(normal.c.state, 'closed');
});

test('a session without resume ends on a loss', () => {
  const h = setup();
  h.c.start({ cols: 80, rows: 24 });
  h.socket.accept();
  h.socket.text('SUCC');
  h.c.send(enc('x'));
  assert.equal(h.socket.data, 'x', 'sent at once, not kept');
  h.socket.drop(1006);
  assert.equal(h.events.at(-1)[0], 'closed');
  assert.equal(h.made.length, 1);
});

test('typing while away is kept up to 64 KiB', () => {
  const h = setup();
  const ws = opened(h);
  ws.drop(1006);
  assert.equal(h.c.send(new Uint8Array(64 * 1024)), true);
  assert.equal(h.c.send(enc('one more')), false, 'refused, and the page says so');
});

test('Disconnect while reconnecting ends the detached session with a close frame', () => {
  const h = setup();
  const ws = opened(h);
  ws.bytes('abc');
  ws.drop(1006);
  h.clock.advance(500);
  const attempt = h.socket; // still connecting
  h.c.close();
  assert.equal(h.c.state, 'closed');
  const ender = h.socket;
  assert.notEqual(ender, attempt);
  ender.accept();
  assert.deepEqual(ender.texts, [{ type: 'resume', id: 'QUJDREVGR0hJSktMTU5PUA', offset: 3 }]);
  ender.text('SUCC');
  assert.equal(ender.closedWith, 1000);
  attempt.accept();
  assert.equal(attempt.closedWith, 1000);
  assert.deepEqual(attempt.sent, []);
  assert.equal(h.clock.pending, 0);
  assert.deepEqual(h.names(), ['open', 'lost', 'attempt'], 'no event after close');
});

test('heartbeat: a ping after 15 s of quiet; any frame answers it', () => {
  const h = setup();
  const ws = opened(h);
  const pings = () => ws.texts.filter((m) => m.type === 'ping').length;
  // Output keeps the connection alive: no ping.
  for (let i = 0; i < 10; i++) {
    h.clock.advance(HEARTBEAT_IDLE - 1000);
    ws.bytes('.');
  }
  assert.equal(pings(), 0);
  h.clock.advance(HEARTBEAT_IDLE);
  assert.equal(pings(), 1);
  h.clock.advance(HEARTBEAT_WAIT - 1);
  ws.control({ type: 'pong' });
  h.clock.advance(1);
  assert.equal(h.c.state, 'open');
  assert.ok(!h.events.some((e) => e[0] === 'control' && e[1].type === 'pong'), 'the page does not see pongs');
  // A gateway that does not know ping answers with an error: that is life too, and no notice.
  h.clock.advance(HEARTBEAT_IDLE);
  assert.equal(pings(), 2);
  ws.control({ type: 'error', message: 'unknown control message type "ping"' });
  h.clock.advance(HEARTBEAT_WAIT);
  assert.equal(h.c.state, 'open');
  assert.ok(!h.events.some((e) => e[0] === 'control'), 'the error answering the ping is not shown');
});

test('heartbeat: a frozen path is noticed within 20 s and resumed without a close frame', () => {
  const h = setup();
  const ws = opened(h);
  h.clock.advance(1000); // the session message's time
  const frozenAt = h.clock.now();
  ws.bytes('last words');
  h.clock.advance(HEARTBEAT_IDLE);
  assert.deepEqual(ws.texts.at(-1), { type: 'ping' });
  h.clock.advance(HEARTBEAT_WAIT - 1);
  assert.equal(h.c.state, 'open');
  h.clock.advance(1);
  assert.equal(h.c.state, 'reconnecting');
  const [, lostAt] = h.events.find((e) => e[0] === 'lost');
  assert.ok(lostAt - frozenAt <= 20_000, `noticed after ${lostAt - frozenAt} ms`);
  assert.equal(ws.closedWith, null, 'dropped, not closed: a close frame that got through later would end the session');
  h.clock.advance(500);
  const next = h.socket;
  next.accept();
  assert.deepEqual(next.texts, [{ type: 'resume', id: 'QUJDREVGR0hJSktMTU5PUA', offset: 10 }]);
  next.text('SUCC');
  next.control({ type: 'resumed', offset: 10, received: 0 });
  assert.equal(h.c.state, 'open');
  // The old socket's late events change nothing.
  ws.bytes('stale');
  ws.drop(4001, 'the session was resumed on another connection');
  assert.equal(h.c.state, 'open');
  assert.deepEqual(h.output, ['last words']);
});

test('heartbeat: timings can be shortened, and a v1 answer has none', () => {
  const h = setup({ heartbeat: { idle: 1000, wait: 500 } });
  const ws = opened(h);
  h.clock.advance(1500);
  assert.equal(h.c.state, 'reconnecting');
  assert.equal(ws.texts.filter((m) => m.type === 'ping').length, 1);

  const v1 = setup();
  v1.c.start({ cols: 80, rows: 24 });
  v1.socket.accept('');
  v1.socket.text('SUCC');
  v1.clock.advance(60_000);
  assert.deepEqual(v1.socket.sent, ['h:23'], 'no ping to a gateway that answered without wstelnet.v2');
});

test('the heartbeat without resume ends the session', () => {
  const h = setup();
  h.c.start({ cols: 80, rows: 24 });
  h.socket.accept();
  h.socket.text('SUCC');
  h.clock.advance(HEARTBEAT_IDLE + HEARTBEAT_WAIT);
  assert.deepEqual(h.events.at(-1), ['closed', { code: 1006, reason: '', said: '', opened: true, wasOpen: true }]);
  assert.equal(h.socket.closedWith, 1000);
});
