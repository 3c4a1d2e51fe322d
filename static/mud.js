// The page's side of the MUD protocols (PROTOCOL.md, "The page as a MUD
// client"): what the page tells a game about itself (the MTTS bits of the
// socket's URL, GMCP Core.Hello and Core.Supports.Set), the game's
// out-of-band messages (GMCP, MSDP, prompts) as the events the page
// dispatches and the messages it posts to the window that frames it, the
// checks on what that window posts back, the numbers of the vitals bar,
// and the MSSP line of the targets menu. Nothing here touches the DOM or
// the window, so that node can test it (webtest/mud.test.mjs);
// wstelnet.js wires it to the page.

// CLIENT is the name the page gives itself in GMCP Core.Hello.
export const CLIENT = 'wstelnet';

// MTTS are the bits of the MUD Terminal Type Standard's third TTYPE
// answer ("MTTS 269"), which say what the client supports.
export const MTTS = Object.freeze({
  ANSI: 1,
  VT100: 2,
  UTF8: 4,
  COLORS_256: 8,
  MOUSE: 16,
  OSC_PALETTE: 32,
  SCREEN_READER: 64,
  PROXY: 128,      // the gateway adds it
  TRUECOLOR: 256,
  MNES: 512,       // the gateway adds it
  MSLP: 1024,      // links: not supported
  SSL: 2048,       // the gateway adds it when the browser's connection is TLS
});

// mttsBits are the bits for what this page really does in a mode:
// both views draw ANSI colours, 256 of them and truecolor (ansi.js,
// xterm.js); only the terminal (xterm.js) moves the cursor (VT100), reports
// the mouse and takes palette changes (OSC 4). UTF-8 when that is the
// session's charset; screen reader when the page's screen reader mode is on.
export function mttsBits({ mode, charset, screenReader }) {
  let bits = MTTS.ANSI | MTTS.COLORS_256 | MTTS.TRUECOLOR;
  if (mode === 'terminal') bits |= MTTS.VT100 | MTTS.MOUSE | MTTS.OSC_PALETTE;
  if (charset === 'utf-8') bits |= MTTS.UTF8;
  if (screenReader) bits |= MTTS.SCREEN_READER;
  return bits;
}

// DEFAULT_SUPPORTS are the GMCP packages the page asks a game for, unless
// the named target lists its own (targets.json's "gmcp").
export const DEFAULT_SUPPORTS = Object.freeze(['Char 1', 'Char.Vitals 1', 'Room 1', 'Comm.Channel 1']);

const SUPPORT = /^[A-Za-z][A-Za-z0-9_.-]{0,63} [0-9]{1,3}$/;

// supportsList is the Core.Supports.Set list: the target's, where it is a
// list of "Package N" strings, else DEFAULT_SUPPORTS.
export function supportsList(fromTarget) {
  if (!Array.isArray(fromTarget)) return [...DEFAULT_SUPPORTS];
  return fromTarget.filter((s) => typeof s === 'string' && SUPPORT.test(s)).slice(0, 64);
}

// helloMessages are the control messages the page sends once a session
// opens: GMCP Core.Hello with the gateway's version (the page is part of
// the gateway) and Core.Supports.Set.
export function helloMessages(version, supports) {
  return [
    { type: 'gmcp', package: 'Core.Hello', data: { client: CLIENT, version: String(version || 'unknown') } },
    { type: 'gmcp', package: 'Core.Supports.Set', data: supportsList(supports) },
  ];
}

// ---- the game's messages, as events ---------------------------------------------

// PACKAGE is what a GMCP package name may be ("Char.Vitals", "Room.Info").
const PACKAGE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

// mudEvent turns a control message from the gateway into the detail of
// the page's event and of the message posted to the parent: {type:"gmcp",
// package, data?}, {type:"msdp", data} or {type:"prompt"}; null for other
// messages and malformed ones. A GMCP message whose JSON was malformed
// arrives with its data as a string, and is passed on so.
export function mudEvent(m) {
  if (m === null || typeof m !== 'object') return null;
  switch (m.type) {
    case 'gmcp': {
      if (typeof m.package !== 'string' || !PACKAGE.test(m.package)) return null;
      const ev = { type: 'gmcp', package: m.package };
      if (m.data !== undefined) ev.data = m.data;
      return ev;
    }
    case 'msdp':
      if (m.data === null || typeof m.data !== 'object') return null;
      return { type: 'msdp', data: m.data };
    case 'prompt':
      return { type: 'prompt' };
    default:
      return null;
  }
}

// toParent is what the page posts to the window that frames it.
export function toParent(ev) {
  return { source: 'wstelnet', ...ev };
}

// MAX_FROM_PARENT bounds what one message from the parent may send to the
// game (its JSON, or its text): well under the gateway's -max-message,
// whose excess would end the session.
export const MAX_FROM_PARENT = 16 * 1024;

// fromParent checks a message the parent window posted: {type:"gmcp",
// package, data?}, {type:"msdp", data} or {type:"send", text}, returned
// as the control message to send to the gateway ({type:"gmcp"|"msdp"...})
// or {type:"send", text}; null for anything else. Where it came from is
// checked before (originAllowed).
export function fromParent(data) {
  if (data === null || typeof data !== 'object') return null;
  switch (data.type) {
    case 'gmcp': {
      if (typeof data.package !== 'string' || !PACKAGE.test(data.package)) return null;
      const m = { type: 'gmcp', package: data.package };
      if (data.data !== undefined) m.data = data.data;
      return fits(m) ? m : null;
    }
    case 'msdp': {
      if (data.data === null || typeof data.data !== 'object') return null;
      const m = { type: 'msdp', data: data.data };
      return fits(m) ? m : null;
    }
    case 'send':
      if (typeof data.text !== 'string' || data.text.length > MAX_FROM_PARENT) return null;
      return { type: 'send', text: data.text };
    default:
      return null;
  }
}

// fits says whether m can be sent as JSON of at most MAX_FROM_PARENT
// characters (a cycle or a BigInt cannot).
function fits(m) {
  try {
    return JSON.stringify(m).length <= MAX_FROM_PARENT;
  } catch {
    return false;
  }
}

// ---- origins: who may frame the page, and so talk to it -------------------------------

const SOURCE = /^(https?):\/\/(\*\.)?([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::([0-9]{1,5}|\*))?$/;

function defaultPort(scheme) {
  return scheme === 'https' ? '443' : '80';
}

// originAllowed says whether origin (an event's origin, "https://x.org")
// is one of sources, the gateway's -frame-ancestors as CSP writes them
// ("'self'", "https://bbs.example.org", "https://*.example.org:*"),
// matched as CSP matches frame-ancestors: a wildcard host stands for its
// subdomains (not itself), no port means the scheme's default, and an
// http source also allows https on its host. selfOrigin is the page's own.
export function originAllowed(origin, sources, selfOrigin) {
  let u;
  try {
    u = new URL(String(origin));
  } catch {
    return false; // "null" (a sandboxed or opaque origin) and nonsense
  }
  if (u.origin !== String(origin)) return false; // a URL, not an origin
  const scheme = u.protocol.slice(0, -1);
  const host = u.hostname;
  const port = u.port || defaultPort(scheme);
  for (const raw of sources) {
    const s = String(raw).toLowerCase();
    if (s === "'self'") {
      if (u.origin === selfOrigin) return true;
      continue;
    }
    const m = SOURCE.exec(s);
    if (!m) continue;
    const [, sScheme, wild, sHost, sPort] = m;
    const upgrade = sScheme === 'http' && scheme === 'https';
    if (sScheme !== scheme && !upgrade) continue;
    if (wild ? !host.endsWith('.' + sHost) : host !== sHost) continue;
    if (sPort === '*') return true;
    const want = sPort ?? defaultPort(sScheme);
    if (port === want || (upgrade && want === '80' && port === '443')) return true;
  }
  return false;
}

// parentOrigin is the one origin the page posts to, or null (post
// nothing): never "*", since the game's data (a character's state) is
// for the site the operator named. The parent's origin as the browser
// says it (location.ancestorOrigins, Chromium and Safari), else as a
// message from the parent showed it (learned), else as the referrer
// shows it, if it is allowed; else the only exact origin of the list.
export function parentOrigin({ sources, selfOrigin, ancestor, learned, referrer }) {
  const ok = (o) => typeof o === 'string' && o !== '' && originAllowed(o, sources, selfOrigin);
  // "null": the parent hides its origin (an iframe with referrerpolicy="no-referrer").
  if (ancestor !== undefined && ancestor !== null && ancestor !== 'null') return ok(ancestor) ? ancestor : null;
  if (ok(learned)) return learned;
  try {
    const r = referrer ? new URL(referrer).origin : '';
    if (ok(r)) return r;
  } catch {
    // no referrer, or not a URL
  }
  const exact = sources.map((s) => (s === "'self'" ? selfOrigin : s)).filter((s) => SOURCE.test(s) && !s.includes('*'));
  return exact.length === 1 ? exact[0] : null;
}

// readSources reads the meta tag's list of -frame-ancestors.
export function readSources(content) {
  return String(content ?? '').split(/\s+/).filter((s) => s !== '');
}

// ---- the vitals bar ------------------------------------------------------------------

// MAX_VITALS bounds the bar: a package with many numbers shows its first.
export const MAX_VITALS = 6;

const LABELS = { hp: 'HP', mp: 'MP', sp: 'SP', ep: 'EP', wp: 'WP', mv: 'MV', nl: 'XP' };
const KINDS = {
  hp: 'hp', health: 'hp', hits: 'hp', life: 'hp',
  mp: 'mp', mana: 'mp', sp: 'mp', spirit: 'mp', magic: 'mp',
  mv: 'mv', moves: 'mv', move: 'mv', movement: 'mv', ep: 'mv', energy: 'mv', stamina: 'mv', endurance: 'mv',
};

const norm = (k) => k.toLowerCase().replace(/[_-]/g, '');

// number reads a vital: a number, or a string of one (IRE games send "4500").
function number(v) {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return null;
}

// vitals reads Char.Vitals (and the maxima of Char.MaxStats, where a game
// sends them apart, as Aardwolf does) into the bar's entries: [{key,
// label, value, max, kind}], max null when unknown, kind one of hp, mp,
// mv, other (the colour). The maxima pair by name: maxhp, hpmax, max_hp,
// hp_max. Whatever the numbers are called, they are shown.
export function vitals(data, maxStats) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return [];
  const maxima = new Map();
  for (const src of [maxStats, data]) {
    if (src === null || typeof src !== 'object') continue;
    for (const [k, v] of Object.entries(src)) {
      const n = number(v);
      const key = norm(k);
      if (n === null) continue;
      if (key.startsWith('max') && key.length > 3) maxima.set(key.slice(3), n);
      else if (key.endsWith('max') && key.length > 3) maxima.set(key.slice(0, -3), n);
    }
  }
  const out = [];
  for (const [k, v] of Object.entries(data)) {
    const value = number(v);
    const key = norm(k);
    if (value === null || key.startsWith('max') || key.endsWith('max') || key === '') continue;
    let max = maxima.get(key) ?? null;
    if (max === null && key === 'nl') max = 100; // IRE: per cent to the next level
    out.push({ key: k, label: label(k), value, max, kind: KINDS[key] ?? 'other' });
    if (out.length === MAX_VITALS) break;
  }
  return out;
}

function label(k) {
  const key = norm(k);
  if (LABELS[key]) return LABELS[key];
  if (key.length <= 3) return key.toUpperCase();
  return k.charAt(0).toUpperCase() + k.slice(1).toLowerCase().replace(/[_-]/g, ' ');
}

// MSDP_VITALS are the standard MSDP variables of the vitals bar.
const MSDP_VITALS = ['HEALTH', 'HEALTH_MAX', 'MANA', 'MANA_MAX', 'MOVEMENT', 'MOVEMENT_MAX'];

// msdpVitals merges an MSDP message's vitals (HEALTH, HEALTH_MAX, MANA...)
// into held, the ones received before (MSDP sends each as it changes),
// and says whether any came.
export function msdpVitals(held, data) {
  let any = false;
  if (data === null || typeof data !== 'object') return false;
  for (const name of MSDP_VITALS) {
    if (data[name] !== undefined && number(data[name]) !== null) {
      held[name] = data[name];
      any = true;
    }
  }
  return any;
}

// fraction is how full an entry's bar is, from 0 to 1 (null: no maximum).
export function fraction({ value, max }) {
  if (max === null || !(max > 0)) return null;
  return Math.min(1, Math.max(0, value / max));
}

// ---- MSSP, in the targets menu ---------------------------------------------------------

// msspSummary words what a game says of itself (MSSP, in targets.json's
// "mssp": {"PLAYERS": "3", "UPTIME": "1700000000", ...}) for the menu:
// "3 players · up 2 days"; '' when it says neither. now is in ms.
export function msspSummary(mssp, now) {
  if (mssp === null || typeof mssp !== 'object') return '';
  const get = (name) => {
    for (const [k, v] of Object.entries(mssp)) {
      if (k.toUpperCase() === name) return Array.isArray(v) ? v[0] : v;
    }
    return undefined;
  };
  const parts = [];
  const players = number(get('PLAYERS'));
  if (players !== null && players >= 0) parts.push(`${players} ${players === 1 ? 'player' : 'players'}`);
  const started = number(get('UPTIME')); // MSSP: when the game started, in Unix time
  if (started !== null && started > 0) {
    const secs = now / 1000 - started;
    if (secs >= 0) parts.push(`up ${duration(secs)}`);
  }
  return parts.join(' · ');
}

function duration(secs) {
  const min = Math.floor(secs / 60);
  if (min < 1) return 'under a minute';
  if (min < 60) return `${min} min`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} days`;
}
