// wstelnet page. It opens a WebSocket to the gateway with protocol v2
// (subprotocol wstelnet.v2), names the target with "host:port", waits for
// SUCC or FAIL:<reason>, and then exchanges bytes as binary frames, with
// JSON control messages as text frames (echo, closed, error from the
// gateway; resize and break to it).
//
// Two views show the session: line mode (a console of lines with ANSI
// colours, and a command box that sends a line at a time; lineview.js) and
// terminal mode (xterm.js; keys sent as typed while the host echoes, a
// locally edited line otherwise; terminal.js, lineedit.js).
//
// The URL's hash can name a session, so that a link opens it directly:
// #mode=terminal&host=bbs.example.org&port=23&charset=cp437, or
// #target=NAME for one of the gateway's named targets; embed=1 shows only
// the terminal or console (the embedded view, for an <iframe>).
//
// With named targets (targets.json), the form offers them as a list and
// the page shows them as a menu; host and port are offered only if the
// gateway allows free targets too.
//
// Session state lives in a Session (session.js), one per Connect; the
// pure parts (ANSI parser, charsets, keys, session, resume) are tested
// with node.
//
// A lost connection is resumed (PROTOCOL.md, "Resuming a session"): a
// banner says so, the view stays as it is, typing is kept, and new
// sockets are tried with backoff until the gateway's window has passed;
// the output then goes on from the byte the page has, and our bytes from
// the byte the gateway has. Disconnect (and closing the tab) ends the
// session for good.
//
// For debugging, window.wstelnet is a small handle: wstelnet.term is the
// xterm.js Terminal once terminal mode has been used (null before), and
// wstelnet.received counts the bytes received from targets.

import { charsetName, encode } from './charset.js';
import { keySequence, ctrlChar } from './keys.js';
import { LineView } from './lineview.js';
import { ACK_DELAY, isLoss, retryDelay } from './resume.js';
import { Session, SUBPROTOCOL, defaultPort, parseTarget, readHash, socketURL, writeHash } from './session.js';
import { TerminalView } from './terminal.js';
import { saveTranscript } from './transcript.js';
import { followVisualViewport } from './viewport.js';

const MAX_HISTORY = 100; // commands remembered for ArrowUp/ArrowDown
// ATTEMPT_TIMEOUT bounds one reconnection attempt: a network that drops
// packets can leave a socket connecting for minutes.
const ATTEMPT_TIMEOUT = 10_000;
// RECONNECTED_SHOWN is how long the banner says "Reconnected".
const RECONNECTED_SHOWN = 3000;

const $ = (id) => document.getElementById(id);
const form = $('target-form');
const hostInput = $('host');
const portInput = $('port');
const portDefault = $('port-default');
const modeSelect = $('mode');
const charsetSelect = $('charset');
const connectButton = $('connect-button');
const statusLine = $('status');
const copyButton = $('copy-button');
const pasteButton = $('paste-button');
const breakButton = $('break-button');
const command = $('command');
const sendButton = $('send-button');
const ctrlKey = $('ctrl-key');
const targetSelect = $('target');
const menuList = $('menu-list');
const banner = $('banner');
const bannerText = $('banner-text');
const bannerConnect = $('banner-connect');
const formToggle = $('form-toggle');

const lines = new LineView($('console'));
const terminal = new TerminalView($('terminal'), {
  // Keys typed while there is no session are not echoed by the line editor.
  typed: (text) => { if (typing()) terminal.type(withCtrl(text)); },
  data: (text) => sendBytes(encode(charset, text)),
  binary: (bytes) => sendBytes(Uint8Array.from(bytes, (c) => c.charCodeAt(0) & 0xff)),
  resize: (cols, rows) => { if (mode === 'terminal') sendResize(cols, rows); },
  leave: () => connectButton.focus(),
});
const debug = { get term() { return terminal.term; }, received: 0 };
window.wstelnet = debug;

// The page's settings, from the form; the session's state is in session.
let mode = 'line';      // the current view: line | terminal
let charset = 'utf-8';
let session = null;     // the current Session; events of older ones are ignored
let lastTarget = '';    // the last session's target, which names a saved transcript

// ---- status, state and mode -----------------------------------------------

function setStatus(text, tone = 'info') {
  statusLine.textContent = text;
  statusLine.dataset.tone = tone;
}

// state is the page's: idle, or the current session's state.
function state() {
  return session ? session.state : 'idle';
}

// showState makes the page show state(); call it after every change.
function showState() {
  const next = state();
  document.body.dataset.state = next; // CSS shows and styles things from this
  connectButton.textContent = { idle: 'Connect', connecting: 'Cancel', open: 'Disconnect', reconnecting: 'Disconnect' }[next];
  // readOnly rather than disabled: the field keeps focus if Enter was pressed in it.
  hostInput.readOnly = portInput.readOnly = next !== 'idle';
  modeSelect.disabled = targetSelect.disabled = next !== 'idle';
  // While reconnecting, typing goes on: it is sent once the session is back.
  const typing = next === 'open' || next === 'reconnecting';
  command.disabled = sendButton.disabled = !typing;
  copyButton.disabled = pasteButton.disabled = !typing;
  breakButton.disabled = next !== 'open';
  if (!typing) {
    document.title = 'wstelnet';
    setCtrl(false);
  }
  if (next === 'idle') showForm(false); // folded again at the next Connect (phones)
  updateCommandBox();
}

// showForm unfolds the form on phones, where it folds away while
// connected (style.css), or folds it again.
function showForm(on) {
  if (on) document.body.dataset.form = 'shown';
  else delete document.body.dataset.form;
  formToggle.setAttribute('aria-expanded', String(on));
}

// typing says whether what is typed goes to the target (now or after a resume).
function typing() {
  return session?.state === 'open' || session?.state === 'reconnecting';
}

function secret() {
  return typing() && session.secret;
}

function updateCommandBox() {
  const hidden = secret();
  command.type = hidden ? 'password' : 'text';
  command.placeholder = !typing() ? 'Connect first, then type lines here'
    : hidden ? 'Password (not shown or remembered)' : 'Type a line and press Enter';
}

// The port an empty field means depends on the mode: say which.
function showPortDefault() {
  const port = defaultPort(mode);
  portInput.placeholder = port;
  portDefault.textContent = `(empty: ${port})`;
}

// setMode switches the view. Terminal mode loads xterm.js the first time.
function setMode(next) {
  mode = next === 'terminal' ? 'terminal' : 'line';
  modeSelect.value = mode;
  document.body.dataset.mode = mode;
  showPortDefault();
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
  session?.setCharset(charset);
}

// ---- the URL's hash ----------------------------------------------------------

// fromHash fills the form from the hash (see readHash) and says whether it
// names a target to connect to.
function fromHash() {
  const h = readHash(location.hash);
  if (h.mode) setMode(h.mode);
  if (h.charset) setCharset(h.charset);
  if (h.embed) document.body.dataset.embed = '';
  if (h.target) {
    chooseNamed(h.target);
    return true;
  }
  if (h.host !== undefined) {
    chooseFree();
    hostInput.value = h.host;
    portInput.value = h.port;
  }
  return (h.host ?? '').trim() !== '';
}

// toHash writes the session into the hash, so that the address can be copied.
function toHash() {
  const named = namedChoice();
  const h = writeHash({
    target: named, host: hostInput.value.trim(), port: portInput.value.trim(), mode, charset,
    embed: 'embed' in document.body.dataset,
  });
  history.replaceState(history.state, '', h);
}

// ---- named targets ----------------------------------------------------------

let freeAllowed = true; // the gateway takes host:port (targets.json says)

// namedChoice is the named target chosen in the form, or '' for host and port.
function namedChoice() {
  return 'named' in document.body.dataset ? targetSelect.value : '';
}

// addTargetOption adds a named target to the list unless it is there.
function addTargetOption(name, description) {
  let opt = [...targetSelect.options].find((o) => o.value === name && name !== '');
  if (!opt) {
    opt = document.createElement('option');
    opt.value = name;
    const other = [...targetSelect.options].find((o) => o.value === '');
    targetSelect.insertBefore(opt, other ?? null);
  }
  opt.textContent = description ? `${name} — ${description}` : name;
}

function chooseNamed(name) {
  document.body.dataset.named = '';
  addTargetOption(name, '');
  targetSelect.value = name;
  document.body.dataset.choice = 'named';
}

function chooseFree() {
  if ('named' in document.body.dataset) targetSelect.value = '';
  document.body.dataset.choice = 'free';
}

// loadTargets asks the gateway for its named targets and shows them: the
// list in the form and the menu. Names and descriptions go in as text.
async function loadTargets() {
  let list;
  try {
    const resp = await fetch('targets.json', { cache: 'no-cache' });
    if (!resp.ok) return;
    list = await resp.json();
  } catch {
    return; // an older gateway, or none: the form works without
  }
  freeAllowed = list.free !== false;
  const targets = Array.isArray(list.targets) ? list.targets : [];
  if (targets.length === 0) return;
  const chosen = namedChoice();
  document.body.dataset.named = '';
  for (const t of targets) addTargetOption(String(t.name), String(t.description ?? ''));
  if (freeAllowed && ![...targetSelect.options].some((o) => o.value === '')) {
    const other = document.createElement('option');
    other.value = '';
    other.textContent = 'Other: host and port';
    targetSelect.append(other);
  }
  targetSelect.value = chosen || (document.body.dataset.choice === 'free' && freeAllowed ? '' : String(targets[0].name));
  document.body.dataset.choice = targetSelect.value === '' ? 'free' : 'named';

  menuList.replaceChildren(...targets.map((t) => {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'menu-item';
    button.dataset.name = String(t.name);
    const name = document.createElement('span');
    name.className = 'menu-name';
    name.textContent = String(t.name);
    button.append(name);
    if (t.description) {
      const desc = document.createElement('span');
      desc.className = 'menu-desc';
      desc.textContent = String(t.description);
      button.append(desc);
    }
    li.append(button);
    return li;
  }));
  if (freeAllowed) menuList.append(otherCard());
}

// otherCard is the menu's way to a host and port of one's own, when the
// gateway allows them (the drop-down is not shown beside the menu).
function otherCard() {
  const li = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'menu-item menu-other';
  button.dataset.free = '';
  const name = document.createElement('span');
  name.className = 'menu-name';
  name.textContent = 'Other';
  const desc = document.createElement('span');
  desc.className = 'menu-desc';
  desc.textContent = 'Type a host and port in the form';
  button.append(name, desc);
  li.append(button);
  return li;
}

targetSelect.addEventListener('change', () => {
  document.body.dataset.choice = targetSelect.value === '' ? 'free' : 'named';
});

menuList.addEventListener('click', (event) => {
  const button = event.target.closest('button');
  if (!button || state() !== 'idle') return;
  if ('free' in button.dataset) {
    chooseFree();
    hostInput.focus();
    return;
  }
  const name = button.dataset.name;
  if (!name) return;
  chooseNamed(name);
  connect();
});

$('again-button').addEventListener('click', () => {
  if (state() === 'idle') connect();
});

// ---- the banner ----------------------------------------------------------------

let bannerTimer = 0;

// showBanner shows a line above the view about the connection: tone is
// 'warn' (reconnecting), 'ok' (reconnected, hidden after a moment) or
// 'error' (the session is gone, with Connect again).
function showBanner(text, tone) {
  clearTimeout(bannerTimer);
  bannerText.textContent = text;
  banner.dataset.tone = tone;
  bannerConnect.hidden = tone !== 'error';
  banner.hidden = false;
  if (tone === 'ok') bannerTimer = setTimeout(hideBanner, RECONNECTED_SHOWN);
}

function hideBanner() {
  clearTimeout(bannerTimer);
  banner.hidden = true;
}

// ---- connection ----------------------------------------------------------------

function currentSize() {
  return mode === 'terminal' ? terminal.size : lines.size();
}

async function connect() {
  const named = namedChoice();
  const parsed = named ? { target: named } : parseTarget(hostInput.value, portInput.value, mode);
  if (!named && !freeAllowed) {
    setStatus('Choose a target from the list.', 'error');
    targetSelect.focus();
    return;
  }
  if (parsed.error) {
    setStatus(parsed.error, 'error');
    (parsed.field === 'port' ? portInput : hostInput).focus();
    return;
  }
  const s = new Session(parsed.target, charset);
  session = s;
  lastTarget = s.target;
  hideBanner();
  toHash();
  showState();
  setStatus(`Connecting to ${s.target}…`);
  if (mode === 'terminal' && !(await openTerminal())) {
    if (session === s) {
      session = null;
      showState();
    }
    return;
  }
  if (session !== s) return; // cancelled while xterm.js loaded

  const size = currentSize();
  s.lastSize = size;
  openSocket(s, () => s.target);
}

// openSocket gives s a fresh socket whose first message is first(). The
// handlers check that their session is still the current one and the
// socket still its own, so a late event from an old session or an
// abandoned socket changes nothing.
function openSocket(s, first) {
  const socket = new WebSocket(socketURL(location.href, mode, currentSize()), [SUBPROTOCOL]);
  socket.binaryType = 'arraybuffer';
  s.socket = socket;
  const current = () => session === s && s.socket === socket;
  socket.addEventListener('open', () => {
    if (!current()) return;
    s.opened = true;
    socket.send(first());
  });
  socket.addEventListener('message', (event) => {
    if (current()) onMessage(s, event.data);
  });
  socket.addEventListener('close', (event) => {
    if (current()) onClose(s, event);
  });
  // 'error' is always followed by 'close', which says what happened.
  return socket;
}

function onMessage(s, data) {
  if (s.open) {
    if (typeof data === 'string') onControl(s, data);
    else onOutput(s, new Uint8Array(data));
    return;
  }
  if (s.state === 'reconnecting') {
    onResumeAnswer(s, data);
    return;
  }
  const answer = s.answer(data);
  if (answer.ok) {
    showState();
    setStatus(`Connected to ${s.target}.`, 'ok');
    document.title = `${s.target} · wstelnet`;
    lines.reset();
    if (mode === 'terminal') {
      terminal.reset();
      terminal.focus();
    } else {
      lines.add(`Connected to ${s.target}.`, 'sys');
      lines.follow();
      command.focus();
    }
    // The window may have changed size while the connection was made.
    const { cols, rows } = currentSize();
    sendResize(cols, rows);
    return;
  }
  // The gateway closes the socket next; the form is usable again at once.
  end();
  if (answer.fail !== undefined) {
    setStatus(`Could not connect: ${answer.fail}`, 'error');
    notice(`Could not connect: ${answer.fail}`, true);
  } else {
    setStatus('The gateway gave an unexpected answer; is this a wstelnet gateway?', 'error');
  }
}

// onOutput shows the target's bytes, and acknowledges them to a gateway
// that keeps them for a resume.
function onOutput(s, bytes) {
  debug.received += bytes.length;
  // In terminal mode the acks wait until xterm.js has parsed the bytes:
  // that is the flow control that keeps a flood from outrunning it.
  const flow = mode === 'terminal';
  if (s.resumable) schedule(s, s.down.take(bytes.length, !flow));
  const shown = flow && s.resumable ? () => { if (session === s) schedule(s, s.down.showed(bytes.length)); } : undefined;
  if (mode === 'terminal') {
    // xterm.js decodes UTF-8 itself, keeping characters split across frames whole.
    if (s.charset === 'utf-8') {
      s.outputSeen = true;
      terminal.write(bytes, shown);
    } else {
      terminal.write(s.output(bytes), shown);
    }
    return;
  }
  lines.write(s.output(bytes));
  if (s.notePrompt(lines.partial(200))) updateCommandBox();
}

// schedule sends an ack now or arms the timer for one, as take or showed said.
function schedule(s, due) {
  if (due === 'now') sendAck(s);
  else if (due === 'later' && !s.ackTimer) s.ackTimer = setTimeout(() => sendAck(s), ACK_DELAY);
}

// onControl acts on a control message from the gateway; unknown types are ignored.
function onControl(s, text) {
  const m = s.control(text);
  if (m?.type === 'echo') {
    updateCommandBox();
    // Terminal mode types a character at a time while the host echoes,
    // and edits lines locally while it does not (terminal.js).
    terminal.setCharMode(s.remoteEcho);
  } else if (m?.type === 'error') notice(`The gateway refused a message: ${m.message}`, true);
}

// sendAck acknowledges the output received so far.
function sendAck(s) {
  clearTimeout(s.ackTimer);
  s.ackTimer = 0;
  if (session !== s || !s.open) return; // the resume will say it
  const m = s.down.ack();
  if (m) s.socket.send(JSON.stringify(m));
}

function onClose(s, event) {
  if ((s.open || s.state === 'reconnecting') && s.resumable && isLoss(event.code, s.closedReason !== '')) {
    if (s.open) lost(s);
    else retryLater(s);
    return;
  }
  if (s.state === 'reconnecting') {
    // An attempt's socket closed for a reason of its own (an error page
    // from a proxy, a gateway refusing the handshake): try again.
    retryLater(s);
    return;
  }
  const wasOpen = s.open;
  const { text, error } = s.ended(event.code, event.reason);
  session = null;
  showState();
  setStatus(text, error ? 'error' : 'info');
  if (wasOpen || s.opened) notice(text, error);
}

// ---- resume ---------------------------------------------------------------------

// lost takes a lost connection: the banner, the view as it is, and the
// first attempt soon.
function lost(s) {
  clearTimeout(s.ackTimer);
  s.ackTimer = 0;
  s.lose(Date.now());
  showState();
  setStatus(`Connection to the gateway lost; reconnecting to ${s.target}…`, 'warn');
  showBanner('Connection lost, reconnecting…', 'warn');
  retryLater(s);
}

// retryLater schedules the next attempt, unless the gateway has forgotten
// the session by then.
function retryLater(s) {
  s.socket = null;
  clearTimeout(s.attemptTimer);
  clearTimeout(s.retryTimer);
  // The last attempt comes just before the window closes.
  const left = s.deadline - Date.now() - 250;
  if (left <= 0) {
    gone(s, `no connection to the gateway within ${s.window} s`);
    return;
  }
  s.retryTimer = setTimeout(() => attempt(s), Math.min(retryDelay(s.attempts + 1), left));
}

// attempt opens a socket that asks to resume the session.
function attempt(s) {
  clearTimeout(s.retryTimer);
  s.retryTimer = 0;
  if (session !== s || s.state !== 'reconnecting') return;
  s.attempts++;
  const socket = openSocket(s, () => s.resuming());
  showBanner(`Connection lost, reconnecting… (attempt ${s.attempts})`, 'warn');
  s.attemptTimer = setTimeout(() => {
    if (s.socket !== socket) return;
    abandon(socket);
    retryLater(s);
  }, ATTEMPT_TIMEOUT);
}

// abandon lets go of a socket without a close frame, which would end the
// session: one that has not opened is closed once it opens (before it
// asks for anything); an open one is left alone, and the gateway closes
// it (4001) when a newer one resumes the session.
function abandon(socket) {
  if (socket.readyState === WebSocket.CONNECTING) socket.addEventListener('open', () => socket.close(1000));
}

// onResumeAnswer takes the messages of a resuming socket until the
// session is back, or gone.
function onResumeAnswer(s, data) {
  const answer = s.resumeAnswer(data);
  if (answer.wait) return;
  clearTimeout(s.attemptTimer);
  if (answer.gone !== undefined) {
    gone(s, answer.gone);
    return;
  }
  showState();
  setStatus(`Connected to ${s.target}.`, 'ok');
  showBanner('Reconnected', 'ok');
  terminal.setCharMode(s.remoteEcho); // off until the gateway says "echo" again
  // Our bytes from the gateway's "received" on, then what was typed meanwhile.
  for (const chunk of s.up.take()) s.socket.send(chunk);
  const { cols, rows } = currentSize();
  sendResize(cols, rows);
}

// gone ends a session the gateway no longer has (or could not be reached
// for): the view stays, the banner says so and offers to connect again.
function gone(s, reason) {
  clearTimeout(s.retryTimer);
  clearTimeout(s.attemptTimer);
  if (s.socket) abandon(s.socket);
  s.socket = null;
  s.state = 'closed';
  session = null;
  showState();
  const text = `The session ended while you were disconnected (${reason.replace(/\.$/, '')}).`;
  setStatus(text, 'error');
  showBanner('The session ended while you were disconnected.', 'error');
  notice(text, true);
}

// endDetached ends a session that is waiting for a resume, for good: it
// resumes it on a socket of its own and closes that with a close frame.
// (Best effort: a gateway that cannot be reached forgets the session when
// its window passes.)
function endDetached(s) {
  const socket = new WebSocket(socketURL(location.href, mode, currentSize()), [SUBPROTOCOL]);
  socket.addEventListener('open', () => socket.send(JSON.stringify(s.down.resumeMessage(s.id))));
  socket.addEventListener('message', () => socket.close(1000)); // SUCC or FAIL: either way, done
}

// The browser knows the network is gone before the socket does: resume
// on a new socket (the old one, if it still works, is closed by the
// gateway with 4001). And it knows when the network is back: try at once.
window.addEventListener('offline', () => {
  const s = session;
  if (s?.open && s.resumable) {
    abandon(s.socket);
    lost(s);
  }
});

window.addEventListener('online', () => {
  const s = session;
  if (s?.state !== 'reconnecting') return;
  if (s.socket) abandon(s.socket);
  clearTimeout(s.attemptTimer);
  attempt(s);
});

// notice shows a message of the page's own in the current view.
function notice(text, error) {
  if (mode === 'terminal') terminal.notice(text);
  else lines.add(text, error ? 'sys error' : 'sys');
}

// end ends the current session from our side.
function end() {
  const s = session;
  session = null;
  if (s) {
    clearTimeout(s.ackTimer);
    clearTimeout(s.retryTimer);
    clearTimeout(s.attemptTimer);
    if (s.state === 'reconnecting') {
      if (s.socket) abandon(s.socket);
      s.socket = null;
      endDetached(s);
    }
    s.teardown();
  }
  hideBanner();
  showState();
}

function disconnect() {
  const wasOpen = typing();
  end();
  setStatus(wasOpen ? 'Disconnected.' : 'Connection cancelled.');
  if (wasOpen) notice('Disconnected.');
}

// sendBytes sends what is typed. A resumable session keeps it until the
// gateway acknowledges it, and while reconnecting it waits (up to
// MAX_QUEUED).
function sendBytes(bytes) {
  const s = session;
  if (!s || !typing() || bytes.length === 0) return;
  if (!s.resumable) {
    if (s.open && s.socket) s.socket.send(bytes);
    return;
  }
  if (!s.up.write(bytes, s.open)) {
    showBanner('Connection lost, reconnecting… Typing is not kept beyond 64 KiB until then.', 'warn');
    return;
  }
  if (s.open) for (const chunk of s.up.take()) s.socket.send(chunk);
}

function sendControl(message) {
  if (session?.open && session.socket) session.socket.send(JSON.stringify(message));
}

// sendResize tells the target the new window size (telnet NAWS), once per change.
function sendResize(cols, rows) {
  const m = session?.open ? session.resize(cols, rows) : null;
  if (m) sendControl(m);
}

form.addEventListener('submit', (event) => {
  event.preventDefault(); // the page never navigates; the CSP forbids form actions too
  if (state() === 'idle') connect();
  else disconnect();
});

modeSelect.addEventListener('change', () => setMode(modeSelect.value));

charsetSelect.addEventListener('change', () => {
  setCharset(charsetSelect.value);
  if (state() !== 'idle') toHash();
  if (state() === 'open') (mode === 'terminal' ? terminal : command).focus();
});

// A link to another session while this page is open (the hash changed by hand).
window.addEventListener('hashchange', () => {
  if (state() === 'idle' && fromHash()) connect();
});

bannerConnect.addEventListener('click', () => {
  if (state() === 'idle') connect();
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
  saveTranscript(mode === 'terminal' && terminal.term ? terminal.term : $('console'), lastTarget);
});

// Line mode reports the console's size too, for programs that format to it.
new ResizeObserver(() => {
  if (mode === 'line' && state() === 'open') {
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
  if (!typing()) return;
  const line = command.value;
  sendBytes(encode(charset, line + '\r\n')); // an empty line sends just CR LF
  if (secret()) {
    lines.add('(password sent)', 'in secret');
  } else {
    // A target that echoes shows the line itself.
    if (!session.remoteEcho) lines.add(line, 'in');
    if (line !== '' && commands.at(-1) !== line) {
      commands.push(line);
      if (commands.length > MAX_HISTORY) commands.shift();
    }
  }
  historyPos = commands.length;
  draft = '';
  command.value = '';
  session.lineSent();
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

// ---- leaving the page -------------------------------------------------------------

// Closing or reloading the tab ends the session: ask first, as ttyd does,
// but only while there is one. (Browsers show their own words, and only
// once the page has been used: a click or a key.)
window.addEventListener('beforeunload', (event) => {
  if (!typing()) return;
  event.preventDefault();
  event.returnValue = ''; // older browsers want this instead
});

// ---- terminal extras: paste, screen reader, key bar ---------------------------------

pasteButton.addEventListener('click', async () => {
  try {
    terminal.paste(await navigator.clipboard.readText());
  } catch {
    // No clipboard API (plain http on another host) or no permission.
    setStatus('The page may not read the clipboard here: press Ctrl+Shift+V (or Shift+Insert) in the terminal.');
  }
  terminal.focus();
});

$('screen-reader').addEventListener('change', (event) => {
  terminal.setScreenReader(event.target.checked);
});

// The key bar, for touch screens, whose keyboards have no Esc, Tab, Ctrl
// or arrows. Ctrl is sticky: it applies to the next key, from the bar or
// the on-screen keyboard. The bar's buttons never take the focus, so the
// on-screen keyboard stays up.
let ctrlArmed = false;

function setCtrl(on) {
  ctrlArmed = on;
  ctrlKey.setAttribute('aria-pressed', String(on));
}

// withCtrl applies an armed Ctrl to typed text (one character).
function withCtrl(text) {
  if (!ctrlArmed) return text;
  setCtrl(false);
  return ctrlChar(text) || text;
}

const keybar = $('keybar');
keybar.addEventListener('pointerdown', (event) => {
  if (event.target.closest('button')) event.preventDefault(); // keep the terminal's focus
});
keybar.addEventListener('click', (event) => {
  const key = event.target.closest('button')?.dataset.key;
  if (!key) return;
  if (key === 'ctrl') {
    setCtrl(!ctrlArmed);
  } else {
    const seq = keySequence(key, { ctrl: ctrlArmed, appCursor: terminal.appCursor });
    setCtrl(false);
    if (seq) terminal.type(seq); // the line editor's, in local line mode
  }
  terminal.focus();
});

formToggle.addEventListener('click', () => showForm(!('form' in document.body.dataset)));

// ---- start -------------------------------------------------------------------------

followVisualViewport(document.documentElement, window.visualViewport, window);

showState();
setCharset(charsetSelect.value);
if (fromHash()) connect();
else setMode(modeSelect.value);
loadTargets();
