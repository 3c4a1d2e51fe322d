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
// Each Connect makes a Connection (connection.js: the socket, resume,
// reconnection, heartbeat and their timers) and a Session (session.js:
// the stream's charset, echo and prompts); this file wires them to the
// DOM. Those and the other pure parts (ANSI parser, charsets, keys,
// resume's bookkeeping) are tested with node.
//
// A lost connection is resumed (PROTOCOL.md, "Resuming a session"): a
// banner over the view says so, the view stays as it is, typing is kept,
// and the Connection tries new sockets with backoff until the gateway's
// window has passed. Disconnect (and closing the tab) ends the session
// for good.
//
// MUDs (PROTOCOL.md, "The page as a MUD client"; mud.js): the page asks
// for the game's GMCP and MSDP, sends GMCP Core.Hello and
// Core.Supports.Set when a session opens, and dispatches each GMCP and
// MSDP message and each prompt as a DOM event on document (wstelnet:gmcp,
// wstelnet:msdp, wstelnet:prompt, detail: the message). In a frame it
// posts them to the parent window too, only to an origin of the gateway's
// -frame-ancestors (a meta tag says which), and takes
// {type:"gmcp"|"msdp"|"send"} back only from those. Char.Vitals (or
// MSDP's HEALTH, MANA, MOVEMENT) shows in a small bar under the view
// (#vitals=0 in the hash turns it off).
//
// For debugging, window.wstelnet is a small handle: wstelnet.term is the
// xterm.js Terminal once terminal mode has been used (null before),
// wstelnet.received counts the bytes received from targets, and
// wstelnet.heartbeat = {idle, wait} (ms) shortens the heartbeat of the
// sessions connected after it is set (tests use it).

import { charsetName, encode } from './charset.js';
import { keySequence, ctrlChar } from './keys.js';
import { LineView } from './lineview.js';
import { Connection } from './connection.js';
import { fraction, fromParent, helloMessages, msdpVitals, msspSummary, mudEvent, originAllowed, parentOrigin, readSources, toParent, vitals } from './mud.js';
import { Session, closeText, defaultPort, parseTarget, readHash, socketURL, writeHash } from './session.js';
import { TerminalView } from './terminal.js';
import { saveTranscript } from './transcript.js';
import { followVisualViewport } from './viewport.js';

const MAX_HISTORY = 100; // commands remembered for ArrowUp/ArrowDown
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
const vitalsBar = $('vitals');
const screenReader = $('screen-reader');

// What the gateway writes into the page (gateway.go, renderIndex).
const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? '';
const gatewayVersion = meta('wstelnet-version');
const frameSources = readSources(meta('wstelnet-frame-ancestors'));
const framed = window.parent !== window;

const lines = new LineView($('console'));
const terminal = new TerminalView($('terminal'), {
  // Keys typed while there is no session are not echoed by the line editor.
  typed: (text) => { if (typing()) terminal.type(withCtrl(text)); },
  data: (text) => sendBytes(encode(charset, text)),
  binary: (bytes) => sendBytes(Uint8Array.from(bytes, (c) => c.charCodeAt(0) & 0xff)),
  resize: (cols, rows) => { if (mode === 'terminal') sendResize(cols, rows); },
  leave: () => connectButton.focus(),
});
const debug = { get term() { return terminal.term; }, received: 0, heartbeat: {} };
window.wstelnet = debug;

// The page's settings, from the form; the session's state is in session.
let mode = 'line';      // the current view: line | terminal
let charset = 'utf-8';
let conn = null;        // the current Connection; events of older ones are ignored
let session = null;     // the current Session: its stream's charset, echo and prompts
let lastTarget = '';    // the last session's target, which names a saved transcript
let showVitals = true;  // #vitals=0 turns the vitals bar off

// ---- status, state and mode -----------------------------------------------

function setStatus(text, tone = 'info') {
  statusLine.textContent = text;
  statusLine.dataset.tone = tone;
}

// state is the page's: idle, or the current session's state.
function state() {
  return conn ? conn.state : 'idle';
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
  return conn?.live === true;
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
  showVitals = h.vitals !== false;
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
    embed: 'embed' in document.body.dataset, vitals: showVitals,
  });
  history.replaceState(history.state, '', h);
}

// ---- named targets ----------------------------------------------------------

let freeAllowed = true; // the gateway takes host:port (targets.json says)
const targetSupports = new Map(); // a named target's GMCP packages, where targets.json lists them
let targetsLoaded = Promise.resolve(); // loadTargets' work, which the GMCP hello waits for

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
  for (const t of targets) {
    addTargetOption(String(t.name), String(t.description ?? ''));
    if (Array.isArray(t.gmcp)) targetSupports.set(String(t.name), t.gmcp);
  }
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
    const said = msspSummary(t.mssp, Date.now()); // what the game says of itself
    if (said) {
      const mssp = document.createElement('span');
      mssp.className = 'menu-mssp';
      mssp.textContent = said;
      button.append(mssp);
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
  const c = newConnection(s);
  session = s;
  conn = c;
  lastTarget = s.target;
  delete document.body.dataset.transcript; // until this one opens, there is nothing new to save
  hideBanner();
  toHash();
  showState();
  setStatus(`Connecting to ${s.target}…`);
  if (mode === 'terminal' && !(await openTerminal())) {
    if (conn === c) {
      conn = session = null;
      showState();
    }
    return;
  }
  if (conn !== c) return; // cancelled while xterm.js loaded
  c.start(currentSize());
}

// newConnection makes the Connection (connection.js) of session s and
// wires its events to the page. Events of a connection that is no longer
// the page's current one change nothing.
function newConnection(s) {
  const c = new Connection(s.target, {
    url: () => socketURL(location.href, mode, currentSize(), { charset: s.charset, screenReader: screenReader.checked }),
    heartbeat: debug.heartbeat,
  }, {
    open: () => current() && opened(s),
    refused: (answer) => current() && refused(answer),
    data: (bytes, shown) => current() && onOutput(s, bytes, shown),
    control: (m) => current() && onControl(s, m),
    lost: () => {
      if (!current()) return;
      showState();
      setStatus(`Connection to the gateway lost; reconnecting to ${s.target}…`, 'warn');
      showBanner('Connection lost, reconnecting…', 'warn');
    },
    attempt: (n) => current() && showBanner(`Connection lost, reconnecting… (attempt ${n})`, 'warn'),
    resumed: () => {
      if (!current()) return;
      s.resumed();
      terminal.setCharMode(s.remoteEcho); // off until the gateway says "echo" again
      showState();
      setStatus(`Connected to ${s.target}.`, 'ok');
      showBanner('Reconnected', 'ok');
      const { cols, rows } = currentSize();
      c.resize(cols, rows);
      updateCommandBox();
    },
    gone: (reason) => current() && gone(reason),
    closed: (e) => current() && closed(e),
  });
  const current = () => conn === c;
  return c;
}

// opened takes SUCC: the view starts afresh.
function opened(s) {
  s.started();
  document.body.dataset.transcript = ''; // Save stays after the end, until the next Connect
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
  conn.resize(cols, rows);
  clearVitals();
  // GMCP: who we are and what we want (the gateway passes it on once the
  // game agrees to GMCP; a game without it never sees it). What we want is
  // the named target's list when targets.json has one: wait for the list
  // (an embedded view connects before it has come), but not for long.
  const c = conn;
  Promise.race([targetsLoaded.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000))]).then(() => {
    if (conn !== c) return; // this session is over
    for (const m of helloMessages(gatewayVersion, targetSupports.get(s.target))) c.sendControl(m);
  });
}

// refused takes a first answer other than SUCC; the form is usable again at once.
function refused(answer) {
  conn = session = null;
  showState();
  if (answer.fail !== undefined) {
    setStatus(`Could not connect: ${answer.fail}`, 'error');
    notice(`Could not connect: ${answer.fail}`, true);
  } else {
    setStatus('The gateway gave an unexpected answer; is this a wstelnet gateway?', 'error');
  }
}

// onOutput shows the target's bytes; shown() tells the connection when
// the view has taken them, which is when they are acknowledged.
function onOutput(s, bytes, shown) {
  debug.received += bytes.length;
  if (mode === 'terminal') {
    // In terminal mode the acks wait until xterm.js has parsed the bytes:
    // that is the flow control that keeps a flood from outrunning it.
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
  shown();
  if (s.notePrompt(lines.partial(200))) updateCommandBox();
}

// onControl acts on a control message from the gateway; unknown types are ignored.
function onControl(s, m) {
  if (m.type === 'echo') {
    s.echo(m.remote);
    updateCommandBox();
    // Terminal mode types a character at a time while the host echoes,
    // and edits lines locally while it does not (terminal.js).
    terminal.setCharMode(s.remoteEcho);
  } else if (m.type === 'error') {
    notice(`The gateway refused a message: ${m.message}`, true);
  } else {
    const ev = mudEvent(m);
    if (ev) onMud(s, ev);
  }
}

// ---- MUDs: GMCP, MSDP and prompts ------------------------------------------------

// onMud takes a game's GMCP or MSDP message or a prompt: the page's
// event, the parent's message, then what the page itself makes of it.
function onMud(s, ev) {
  document.dispatchEvent(new CustomEvent(`wstelnet:${ev.type}`, { detail: ev }));
  postToParent(toParent(ev));
  if (ev.type === 'prompt') {
    if (mode !== 'line') return; // the terminal shows the bytes as they are
    lines.prompt();
    if (s.notePrompt(lines.partial(200))) updateCommandBox();
  } else if (ev.type === 'gmcp' && /^char\.vitals$/i.test(ev.package)) {
    gameVitals.gmcp = ev.data;
    drawVitals();
  } else if (ev.type === 'gmcp' && /^char\.maxstats$/i.test(ev.package)) {
    gameVitals.max = ev.data;
    drawVitals();
  } else if (ev.type === 'msdp' && msdpVitals(gameVitals.msdp, ev.data)) {
    drawVitals();
  }
}

// learnedParent is the parent's origin as its messages show it, for
// browsers that do not say it (location.ancestorOrigins).
let learnedParent = null;

// postToParent posts a message to the window that frames the page, if it
// is one the gateway lets frame it (-frame-ancestors), and to that origin
// only: a character's state is for the game's own site.
function postToParent(message) {
  if (!framed) return;
  const origin = parentOrigin({
    sources: frameSources,
    selfOrigin: location.origin,
    ancestor: location.ancestorOrigins?.[0],
    learned: learnedParent,
    referrer: document.referrer,
  });
  if (origin) window.parent.postMessage(message, origin);
}

// The parent window may send GMCP, MSDP or a line to the game, if it is
// one the gateway lets frame the page.
window.addEventListener('message', (event) => {
  if (!framed || event.source !== window.parent) return;
  if (!originAllowed(event.origin, frameSources, location.origin)) return;
  learnedParent = event.origin;
  const m = fromParent(event.data);
  if (!m || !typing()) return;
  if (m.type === 'send') sendLine(m.text, false);
  else sendControl(m);
});

// gameVitals holds the game's last vitals: GMCP Char.Vitals (with
// Char.MaxStats), or MSDP's HEALTH, MANA, MOVEMENT and their maxima.
const gameVitals = { gmcp: null, max: null, msdp: {} };

function clearVitals() {
  gameVitals.gmcp = gameVitals.max = null;
  gameVitals.msdp = {};
  vitalsBar.hidden = true;
  vitalsBar.replaceChildren();
}

// drawVitals shows the game's vitals in the bar: a name, the numbers
// (with the maximum if the game says it) and a thin bar for each.
function drawVitals() {
  const list = gameVitals.gmcp !== null ? vitals(gameVitals.gmcp, gameVitals.max) : vitals(gameVitals.msdp);
  vitalsBar.hidden = !showVitals || list.length === 0;
  if (vitalsBar.hidden) return;
  // The same entries in place: a game sends vitals often.
  const same = vitalsBar.children.length === list.length && list.every((v, i) => vitalsBar.children[i].dataset.key === v.key);
  if (!same) vitalsBar.replaceChildren(...list.map(vitalEntry));
  list.forEach((v, i) => {
    const el = vitalsBar.children[i];
    const text = v.max === null ? String(v.value) : `${v.value}/${v.max}`;
    el.querySelector('.vital-value').textContent = text;
    const bar = el.querySelector('.vital-bar');
    const f = fraction(v);
    if (f === null) {
      bar.dataset.unknown = '';
      bar.removeAttribute('aria-valuemax');
    } else {
      delete bar.dataset.unknown;
      bar.setAttribute('aria-valuemax', String(v.max));
      bar.firstChild.style.width = `${(f * 100).toFixed(1)}%`;
    }
    bar.setAttribute('aria-valuenow', String(v.value));
    bar.setAttribute('aria-valuetext', `${v.label} ${text}`);
  });
}

// vitalEntry makes the bar's element for one vital.
function vitalEntry(v) {
  const el = document.createElement('div');
  el.className = 'vital';
  el.dataset.key = v.key;
  el.dataset.kind = v.kind;
  const name = document.createElement('span');
  name.className = 'vital-label';
  name.textContent = v.label;
  const value = document.createElement('span');
  value.className = 'vital-value';
  const bar = document.createElement('span');
  bar.className = 'vital-bar';
  bar.setAttribute('role', 'meter');
  bar.setAttribute('aria-label', v.label);
  bar.setAttribute('aria-valuemin', '0');
  const fill = document.createElement('span');
  fill.className = 'vital-fill';
  bar.append(fill);
  el.append(name, value, bar);
  return el;
}

// closed takes the end of the session: the gateway's words, as they are.
function closed(e) {
  const { text, error } = closeText(e.code, e.reason, e.opened, e.said);
  conn = session = null;
  showState();
  setStatus(text, error ? 'error' : 'info');
  if (e.wasOpen || e.opened) notice(text, error);
}

// gone ends a session the gateway no longer has (or could not be reached
// for): the view stays, the banner says so and offers to connect again.
function gone(reason) {
  conn = session = null;
  showState();
  const text = `The session ended while you were disconnected (${reason.replace(/\.$/, '')}).`;
  setStatus(text, 'error');
  showBanner('The session ended while you were disconnected.', 'error');
  notice(text, true);
}

// The browser knows the network is gone before the socket does, and when
// it is back.
window.addEventListener('offline', () => conn?.offline());
window.addEventListener('online', () => conn?.online());

// notice shows a message of the page's own in the current view.
function notice(text, error) {
  if (mode === 'terminal') terminal.notice(text);
  else lines.add(text, error ? 'sys error' : 'sys');
}

// end ends the current session from our side.
function end() {
  const c = conn;
  conn = session = null;
  c?.close();
  hideBanner();
  showState();
}

function disconnect() {
  const wasOpen = typing();
  end();
  setStatus(wasOpen ? 'Disconnected.' : 'Connection cancelled.');
  if (wasOpen) notice('Disconnected.');
}

// sendBytes sends what is typed. While reconnecting it waits (up to
// MAX_QUEUED) and goes once the session is back.
function sendBytes(bytes) {
  if (!typing()) return;
  if (!conn.send(bytes)) {
    showBanner('Connection lost, reconnecting… Typing is not kept beyond 64 KiB until then.', 'warn');
  }
}

function sendControl(message) {
  conn?.sendControl(message);
}

// sendResize tells the target the new window size (telnet NAWS), once per change.
function sendResize(cols, rows) {
  conn?.resize(cols, rows);
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
  sendLine(command.value, true);
  historyPos = commands.length;
  draft = '';
  command.value = '';
});

// sendLine sends a line to the target with CR LF, and in line mode shows
// it (masked if it answers a password prompt); remember puts it in the
// history. The command box and the parent window ({type:"send"}) use it.
function sendLine(line, remember) {
  sendBytes(encode(charset, line + '\r\n')); // an empty line sends just CR LF
  if (mode !== 'line') return;
  if (secret()) {
    lines.add('(password sent)', 'in secret');
  } else {
    // A target that echoes shows the line itself.
    if (!session.remoteEcho) lines.add(line, 'in');
    if (remember && line !== '' && commands.at(-1) !== line) {
      commands.push(line);
      if (commands.length > MAX_HISTORY) commands.shift();
    }
  }
  session.lineSent();
  updateCommandBox();
  lines.follow(); // after sending you want to see the answer
}

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

screenReader.addEventListener('change', (event) => {
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
targetsLoaded = loadTargets();
if (fromHash()) connect();
else setMode(modeSelect.value);
