// wstelnet page. It opens a WebSocket to the gateway with protocol v2
// (subprotocol wstelnet.v2), names the target with "host:port", waits for
// SUCC or FAIL:<reason>, and then exchanges bytes as binary frames, with
// JSON control messages as text frames (echo, closed, error from the
// gateway; resize and break to it).
//
// Two views show the session: line mode (a console of lines with ANSI
// colours, and a command box that sends a line at a time; lineview.js) and
// terminal mode (xterm.js, keys sent as typed; terminal.js).
//
// The URL's hash can name a session, so that a link opens it directly:
// #mode=terminal&host=bbs.example.org&port=23&charset=cp437.
//
// For debugging, window.wstelnet is a small handle: wstelnet.term is the
// xterm.js Terminal once terminal mode has been used (null before), and
// wstelnet.received counts the bytes received from targets.

import { charsetName, encode, newDecoder } from './charset.js';
import { LineView } from './lineview.js';
import { TerminalView } from './terminal.js';
import { saveTranscript } from './transcript.js';

const SUBPROTOCOL = 'wstelnet.v2';
const MAX_HISTORY = 100; // commands remembered for ArrowUp/ArrowDown
// A prompt like "Password:" makes the next line secret: masked, not shown, not remembered.
const SECRET_PROMPT = /\b(password|passphrase|passwd|pin)\b[^:]{0,20}:\s*$/i;

const $ = (id) => document.getElementById(id);
const form = $('target-form');
const hostInput = $('host');
const portInput = $('port');
const modeSelect = $('mode');
const charsetSelect = $('charset');
const connectButton = $('connect-button');
const statusLine = $('status');
const copyButton = $('copy-button');
const breakButton = $('break-button');
const command = $('command');
const sendButton = $('send-button');

const lines = new LineView($('console'));
const terminal = new TerminalView($('terminal'), {
  data: (text) => sendBytes(encode(charset, text)),
  binary: (bytes) => sendBytes(Uint8Array.from(bytes, (c) => c.charCodeAt(0) & 0xff)),
  resize: (cols, rows) => { if (mode === 'terminal') sendResize(cols, rows); },
});
const debug = { get term() { return terminal.term; }, received: 0 };
window.wstelnet = debug;

let ws = null;          // the current socket; events from older ones are ignored
let attempt = 0;        // counts connects, so that a cancelled one stops where it is
let state = 'idle';     // idle | connecting | open
let mode = 'line';      // the current view: line | terminal
let charset = 'utf-8';
let decode = newDecoder(charset);
let target = '';        // "host:port" of the current session
let closedReason = '';  // from the gateway's "closed" message

// Echo and secrets, for line mode. A target that turns echo over to itself
// after it has said something (IAC WILL ECHO before "Password:", as MUDs do)
// is hiding what is typed: the command box is masked. One that takes echo
// from the start (telnetd, character-mode servers) echoes every line itself:
// the box stays readable, and typed lines are not shown twice.
let remoteEcho = false;     // the target echoes
let echoHides = false;      // ... and that means a password
let promptSecret = false;   // the last output looks like a password prompt
let outputSeen = false;     // the target has sent data this session
let lastSize = { cols: 0, rows: 0 };

// ---- status, state and mode -----------------------------------------------

function setStatus(text, tone = 'info') {
  statusLine.textContent = text;
  statusLine.dataset.tone = tone;
}

function setState(next) {
  state = next;
  document.body.dataset.state = next; // CSS shows and styles things from this
  connectButton.textContent = { idle: 'Connect', connecting: 'Cancel', open: 'Disconnect' }[next];
  // readOnly rather than disabled: the field keeps focus if Enter was pressed in it.
  hostInput.readOnly = portInput.readOnly = next !== 'idle';
  modeSelect.disabled = next !== 'idle';
  command.disabled = sendButton.disabled = next !== 'open';
  copyButton.disabled = breakButton.disabled = next !== 'open';
  if (next !== 'open') {
    remoteEcho = echoHides = promptSecret = false;
    document.title = 'wstelnet';
  }
  updateCommandBox();
}

function secret() {
  return promptSecret || (remoteEcho && echoHides);
}

function updateCommandBox() {
  const hidden = secret();
  command.type = hidden ? 'password' : 'text';
  command.placeholder = state !== 'open' ? 'Connect first, then type lines here'
    : hidden ? 'Password (not shown or remembered)' : 'Type a line and press Enter';
}

// setMode switches the view. Terminal mode loads xterm.js the first time.
function setMode(next) {
  mode = next === 'terminal' ? 'terminal' : 'line';
  modeSelect.value = mode;
  document.body.dataset.mode = mode;
  if (mode === 'terminal') return openTerminal();
  return Promise.resolve(true);
}

// openTerminal readies xterm.js; false (with the reason shown) if it cannot load.
async function openTerminal() {
  try {
    await terminal.open();
    return true;
  } catch (err) {
    setStatus(`The terminal could not be loaded (${err.message}); reload the page, or use line mode.`, 'error');
    return false;
  }
}

function setCharset(next) {
  charset = charsetName(next) || 'utf-8';
  charsetSelect.value = charset;
  decode = newDecoder(charset);
}

// ---- the URL's hash ----------------------------------------------------------

// fromHash fills the form from #mode=...&host=...&port=...&charset=... and
// says whether it names a host to connect to.
function fromHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.has('mode')) setMode(h.get('mode').toLowerCase());
  if (h.has('charset')) setCharset(h.get('charset'));
  if (h.has('host')) {
    hostInput.value = h.get('host');
    portInput.value = h.get('port') ?? '';
  }
  return (h.get('host') ?? '').trim() !== '';
}

// toHash writes the session into the hash, so that the address can be copied.
function toHash() {
  const h = new URLSearchParams({ mode, host: hostInput.value.trim(), port: portInput.value.trim(), charset });
  history.replaceState(history.state, '', '#' + h);
}

// ---- connection ----------------------------------------------------------------

// The endpoint sits next to the page, so the gateway also works under a prefix.
function socketURL(size) {
  const url = new URL('ws', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  url.search = new URLSearchParams({
    telnet: 'auto',
    cols: size.cols,
    rows: size.rows,
    // Line mode draws colours but nothing else, so it claims a plain ANSI
    // terminal first and a dumb one next.
    term: mode === 'terminal' ? 'XTERM-256COLOR' : 'ANSI,DUMB',
  });
  return url.href;
}

function currentSize() {
  return mode === 'terminal' ? terminal.size : lines.size();
}

async function connect() {
  const host = hostInput.value.trim().replace(/^\[(.*)\]$/, '$1');
  const port = portInput.value.trim() || '80'; // the tutorial's default
  if (!host) {
    setStatus('Enter the host to connect to.', 'error');
    hostInput.focus();
    return;
  }
  if (!/^\d{1,5}$/.test(port) || +port < 1 || +port > 65535) {
    setStatus('The port must be a number from 1 to 65535.', 'error');
    portInput.focus();
    return;
  }
  target = (host.includes(':') ? `[${host}]` : host) + ':' + port; // IPv6 needs brackets
  toHash();
  const mine = ++attempt;
  setState('connecting');
  setStatus(`Connecting to ${target}…`);
  if (mode === 'terminal' && !(await openTerminal())) {
    if (mine === attempt) setState('idle');
    return;
  }
  if (mine !== attempt) return; // cancelled while xterm.js loaded

  // A fresh socket each time; the handlers check that theirs is still the
  // current one, so a late event from an old session changes nothing.
  lastSize = currentSize();
  const socket = new WebSocket(socketURL(lastSize), [SUBPROTOCOL]);
  socket.binaryType = 'arraybuffer';
  let opened = false;
  ws = socket;
  socket.addEventListener('open', () => {
    opened = true;
    if (socket === ws) socket.send(target);
  });
  socket.addEventListener('message', (event) => {
    if (socket === ws) onMessage(event.data);
  });
  socket.addEventListener('close', (event) => {
    if (socket === ws) onClose(event, opened);
  });
  // 'error' is always followed by 'close', which says what happened.
}

function onMessage(data) {
  if (state === 'open') {
    if (typeof data === 'string') onControl(data);
    else onOutput(new Uint8Array(data));
    return;
  }
  if (data === 'SUCC') {
    setState('open');
    setStatus(`Connected to ${target}.`, 'ok');
    document.title = `${target} · wstelnet`;
    closedReason = '';
    outputSeen = false;
    decode = newDecoder(charset);
    lines.reset();
    if (mode === 'terminal') {
      terminal.reset();
      terminal.focus();
    } else {
      lines.add(`Connected to ${target}.`, 'sys');
      lines.follow();
      command.focus();
    }
    // The window may have changed size while the connection was made.
    const { cols, rows } = currentSize();
    sendResize(cols, rows);
  } else if (typeof data === 'string' && data.startsWith('FAIL:')) {
    // The gateway closes the socket next; the form is usable again at once.
    drop();
    setState('idle');
    setStatus(`Could not connect: ${data.slice(5)}`, 'error');
    notice(`Could not connect: ${data.slice(5)}`, true);
  } else {
    drop();
    setState('idle');
    setStatus('The gateway gave an unexpected answer; is this a wstelnet gateway?', 'error');
  }
}

// onOutput shows the target's bytes.
function onOutput(bytes) {
  outputSeen = true;
  debug.received += bytes.length;
  if (mode === 'terminal') {
    terminal.write(charset === 'utf-8' ? bytes : decode(bytes));
    return;
  }
  lines.write(decode(bytes));
  const wasSecret = promptSecret;
  promptSecret = SECRET_PROMPT.test(lines.partial(200));
  if (promptSecret !== wasSecret) updateCommandBox();
}

// onControl acts on a control message from the gateway; unknown types are ignored.
function onControl(text) {
  let m;
  try {
    m = JSON.parse(text);
  } catch {
    return;
  }
  switch (m?.type) {
    case 'echo':
      remoteEcho = m.remote === true;
      echoHides = remoteEcho && outputSeen;
      updateCommandBox();
      break;
    case 'closed':
      closedReason = String(m.reason ?? '');
      break;
    case 'error':
      notice(`The gateway refused a message: ${m.message}`, true);
      break;
    default:
      break;
  }
}

function onClose(event, opened) {
  const wasOpen = state === 'open';
  ws = null;
  setState('idle');
  let text;
  const reason = event.reason || closedReason;
  if (event.code === 1006) {
    text = opened ? 'Connection to the gateway lost.' : 'Could not reach the gateway.';
  } else if (reason) {
    text = `Disconnected: ${reason.replace(/\.$/, '')}.`;
  } else if (event.code === 1000 || event.code === 1005) {
    text = 'Disconnected.';
  } else {
    text = `Disconnected (WebSocket close code ${event.code}).`;
  }
  setStatus(text, event.code === 1000 ? 'info' : 'error');
  if (wasOpen || opened) notice(text, event.code !== 1000);
}

// notice shows a message of the page's own in the current view.
function notice(text, error) {
  if (mode === 'terminal') terminal.notice(text);
  else lines.add(text, error ? 'sys error' : 'sys');
}

// drop ends the session from our side.
function drop() {
  attempt++;
  const socket = ws;
  ws = null;
  if (!socket) return;
  if (socket.readyState === WebSocket.CONNECTING) {
    // Closing a socket that is still connecting makes the browser log an
    // error; close it as soon as it opens instead.
    socket.addEventListener('open', () => socket.close(1000));
  } else {
    socket.close(1000);
  }
}

function disconnect() {
  const wasOpen = state === 'open';
  drop();
  setState('idle');
  setStatus(wasOpen ? 'Disconnected.' : 'Connection cancelled.');
  if (wasOpen) notice('Disconnected.');
}

function sendBytes(bytes) {
  if (state === 'open' && ws) ws.send(bytes);
}

function sendControl(message) {
  if (state === 'open' && ws) ws.send(JSON.stringify(message));
}

// sendResize tells the target the new window size (telnet NAWS), once per change.
function sendResize(cols, rows) {
  if (cols === lastSize.cols && rows === lastSize.rows) return;
  lastSize = { cols, rows };
  sendControl({ type: 'resize', cols, rows });
}

form.addEventListener('submit', (event) => {
  event.preventDefault(); // the page never navigates; the CSP forbids form actions too
  if (state === 'idle') connect();
  else disconnect();
});

modeSelect.addEventListener('change', () => setMode(modeSelect.value));

charsetSelect.addEventListener('change', () => {
  setCharset(charsetSelect.value);
  if (state !== 'idle') toHash();
  if (state === 'open') (mode === 'terminal' ? terminal : command).focus();
});

// A link to another session while this page is open (the hash changed by hand).
window.addEventListener('hashchange', () => {
  if (state === 'idle' && fromHash()) connect();
});

breakButton.addEventListener('click', () => {
  sendControl({ type: 'break' });
  (mode === 'terminal' ? terminal : command).focus();
});

copyButton.addEventListener('click', () => {
  if (!terminal.copy()) setStatus('Select text in the terminal first, then press Copy (or Ctrl+Shift+C).');
  terminal.focus();
});

// Save: what is shown, as text, named after the target (the last one
// after a disconnect) and the time.
$('save-button').addEventListener('click', () => {
  saveTranscript(mode === 'terminal' && terminal.term ? terminal.term : $('console'), target);
});

// Line mode reports the console's size too, for programs that format to it.
new ResizeObserver(() => {
  if (mode === 'line' && state === 'open') {
    const { cols, rows } = lines.size();
    sendResize(cols, rows);
  }
}).observe($('console'));

// ---- command line and history --------------------------------------------------

const commands = [];
let historyPos = 0;  // commands.length means "the line being typed"
let draft = '';      // what was typed before walking the history

$('command-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (state !== 'open' || !ws) return;
  const line = command.value;
  sendBytes(encode(charset, line + '\r\n')); // an empty line sends just CR LF
  if (secret()) {
    lines.add('(password sent)', 'in secret');
  } else {
    // A target that echoes shows the line itself.
    if (!remoteEcho) lines.add(line, 'in');
    if (line !== '' && commands.at(-1) !== line) {
      commands.push(line);
      if (commands.length > MAX_HISTORY) commands.shift();
    }
  }
  historyPos = commands.length;
  draft = '';
  command.value = '';
  promptSecret = false;
  updateCommandBox();
  lines.follow(); // after sending you want to see the answer
});

command.addEventListener('keydown', (event) => {
  if (secret() || event.isComposing || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === 'ArrowUp' && historyPos > 0) {
    if (historyPos === commands.length) draft = command.value;
    historyPos--;
  } else if (event.key === 'ArrowDown' && historyPos < commands.length) {
    historyPos++;
  } else {
    return;
  }
  event.preventDefault(); // keep the caret from jumping to the start
  command.value = historyPos === commands.length ? draft : commands[historyPos];
  command.setSelectionRange(command.value.length, command.value.length);
});

// ---- start -------------------------------------------------------------------------

setState('idle');
setCharset(charsetSelect.value);
if (fromHash()) connect();
else setMode(modeSelect.value);
