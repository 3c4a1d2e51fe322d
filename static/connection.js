// The page's connection to the gateway, as one object: the WebSocket, the
// first answer (SUCC or FAIL:), the resume bookkeeping (resume.js: the
// output received and acknowledged, our bytes not yet acknowledged), the
// reconnection after a loss with backoff (PROTOCOL.md, "Resuming a
// session"), the heartbeat that notices a silent stall, and every timer
// these need. It touches no DOM: the page (wstelnet.js) gives it the
// WebSocket constructor, a clock and callbacks, and so do the node tests
// (webtest/connection.test.mjs), with a fake socket and a fake clock.
//
// Its life: connecting -> open -> (reconnecting -> open)* -> closed. It
// reports through the callbacks given to the constructor (all optional):
//
//   open()                  SUCC: the session is open
//   refused(answer)         the first answer was {fail: reason} or {unexpected: true}
//   data(bytes, shown)      the target's bytes; call shown() once the view has
//                           taken them (acks wait for it: flow control)
//   control(m)              a control message for the page (echo, error, closed,
//                           unknown types); session, ack and pong are handled here
//   lost()                  the connection was lost; reconnecting begins
//   attempt(n)              reconnection attempt n has started
//   resumed()               the session is back; send the size again
//   gone(reason)            the gateway no longer has the session (or never came back)
//   closed(end)             the session ended: {code, reason, said, opened, wasOpen}
//                           (said is the "closed" message's reason; closeText words it)

import { ACK_DELAY, Input, Output, isLoss, retryDelay } from './resume.js';

export const SUBPROTOCOL = 'wstelnet.v2';

// ATTEMPT_TIMEOUT bounds one reconnection attempt: a network that drops
// packets can leave a socket connecting for minutes.
export const ATTEMPT_TIMEOUT = 10_000;

// HEARTBEAT_IDLE and HEARTBEAT_WAIT: browsers do not show a page the
// WebSocket pings, so a frozen path (no reset, no close) would go unnoticed
// until TCP gives up, minutes later. After HEARTBEAT_IDLE without a frame
// the page sends {"type":"ping"}; if nothing at all arrives within
// HEARTBEAT_WAIT, the connection is lost: a stall is resumed within 20 s.
export const HEARTBEAT_IDLE = 15_000;
export const HEARTBEAT_WAIT = 5_000;

// CLOSE_TAKEN_OVER: the gateway moved the session to another connection
// (another tab resumed it); this one must not resume it back.
export const CLOSE_TAKEN_OVER = 4001;
// CLOSE_TRY_AGAIN (1013) closes a refusal that may pass: a gateway too
// busy for the moment. A resume refused so keeps trying within the window.
export const CLOSE_TRY_AGAIN = 1013;

const CONNECTING = 0; // WebSocket.CONNECTING, which a fake socket may not define
const PING = JSON.stringify({ type: 'ping' });

const realClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
  now: () => Date.now(),
};

// abandon lets go of a socket without a close frame, which would end the
// session: one that has not opened is closed once it opens (before it asks
// for anything); an open one is left alone, and the gateway closes it
// (4001) when a newer one resumes the session.
function abandon(socket) {
  if (socket?.readyState === CONNECTING) socket.addEventListener('open', () => socket.close(1000));
}

export class Connection {
  // target is what the first message names ("host:port" or a name).
  // options: url() returns the WebSocket's address (called for each
  // socket); WebSocket, clock ({setTimeout, clearTimeout, now}) and random
  // default to the browser's; heartbeat {idle, wait} in ms.
  constructor(target, options, on = {}) {
    this.target = target;
    this.url = options.url;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.heartbeat = { idle: options.heartbeat?.idle ?? HEARTBEAT_IDLE, wait: options.heartbeat?.wait ?? HEARTBEAT_WAIT };
    this.on = on;

    this.state = 'connecting';  // connecting | open | reconnecting | closed
    this.socket = null;         // the socket in use; events of any other are ignored
    this.opened = false;        // a socket opened: the gateway was reached
    this.said = '';             // the reason of the gateway's "closed" message
    this.lastSize = { cols: 0, rows: 0 }; // the size the target knows

    // Resume. id stays null with a gateway that has resume off.
    this.id = null;
    this.window = 0;            // seconds the gateway keeps the session after a loss
    this.down = new Output();   // the target's bytes received, shown, acknowledged
    this.up = new Input();      // our bytes the gateway has not acknowledged
    this.attempts = 0;          // reconnection attempts since the loss
    this.lostAt = 0;            // when the connection was lost (ms)
    this.resumeAnswered = false; // the resuming socket got SUCC; "resumed" is next
    this.resumeFail = null; // the resuming socket's FAIL: text, until its close frame says if it is final

    // Timers, all of them here, all cleared by stopTimers.
    this.ackTimer = 0;
    this.retryTimer = 0;
    this.attemptTimer = 0;
    this.beatTimer = 0;
    this.lastHeard = 0;         // when the last frame arrived (ms)
    this.pingAt = 0;            // when the unanswered ping went (ms), or 0
  }

  get open() { return this.state === 'open'; }

  // live says whether typing goes to the target, now or after a resume.
  get live() { return this.state === 'open' || this.state === 'reconnecting'; }

  // resumable says whether a lost connection can be resumed.
  get resumable() { return this.id !== null && this.window > 0; }

  // deadline is when the gateway forgets the session after the loss (ms).
  get deadline() { return this.lostAt + this.window * 1000; }

  // start opens the first socket; size is the one its URL carries.
  start(size) {
    this.lastSize = { cols: size.cols, rows: size.rows };
    this.#socket(() => this.target);
  }

  // send sends bytes typed. A resumable session keeps them until the
  // gateway acknowledges them, and while reconnecting they wait. It
  // returns false when they were not kept (MAX_QUEUED is full).
  send(bytes) {
    if (!this.live || bytes.length === 0) return true;
    if (!this.resumable) {
      if (this.open) this.socket.send(bytes);
      return true;
    }
    if (!this.up.write(bytes, this.open)) return false;
    if (this.open) for (const chunk of this.up.take()) this.socket.send(chunk);
    return true;
  }

  // sendControl sends a control message if the session is open.
  sendControl(message) {
    if (this.open) this.socket.send(JSON.stringify(message));
  }

  // resize tells the target a new size, once per change.
  resize(cols, rows) {
    if (!this.open || (cols === this.lastSize.cols && rows === this.lastSize.rows)) return;
    this.lastSize = { cols, rows };
    this.sendControl({ type: 'resize', cols, rows });
  }

  // offline: the browser knows the network is gone before the socket
  // does. Resume on a new socket (the old one, if it still works, is
  // closed by the gateway with 4001).
  offline() {
    if (!this.open || !this.resumable) return;
    abandon(this.socket);
    this.#lost();
  }

  // online: the network is back; try at once instead of waiting.
  online() {
    if (this.state !== 'reconnecting') return;
    abandon(this.socket);
    this.#attempt();
  }

  // close ends the session from our side, for good (Disconnect, Cancel).
  // Its callbacks are not called again.
  close() {
    const was = this.state;
    const socket = this.socket;
    this.#stopTimers();
    this.state = 'closed';
    this.socket = null;
    if (was === 'reconnecting') {
      abandon(socket);
      this.#endDetached();
    } else if (socket?.readyState === CONNECTING) {
      // Closing a socket that is still connecting makes the browser log
      // an error; close it as soon as it opens instead.
      socket.addEventListener('open', () => socket.close(1000));
    } else {
      socket?.close(1000);
    }
  }

  // ---- sockets ----

  // #socket opens a socket whose first message is first(). Its events
  // count only while it is this connection's socket.
  #socket(first) {
    const socket = new this.WebSocket(this.url(), [SUBPROTOCOL]);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    const current = () => this.socket === socket;
    socket.addEventListener('open', () => {
      if (!current()) return;
      this.opened = true;
      socket.send(first());
    });
    socket.addEventListener('message', (event) => {
      if (current()) this.#message(event.data);
    });
    socket.addEventListener('close', (event) => {
      if (current()) this.#closed(event);
    });
    // 'error' is always followed by 'close', which says what happened.
    return socket;
  }

  #message(data) {
    this.lastHeard = this.clock.now(); // any frame shows the path is alive
    if (this.state === 'open') {
      if (typeof data === 'string') this.#control(data);
      else this.#output(new Uint8Array(data));
    } else if (this.state === 'reconnecting') {
      this.#resumeAnswer(data);
    } else if (this.state === 'connecting') {
      this.#answer(data);
    }
  }

  // #answer takes the gateway's first answer.
  #answer(data) {
    if (data === 'SUCC') {
      this.state = 'open';
      this.#startBeat();
      this.on.open?.();
      return;
    }
    // The gateway closes the socket next; the page is free at once.
    this.close();
    if (typeof data === 'string' && data.startsWith('FAIL:')) this.on.refused?.({ fail: data.slice(5) });
    else this.on.refused?.({ unexpected: true });
  }

  #control(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      return; // not a control message: ignored, as unknown ones are
    }
    switch (m?.type) {
      case 'session':
        if (typeof m.id === 'string' && m.id !== '') {
          this.id = m.id;
          this.window = Number.isFinite(m.window) ? m.window : 0;
        }
        return;
      case 'ack':
        this.up.acked(m.offset);
        return;
      case 'pong':
        return; // the heartbeat's answer: its arrival was the point
      case 'closed':
        this.said = String(m.reason ?? '');
        break;
      case 'error':
        // A gateway older than the heartbeat answers the ping with an
        // error, which serves as well; the person need not see it.
        if (this.pingAt && /"ping"/.test(String(m.message))) return;
        break;
    }
    if (m !== null && typeof m === 'object') this.on.control?.(m);
  }

  // #output hands the target's bytes to the page and acknowledges them,
  // to a gateway that keeps them for a resume, once the view has them.
  #output(bytes) {
    if (!this.resumable) {
      this.on.data?.(bytes, () => {});
      return;
    }
    const n = bytes.length;
    this.down.take(n, false);
    this.on.data?.(bytes, () => {
      if (this.state !== 'closed') this.#ackDue(this.down.showed(n));
    });
  }

  // #ackDue sends an ack now or arms the timer for one, as Output says.
  #ackDue(due) {
    if (due === 'now') this.#sendAck();
    else if (due === 'later' && !this.ackTimer) this.ackTimer = this.clock.setTimeout(() => this.#sendAck(), ACK_DELAY);
  }

  #sendAck() {
    this.clock.clearTimeout(this.ackTimer);
    this.ackTimer = 0;
    if (!this.open) return; // the resume will say it
    const m = this.down.ack();
    if (m) this.socket.send(JSON.stringify(m));
  }

  #closed(event) {
    const { code, reason } = event;
    const taken = code === CLOSE_TAKEN_OVER;
    if (!taken && this.live && this.resumable && isLoss(code, this.said !== '')) {
      if (this.open) this.#lost();
      else this.#retryLater();
      return;
    }
    if (this.state === 'reconnecting' && this.resumeFail !== null) {
      const fail = this.resumeFail;
      this.resumeFail = null;
      if (code === CLOSE_TRY_AGAIN) this.#retryLater();
      else this.#gone(fail);
      return;
    }
    if (!taken && this.state === 'reconnecting') {
      // An attempt's socket closed for a reason of its own (an error page
      // from a proxy, a gateway refusing the handshake): try again.
      this.#retryLater();
      return;
    }
    const wasOpen = this.open;
    this.#stopTimers();
    this.state = 'closed';
    this.socket = null;
    this.on.closed?.({ code, reason: reason ?? '', said: this.said, opened: this.opened, wasOpen });
  }

  // ---- heartbeat ----

  #startBeat() {
    this.pingAt = 0;
    this.lastHeard = this.clock.now();
    // Only protocol v2 has control messages (the page always asks for it).
    if (this.socket.protocol === SUBPROTOCOL) this.#beatIn(this.heartbeat.idle);
  }

  #beatIn(ms) {
    this.clock.clearTimeout(this.beatTimer);
    this.beatTimer = this.clock.setTimeout(() => this.#beat(), ms);
  }

  // #beat runs when the connection may have been quiet for heartbeat.idle,
  // or when a ping's answer is due.
  #beat() {
    this.beatTimer = 0;
    if (!this.open) return;
    const now = this.clock.now();
    if (this.pingAt) {
      if (this.lastHeard < this.pingAt) {
        this.#stalled();
        return;
      }
      this.pingAt = 0;
    }
    const quiet = now - this.lastHeard;
    if (quiet < this.heartbeat.idle) {
      this.#beatIn(this.heartbeat.idle - quiet);
      return;
    }
    this.pingAt = now;
    this.socket.send(PING);
    this.#beatIn(this.heartbeat.wait);
  }

  // #stalled: nothing came back after a ping. The socket is dropped
  // without a close frame (which, delivered once the path thaws, would end
  // the session) and the session resumed as after a 1006.
  #stalled() {
    const socket = this.socket;
    if (this.resumable) {
      abandon(socket);
      this.#lost();
      return;
    }
    this.#stopTimers();
    this.state = 'closed';
    this.socket = null;
    socket.close(1000); // nothing to resume: say goodbye, if it ever arrives
    this.on.closed?.({ code: 1006, reason: '', said: '', opened: true, wasOpen: true });
  }

  // ---- resume ----

  // #lost takes a lost connection: reconnecting, the first attempt soon.
  #lost() {
    this.#stopTimers();
    this.state = 'reconnecting';
    this.socket = null;
    this.attempts = 0;
    this.lostAt = this.clock.now();
    this.said = '';
    this.on.lost?.();
    this.#retryLater();
  }

  // #retryLater schedules the next attempt, unless the gateway has
  // forgotten the session by then.
  #retryLater() {
    this.socket = null;
    this.clock.clearTimeout(this.attemptTimer);
    this.clock.clearTimeout(this.retryTimer);
    this.attemptTimer = this.retryTimer = 0;
    // The last attempt comes just before the window closes.
    const left = this.deadline - this.clock.now() - 250;
    if (left <= 0) {
      this.#gone(`no connection to the gateway within ${this.window} s`);
      return;
    }
    this.retryTimer = this.clock.setTimeout(() => this.#attempt(), Math.min(retryDelay(this.attempts + 1, this.random), left));
  }

  // #attempt opens a socket that asks to resume the session.
  #attempt() {
    this.clock.clearTimeout(this.retryTimer);
    this.clock.clearTimeout(this.attemptTimer);
    this.retryTimer = this.attemptTimer = 0;
    if (this.state !== 'reconnecting') return;
    this.attempts++;
    const socket = this.#socket(() => {
      this.resumeAnswered = false;
      this.resumeFail = null;
      return JSON.stringify(this.down.resumeMessage(this.id));
    });
    this.on.attempt?.(this.attempts);
    this.attemptTimer = this.clock.setTimeout(() => {
      if (this.socket !== socket) return;
      abandon(socket);
      if (this.resumeFail !== null) this.#gone(this.resumeFail); // refused, and the close never came
      else this.#retryLater();
    }, ATTEMPT_TIMEOUT);
  }

  // #resumeAnswer takes the messages of a resuming socket: SUCC, then
  // "resumed" with the offsets; anything else means the session is gone.
  #resumeAnswer(data) {
    if (!this.resumeAnswered) {
      if (data === 'SUCC') {
        this.resumeAnswered = true;
        return;
      }
      if (typeof data === 'string' && data.startsWith('FAIL:')) {
        // The close frame that follows says whether the refusal may pass
        // (1013: a gateway too busy for the moment) or is final.
        this.resumeFail = data.slice(5);
        return;
      }
      this.#gone('the gateway gave an unexpected answer');
      return;
    }
    let m = null;
    try {
      m = typeof data === 'string' ? JSON.parse(data) : null;
    } catch {
      // not JSON: handled below
    }
    if (m?.type !== 'resumed' || m.offset !== this.down.received || !this.up.resumed(m.received)) {
      this.#gone('the gateway and the page disagree on what was sent');
      return;
    }
    this.clock.clearTimeout(this.attemptTimer);
    this.attemptTimer = 0;
    this.state = 'open';
    this.lastSize = { cols: 0, rows: 0 }; // the size goes again
    this.#startBeat();
    // Our bytes from the gateway's "received" on, then what was typed meanwhile.
    for (const chunk of this.up.take()) this.socket.send(chunk);
    this.on.resumed?.();
  }

  // #gone ends a session the gateway no longer has, or could not be
  // reached for within its window.
  #gone(reason) {
    const socket = this.socket;
    this.#stopTimers();
    this.state = 'closed';
    this.socket = null;
    abandon(socket);
    this.on.gone?.(reason);
  }

  // #endDetached ends a session that is waiting for a resume, for good: it
  // resumes it on a socket of its own and closes that with a close frame.
  // (Best effort: a gateway that cannot be reached forgets the session
  // when its window passes.)
  #endDetached() {
    if (!this.resumable) return;
    const socket = new this.WebSocket(this.url(), [SUBPROTOCOL]);
    socket.addEventListener('open', () => socket.send(JSON.stringify(this.down.resumeMessage(this.id))));
    socket.addEventListener('message', () => socket.close(1000)); // SUCC or FAIL: either way, done
  }

  #stopTimers() {
    for (const t of [this.ackTimer, this.retryTimer, this.attemptTimer, this.beatTimer]) this.clock.clearTimeout(t);
    this.ackTimer = this.retryTimer = this.attemptTimer = this.beatTimer = 0;
    this.pingAt = 0;
  }
}
