// One session's state, and the page's other pure logic: which target the
// form names, the WebSocket's address, what a close means in words. Nothing
// here touches the DOM, so that node can test it (webtest/); wstelnet.js
// wires it to the page.

import { newDecoder } from './charset.js';
import { Input, Output } from './resume.js';

export const SUBPROTOCOL = 'wstelnet.v2';

// A prompt like "Password:" makes the next line secret: masked, not shown, not remembered.
export const SECRET_PROMPT = /\b(password|passphrase|passwd|pin)\b[^:]{0,20}:\s*$/i;

// defaultPort is the port an empty port field means. Terminal mode is for
// telnet hosts, so telnet's 23; line mode keeps the tutorial's 80 (an HTTP
// server is the classic line-based service to poke at).
export function defaultPort(mode) {
  return mode === 'terminal' ? '23' : '80';
}

// parseTarget turns the form's host and port into the "host:port" the
// gateway expects: {target} when they are usable, else {error, field}, the
// field to fix.
export function parseTarget(hostText, portText, mode) {
  const host = String(hostText).trim().replace(/^\[(.*)\]$/, '$1');
  const port = String(portText).trim() || defaultPort(mode);
  if (!host) return { error: 'Enter the host to connect to.', field: 'host' };
  if (!/^\d{1,5}$/.test(port) || +port < 1 || +port > 65535) {
    return { error: 'The port must be a number from 1 to 65535.', field: 'port' };
  }
  return { target: (host.includes(':') ? `[${host}]` : host) + ':' + port }; // IPv6 needs brackets
}

// readHash reads the page's hash: #mode=...&charset=...&host=...&port=...,
// or #target=NAME for a named target, with embed=1 for the embedded view.
// Only what is there is returned; target wins over host and port.
export function readHash(hash) {
  const h = new URLSearchParams(String(hash).replace(/^#/, ''));
  const out = {};
  for (const key of ['mode', 'charset']) if (h.has(key)) out[key] = h.get(key).toLowerCase();
  const target = (h.get('target') ?? '').trim();
  if (target !== '') {
    out.target = target;
  } else if (h.has('host')) {
    out.host = h.get('host');
    out.port = h.get('port') ?? '';
  }
  out.embed = h.get('embed') === '1';
  return out;
}

// writeHash is the hash of a session: {target} or {host, port}, and the
// mode and charset, and embed=1 when embedded.
export function writeHash({ target, host, port, mode, charset, embed }) {
  const h = new URLSearchParams();
  if (target) h.set('target', target);
  else h.set('host', host ?? ''), h.set('port', port ?? '');
  h.set('mode', mode);
  h.set('charset', charset);
  if (embed) h.set('embed', '1');
  return '#' + h;
}

// socketURL is the gateway's WebSocket address for a session, next to the
// page (so that the gateway also works under a prefix), with its options.
export function socketURL(pageHref, mode, size) {
  const url = new URL('ws', pageHref);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  url.search = new URLSearchParams({
    telnet: 'auto',
    cols: size.cols,
    rows: size.rows,
    // Line mode draws colours but nothing else, so it claims a plain ANSI
    // terminal first and a dumb one next.
    term: mode === 'terminal' ? 'XTERM-256COLOR' : 'ANSI,DUMB',
    // The session may outlive a lost connection (PROTOCOL.md, "Resuming a
    // session"); a gateway with resume off ignores it.
    resume: '1',
  });
  return url.href;
}

// closeText says in words why a session ended: {text, error}.
export function closeText(code, reason, opened) {
  let text;
  if (code === 1006) {
    text = opened ? 'Connection to the gateway lost.' : 'Could not reach the gateway.';
  } else if (reason) {
    text = `Disconnected: ${reason.replace(/\.$/, '')}.`;
  } else if (code === 4001) {
    text = 'Disconnected: the session was resumed on another connection (another tab?).';
  } else if (code === 1000 || code === 1005) {
    text = 'Disconnected.';
  } else {
    text = `Disconnected (WebSocket close code ${code}).`;
  }
  return { text, error: code !== 1000 };
}

// Session is one session, from Connect to its end: a fresh one per
// Connect, so nothing of an old session leaks into the next, and events
// from an old socket are recognised (they belong to a session that is no
// longer the page's current one, or to a socket it no longer uses).
//
// A resumable session (the gateway sent its id) lives across sockets:
// when one is lost it is "reconnecting" until a new socket resumes it
// (open again) or the gateway says it is gone (closed).
export class Session {
  constructor(target, charset) {
    this.target = target;       // "host:port"
    this.state = 'connecting';  // connecting | open | reconnecting | closed
    this.socket = null;         // the WebSocket in use, once made
    this.opened = false;        // a WebSocket opened: the gateway was reached
    this.closedReason = '';     // from the gateway's "closed" message
    this.lastSize = { cols: 0, rows: 0 }; // the size the target knows

    // Resume (resume.js). id is null until the gateway names the session,
    // and stays null with a gateway that has resume off.
    this.id = null;
    this.window = 0;            // seconds the gateway keeps it after a loss
    this.down = new Output();  // the target's bytes received, and acknowledged
    this.up = new Input();     // our bytes the gateway has not acknowledged
    this.attempts = 0;          // reconnection attempts since the loss
    this.lostAt = 0;            // when the connection was lost (ms)
    this.resumeAnswered = false; // the resuming socket got SUCC; "resumed" is next

    // Echo and secrets, for line mode. A target that turns echo over to
    // itself after it has said something (IAC WILL ECHO before "Password:",
    // as MUDs do) is hiding what is typed: the command box is masked. One
    // that takes echo from the start (telnetd, character-mode servers)
    // echoes every line itself: the box stays readable, and typed lines are
    // not shown twice.
    this.remoteEcho = false;    // the target echoes
    this.echoHides = false;     // ... and that means a password
    this.promptSecret = false;  // the last output looks like a password prompt
    this.outputSeen = false;    // the target has sent data

    this.setCharset(charset);
  }

  // setCharset decodes what comes next in another charset.
  setCharset(name) {
    this.charset = name;
    this.decode = newDecoder(name);
  }

  get open() { return this.state === 'open'; }

  // resumable says whether a lost connection can be resumed.
  get resumable() { return this.id !== null && this.window > 0; }

  // deadline is when the gateway forgets the session after the loss (ms).
  get deadline() { return this.lostAt + this.window * 1000; }

  // lose notes that the connection is lost and the session reconnecting.
  lose(now) {
    this.state = 'reconnecting';
    this.socket = null;
    this.attempts = 0;
    this.lostAt = now;
    this.closedReason = '';
  }

  // resuming starts an attempt on a new socket; it returns the first
  // message to send on it.
  resuming() {
    this.resumeAnswered = false;
    return JSON.stringify(this.down.resumeMessage(this.id));
  }

  // resumeAnswer takes a message on the resuming socket: {wait: true}
  // until the session is back, then {ok: true} (the socket is the
  // session's, and input.take() holds what to send again), or
  // {gone: reason} when the gateway no longer has it or the offsets do
  // not add up.
  resumeAnswer(data) {
    if (!this.resumeAnswered) {
      if (data === 'SUCC') {
        this.resumeAnswered = true;
        return { wait: true };
      }
      this.state = 'closed';
      if (typeof data === 'string' && data.startsWith('FAIL:')) return { gone: data.slice(5) };
      return { gone: 'the gateway gave an unexpected answer' };
    }
    let m = null;
    try {
      m = typeof data === 'string' ? JSON.parse(data) : null;
    } catch {
      // not JSON: handled below
    }
    if (m?.type !== 'resumed' || m.offset !== this.down.received || !this.up.resumed(m.received)) {
      this.state = 'closed';
      return { gone: 'the gateway and the page disagree on what was sent' };
    }
    this.state = 'open';
    this.lastSize = { cols: 0, rows: 0 }; // the size goes again
    // The gateway says "echo" next only if the target echoes now.
    this.remoteEcho = false;
    return { ok: true };
  }

  // secret says whether the next line typed is a password.
  get secret() {
    return this.promptSecret || (this.remoteEcho && this.echoHides);
  }

  // answer takes the gateway's first answer: {ok: true} for SUCC,
  // {fail: reason} for FAIL:, {unexpected: true} for anything else.
  answer(data) {
    if (data === 'SUCC') {
      this.state = 'open';
      this.setCharset(this.charset); // a fresh decoder for the stream
      return { ok: true };
    }
    this.state = 'closed';
    if (typeof data === 'string' && data.startsWith('FAIL:')) return { fail: data.slice(5) };
    return { unexpected: true };
  }

  // output notes that the target sent bytes and returns them decoded.
  output(bytes) {
    this.outputSeen = true;
    return this.decode(bytes);
  }

  // notePrompt looks at the line being received (line mode) and says
  // whether the secrecy of the next line changed.
  notePrompt(partial) {
    const was = this.secret;
    this.promptSecret = SECRET_PROMPT.test(partial);
    return this.secret !== was;
  }

  // lineSent forgets the prompt once a line has answered it.
  lineSent() { this.promptSecret = false; }

  // control acts on a control message from the gateway and returns it
  // parsed (null if it is not JSON). Unknown types are returned unacted on.
  control(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      return null;
    }
    if (m?.type === 'echo') {
      this.remoteEcho = m.remote === true;
      this.echoHides = this.remoteEcho && this.outputSeen;
    } else if (m?.type === 'closed') {
      this.closedReason = String(m.reason ?? '');
    } else if (m?.type === 'session' && typeof m.id === 'string' && m.id !== '') {
      this.id = m.id;
      this.window = Number.isFinite(m.window) ? m.window : 0;
    } else if (m?.type === 'ack') {
      this.up.acked(m.offset);
    }
    return m;
  }

  // resize returns the resize message for a new size, or null when the
  // target knows it already.
  resize(cols, rows) {
    if (cols === this.lastSize.cols && rows === this.lastSize.rows) return null;
    this.lastSize = { cols, rows };
    return { type: 'resize', cols, rows };
  }

  // ended returns the words for the socket's close event.
  ended(code, reason) {
    this.state = 'closed';
    return closeText(code, reason || this.closedReason, this.opened);
  }

  // teardown ends the session from our side.
  teardown() {
    this.state = 'closed';
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    if (socket.readyState === 0) { // CONNECTING
      // Closing a socket that is still connecting makes the browser log an
      // error; close it as soon as it opens instead.
      socket.addEventListener('open', () => socket.close(1000));
    } else {
      socket.close(1000);
    }
  }
}
