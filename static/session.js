// One session's stream state, and the page's other pure logic: which
// target the form names, the WebSocket's address, what a close means in
// words. Nothing here touches the DOM, so that node can test it
// (webtest/); wstelnet.js wires it to the page.

import { newDecoder } from './charset.js';
import { mttsBits } from './mud.js';

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
// or #target=NAME for a named target, with embed=1 for the embedded view
// and vitals=0 to hide the vitals bar (vitals: false).
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
  out.vitals = h.get('vitals') !== '0';
  return out;
}

// writeHash is the hash of a session: {target} or {host, port}, and the
// mode and charset, embed=1 when embedded, vitals=0 without the vitals bar.
export function writeHash({ target, host, port, mode, charset, embed, vitals = true }) {
  const h = new URLSearchParams();
  if (target) h.set('target', target);
  else h.set('host', host ?? ''), h.set('port', port ?? '');
  h.set('mode', mode);
  h.set('charset', charset);
  if (embed) h.set('embed', '1');
  if (!vitals) h.set('vitals', '0');
  return '#' + h;
}

// socketURL is the gateway's WebSocket address for a session, next to the
// page (so that the gateway also works under a prefix), with its options:
// the view's mode and size, the session's charset, and whether the
// page's screen reader mode is on (opts).
export function socketURL(pageHref, mode, size, opts = {}) {
  const charset = opts.charset ?? 'utf-8';
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
    // MUDs (PROTOCOL.md, "MUDs"): the game's GMCP and MSDP come to the
    // page as control messages; the charset is the one the page decodes
    // (for CHARSET); mtts says what the page really does (mud.js).
    gmcp: '1',
    msdp: '1',
    charset,
    mtts: mttsBits({ mode, charset, screenReader: opts.screenReader === true }),
  });
  return url.href;
}

// closeText says in words why a session ended: {text, error}. The
// gateway's own words come first, as they are: the reason of its "closed"
// message (said) and of its close frame, both when they differ, and the
// close code when it is not a plain end. opened says whether a socket
// ever opened (else the gateway was never reached).
export function closeText(code, reason, opened, said = '') {
  const words = (t) => String(t ?? '').trim().replace(/\.$/, '');
  const parts = [];
  if (words(said)) parts.push(words(said));
  if (words(reason) && words(reason) !== words(said)) parts.push(words(reason));
  const plain = code === 1000 || code === 1005 || code === 1006;
  let text;
  if (parts.length > 0) {
    text = `Disconnected: ${parts.join('; ')}${plain ? '' : ` (close code ${code})`}.`;
  } else if (code === 1006) {
    text = opened ? 'Connection to the gateway lost.' : 'Could not reach the gateway.';
  } else if (code === 4001) {
    text = 'Disconnected: the session was resumed on another connection (another tab?).';
  } else if (code === 1000 || code === 1005) {
    text = 'Disconnected.';
  } else {
    text = `Disconnected (WebSocket close code ${code}).`;
  }
  return { text, error: code !== 1000 };
}

// Session is what the page knows of one session's stream, from Connect to
// its end: the charset it is decoded in, and whether the target echoes or
// asks for a password. A fresh one per Connect, so nothing of an old
// session leaks into the next. The connection itself (socket, resume,
// reconnection) is a Connection (connection.js).
//
// Echo and secrets, for line mode: a target that turns echo over to
// itself after it has said something (IAC WILL ECHO before "Password:",
// as MUDs do) is hiding what is typed: the command box is masked. One
// that takes echo from the start (telnetd, character-mode servers)
// echoes every line itself: the box stays readable, and typed lines are
// not shown twice.
export class Session {
  constructor(target, charset) {
    this.target = target;       // "host:port", or a named target
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

  // started takes SUCC: a fresh decoder for the stream.
  started() {
    this.setCharset(this.charset);
  }

  // resumed takes a resume: the gateway says "echo" next only if the
  // target echoes now.
  resumed() {
    this.remoteEcho = false;
  }

  // secret says whether the next line typed is a password.
  get secret() {
    return this.promptSecret || (this.remoteEcho && this.echoHides);
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

  // echo takes the gateway's echo message: the target echoes, or not.
  echo(remote) {
    this.remoteEcho = remote === true;
    this.echoHides = this.remoteEcho && this.outputSeen;
  }
}
