// Session resume, the page's side (PROTOCOL.md, "Resuming a session"): the
// bookkeeping that lets a session outlive a lost WebSocket with nothing
// lost or repeated either way, and when to try again. Pure, so that node
// can test it (webtest/resume.test.mjs); connection.js owns the sockets and
// the timers.
//
// Offsets count binary-frame payload bytes, one count per direction, from
// the start of the session, across every socket it has used.

// ACK_EVERY and ACK_DELAY: the page acknowledges output at least every
// 64 KiB and within a second of receiving any, as the protocol asks; the
// gateway keeps what is not acknowledged.
export const ACK_EVERY = 64 * 1024;
export const ACK_DELAY = 1000;

// MAX_QUEUED bounds what is typed while there is no connection: it waits
// to be sent, and a cat on the keyboard should not fill the tab's memory.
export const MAX_QUEUED = 64 * 1024;

// Output counts the target's bytes the page has received and shown, and
// says when to acknowledge them. It acknowledges what has been shown, not
// just received: a terminal that parses more slowly than the host writes
// (a flood of output) then holds back the acks, the gateway stops reading
// the target once -resume-buffer is unacknowledged, and TCP slows the
// host down, instead of the terminal's queue growing without bound (xterm
// drops data past 50 MB). A resume still asks for the bytes after what was
// received: those queued for the screen are not lost with the socket.
export class Output {
  constructor() {
    this.received = 0;  // bytes received since the session began
    this.shown = 0;     // bytes of those that the view has taken
    this.acked = 0;     // the offset last acknowledged (or resumed at)
  }

  // take counts n bytes just received; shownNow says the view took them
  // at once (otherwise call showed when it has). It returns 'now' when an
  // ack must go at once (64 KiB unacknowledged), 'later' when one must go
  // within ACK_DELAY, or '' when nothing new is owed.
  take(n, shownNow = true) {
    this.received += n;
    return shownNow ? this.showed(n) : '';
  }

  // showed counts n received bytes the view has now taken.
  showed(n) {
    this.shown = Math.min(this.shown + n, this.received);
    const owed = this.shown - this.acked;
    if (owed >= ACK_EVERY) return 'now';
    return owed > 0 ? 'later' : '';
  }

  // ack returns the ack message for everything shown, or null if it was
  // acknowledged already.
  ack() {
    if (this.shown <= this.acked) return null;
    this.acked = this.shown;
    return { type: 'ack', offset: this.shown };
  }

  // resumeMessage is the first message of a resuming socket: it asks for
  // the output from what we have on, and acknowledges what we have.
  resumeMessage(id) {
    this.acked = this.received;
    return { type: 'resume', id, offset: this.received };
  }
}

// Input keeps every byte the page has sent, or means to send, that the
// gateway has not acknowledged, so that after a resume exactly the bytes
// past the gateway's "received" go again. Bytes typed while there is no
// connection wait here too, up to MAX_QUEUED.
export class Input {
  constructor(maxQueued = MAX_QUEUED) {
    this.maxQueued = maxQueued;
    this.chunks = [];   // {offset, bytes}, in order, contiguous
    this.base = 0;      // offset of the first byte kept (everything before is acknowledged)
    this.end = 0;       // offset after the last byte kept: all the bytes ever written
    this.sent = 0;      // offset up to which bytes went out on the current socket
  }

  // queued is the number of bytes written but not sent yet.
  get queued() { return this.end - this.sent; }

  // kept is the number of bytes held: unacknowledged or not sent yet.
  get kept() { return this.end - this.base; }

  // write takes bytes to send. While disconnected it refuses them (false)
  // when the queue would pass maxQueued; connected, the caller sends
  // take() at once, so nothing queues.
  write(bytes, connected) {
    if (bytes.length === 0) return true;
    if (!connected && this.queued + bytes.length > this.maxQueued) return false;
    this.chunks.push({ offset: this.end, bytes });
    this.end += bytes.length;
    return true;
  }

  // take returns the bytes not sent yet, in order, and counts them sent.
  take() {
    const out = [];
    for (const c of this.chunks) {
      const stop = c.offset + c.bytes.length;
      if (stop <= this.sent) continue;
      out.push(this.sent > c.offset ? c.bytes.subarray(this.sent - c.offset) : c.bytes);
    }
    this.sent = this.end;
    return out;
  }

  // acked forgets the bytes before offset, which the gateway has handed to
  // the target. Offsets backwards or beyond what was sent are ignored, as
  // the gateway ignores ours.
  acked(offset) {
    if (!Number.isSafeInteger(offset) || offset <= this.base || offset > this.sent) return;
    while (this.chunks.length > 0) {
      const c = this.chunks[0];
      const stop = c.offset + c.bytes.length;
      if (stop <= offset) {
        this.chunks.shift();
      } else {
        if (c.offset < offset) this.chunks[0] = { offset, bytes: c.bytes.subarray(offset - c.offset) };
        break;
      }
    }
    this.base = offset;
  }

  // resumed takes the gateway's "received" from a resume: everything before
  // it is acknowledged, everything from it on is to be sent again (take()).
  // It returns false if the gateway claims bytes we never sent, or fewer
  // than it acknowledged before: a gap or a repeat, so the session cannot
  // go on.
  resumed(received) {
    if (!Number.isSafeInteger(received) || received < this.base || received > this.sent) return false;
    this.acked(received);
    this.sent = received;
    return true;
  }
}

// RETRY_FIRST and RETRY_MAX: reconnection attempts come about 0.5 s after a
// loss, then at doubling intervals up to 5 s, until the window has passed.
export const RETRY_FIRST = 500;
export const RETRY_MAX = 5000;

// retryDelay is the wait before attempt n (1, 2, ...), in milliseconds,
// spread by up to ±20% (random() in [0, 1)) so that the browsers of a
// gateway that restarted do not all come back at the same instant.
export function retryDelay(n, random = Math.random) {
  const base = Math.min(RETRY_MAX, RETRY_FIRST * 2 ** Math.max(0, n - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

// isLoss says whether a socket's close event is a lost connection, worth
// resuming, rather than an end: 1006 (no close frame: a network loss, a
// reset, a proxy that cut it), or 1001 (going away) when the gateway did
// not say the session closed first, as it does before its own 1001 on
// shutdown (a proxy that restarts sends 1001 and nothing else).
export function isLoss(code, closedSaid) {
  return code === 1006 || (code === 1001 && !closedSaid);
}
