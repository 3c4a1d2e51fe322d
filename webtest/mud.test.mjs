// The page's MUD logic (static/mud.js): MTTS bits per mode, GMCP hello,
// the game's messages as events, the checks on what a parent window
// posts, origins as CSP frame-ancestors matches them, the vitals bar's
// numbers and the menu's MSSP line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SUPPORTS, MAX_FROM_PARENT, MAX_VITALS, MTTS, fraction, fromParent, helloMessages, msspSummary,
  msdpVitals, mttsBits, mudEvent, originAllowed, parentOrigin, readSources, supportsList, toParent, vitals,
} from '../static/mud.js';

test('MTTS: the bits say what each mode really does', () => {
  const line = mttsBits({ mode: 'line', charset: 'utf-8', screenReader: false });
  assert.equal(line, MTTS.ANSI | MTTS.UTF8 | MTTS.COLORS_256 | MTTS.TRUECOLOR);
  assert.equal(line, 269);
  assert.equal(line & (MTTS.VT100 | MTTS.MOUSE | MTTS.OSC_PALETTE), 0, 'the console moves no cursor and reports no mouse');
  const term = mttsBits({ mode: 'terminal', charset: 'utf-8', screenReader: false });
  assert.equal(term, 1 + 2 + 4 + 8 + 16 + 32 + 256);
  assert.equal(mttsBits({ mode: 'terminal', charset: 'cp437', screenReader: false }) & MTTS.UTF8, 0, 'UTF-8 only when that is the charset');
  assert.equal(mttsBits({ mode: 'terminal', charset: 'utf-8', screenReader: true }), term | 64);
  assert.equal(mttsBits({ mode: 'line', charset: 'iso-8859-1', screenReader: true }), 1 + 8 + 256 + 64);
  for (const bits of [line, term]) {
    assert.equal(bits & (MTTS.PROXY | MTTS.MNES | MTTS.SSL | MTTS.MSLP), 0, 'the gateway adds proxy, MNES and SSL; links are not supported');
  }
});

test('GMCP hello: Core.Hello with the version, then Core.Supports.Set', () => {
  assert.deepEqual(helloMessages('1.2.3'), [
    { type: 'gmcp', package: 'Core.Hello', data: { client: 'wstelnet', version: '1.2.3' } },
    { type: 'gmcp', package: 'Core.Supports.Set', data: [...DEFAULT_SUPPORTS] },
  ]);
  assert.equal(helloMessages('').at(0).data.version, 'unknown');
  assert.deepEqual(helloMessages('1', ['Char 1', 'IRE.Rift 1', 42, 'bad', 'Room.Info x'])[1].data, ['Char 1', 'IRE.Rift 1']);
  assert.deepEqual(supportsList([]), [], 'a target may ask for nothing');
  assert.deepEqual(supportsList(undefined), [...DEFAULT_SUPPORTS]);
});

test('the game\'s messages become events; the rest does not', () => {
  assert.deepEqual(mudEvent({ type: 'gmcp', package: 'Char.Vitals', data: { hp: 10 } }), { type: 'gmcp', package: 'Char.Vitals', data: { hp: 10 } });
  assert.deepEqual(mudEvent({ type: 'gmcp', package: 'Core.Goodbye' }), { type: 'gmcp', package: 'Core.Goodbye' }, 'no data: no data field');
  assert.deepEqual(mudEvent({ type: 'gmcp', package: 'Char.Bad', data: '{hp:' }), { type: 'gmcp', package: 'Char.Bad', data: '{hp:' }, 'malformed JSON arrives as a string');
  assert.deepEqual(mudEvent({ type: 'gmcp', package: 'Char.Vitals', data: null }).data, null);
  assert.deepEqual(mudEvent({ type: 'msdp', data: { HEALTH: '10', LIST: ['a', 'b'] } }), { type: 'msdp', data: { HEALTH: '10', LIST: ['a', 'b'] } });
  assert.deepEqual(mudEvent({ type: 'prompt', extra: 1 }), { type: 'prompt' });
  for (const m of [null, 'gmcp', { type: 'gmcp' }, { type: 'gmcp', package: '' }, { type: 'gmcp', package: 'a b' },
    { type: 'gmcp', package: 7 }, { type: 'msdp' }, { type: 'msdp', data: 'x' }, { type: 'echo', remote: true }]) {
    assert.equal(mudEvent(m), null, JSON.stringify(m));
  }
  assert.deepEqual(toParent({ type: 'gmcp', package: 'Char.Vitals', data: { hp: 1 } }),
    { source: 'wstelnet', type: 'gmcp', package: 'Char.Vitals', data: { hp: 1 } });
});

test('the parent may send GMCP, MSDP and lines; nothing else, nothing huge', () => {
  assert.deepEqual(fromParent({ type: 'gmcp', package: 'Char.Skills.Get', data: { group: 'x' } }), { type: 'gmcp', package: 'Char.Skills.Get', data: { group: 'x' } });
  assert.deepEqual(fromParent({ type: 'gmcp', package: 'Core.Ping' }), { type: 'gmcp', package: 'Core.Ping' });
  assert.deepEqual(fromParent({ type: 'msdp', data: { REPORT: ['HEALTH'] } }), { type: 'msdp', data: { REPORT: ['HEALTH'] } });
  assert.deepEqual(fromParent({ type: 'send', text: 'look', source: 'x' }), { type: 'send', text: 'look' });
  const cyclic = {};
  cyclic.self = cyclic;
  for (const d of [null, undefined, 'look', 42, { type: 'send' }, { type: 'send', text: 3 }, { type: 'gmcp', package: 'x y' },
    { type: 'gmcp', package: 'A', data: cyclic }, { type: 'gmcp', package: 'A', data: 10n }, { type: 'msdp', data: 'x' },
    { type: 'echo' }, { type: 'break' }, { type: 'resize', cols: 1, rows: 1 }, { type: 'ack', offset: 1 },
    { type: 'send', text: 'x'.repeat(MAX_FROM_PARENT + 1) }, { type: 'gmcp', package: 'A', data: 'x'.repeat(MAX_FROM_PARENT) }]) {
    assert.equal(fromParent(d), null, String(d?.type));
  }
});

test('origins match -frame-ancestors as CSP matches them', () => {
  const self = 'https://gw.example.org';
  const cases = [
    // [origin, sources, allowed]
    ['https://bbs.example.org', ['https://bbs.example.org'], true],
    ['https://bbs.example.org:443', ['https://bbs.example.org'], false], // not an origin as browsers write it
    ['https://evil.example.org', ['https://bbs.example.org'], false],
    ['https://bbs.example.org.evil.net', ['https://bbs.example.org'], false],
    ['http://bbs.example.org', ['https://bbs.example.org'], false],
    ['https://bbs.example.org', ['http://bbs.example.org'], true], // an http source allows https
    ['https://bbs.example.org:8443', ['https://bbs.example.org'], false],
    ['https://bbs.example.org:8443', ['https://bbs.example.org:8443'], true],
    ['https://bbs.example.org:8443', ['https://bbs.example.org:*'], true],
    ['http://localhost:1234', ['http://localhost:1234'], true],
    ['http://localhost:1235', ['http://localhost:1234'], false],
    ['https://a.example.org', ['https://*.example.org'], true],
    ['https://a.b.example.org', ['https://*.example.org'], true],
    ['https://example.org', ['https://*.example.org'], false],
    ['https://badexample.org', ['https://*.example.org'], false],
    ['https://gw.example.org', ["'self'"], true],
    ['https://other.example.org', ["'self'"], false],
    ['http://[::1]:8000', ['http://[::1]:8000'], true],
    ['null', ['https://bbs.example.org', "'self'"], false],
    ['', ['https://bbs.example.org'], false],
    ['https://bbs.example.org', [], false],
    ['https://bbs.example.org', ['*'], false], // never a wildcard for everyone
    ['https://bbs.example.org', ['HTTPS://BBS.EXAMPLE.ORG'], true],
  ];
  for (const [origin, sources, want] of cases) {
    assert.equal(originAllowed(origin, sources, self), want, `${origin} against ${sources.join(' ')}`);
  }
});

test('the page posts to one origin, never to "*"', () => {
  const self = 'https://gw.example.org';
  const sources = ['https://bbs.example.org', 'https://*.games.example'];
  // The browser says who the parent is: that, if allowed, or nothing.
  assert.equal(parentOrigin({ sources, selfOrigin: self, ancestor: 'https://bbs.example.org' }), 'https://bbs.example.org');
  assert.equal(parentOrigin({ sources, selfOrigin: self, ancestor: 'https://x.games.example' }), 'https://x.games.example');
  assert.equal(parentOrigin({ sources, selfOrigin: self, ancestor: 'https://evil.example', learned: 'https://bbs.example.org' }), null);
  // "null": a parent that hides its origin; then as without ancestorOrigins.
  assert.equal(parentOrigin({ sources, selfOrigin: self, ancestor: 'null' }), 'https://bbs.example.org');
  // Without ancestorOrigins (Firefox): learned, then the referrer, then the one exact origin.
  assert.equal(parentOrigin({ sources, selfOrigin: self, learned: 'https://y.games.example' }), 'https://y.games.example');
  assert.equal(parentOrigin({ sources, selfOrigin: self, learned: 'https://evil.example' }), 'https://bbs.example.org');
  assert.equal(parentOrigin({ sources, selfOrigin: self, referrer: 'https://z.games.example/play?x' }), 'https://z.games.example');
  assert.equal(parentOrigin({ sources, selfOrigin: self, referrer: 'https://evil.example/' }), 'https://bbs.example.org');
  assert.equal(parentOrigin({ sources: ['https://a.example', 'https://b.example'], selfOrigin: self }), null, 'two candidates: wait to learn which');
  assert.equal(parentOrigin({ sources: ['https://*.example'], selfOrigin: self }), null);
  assert.equal(parentOrigin({ sources: ["'self'"], selfOrigin: self }), self);
  assert.equal(parentOrigin({ sources: [], selfOrigin: self }), null, 'no -frame-ancestors: nobody');
  assert.deepEqual(readSources("  'self'  https://a.example\thttps://*.b.example "), ["'self'", 'https://a.example', 'https://*.b.example']);
  assert.deepEqual(readSources(''), []);
});

test('vitals: numbers and their maxima, however a game names them', () => {
  // IRE: strings, maxhp
  assert.deepEqual(vitals({ hp: '4500', maxhp: '5000', mp: '300', maxmp: '300', nl: '42', string: 'H:4500/5000' }), [
    { key: 'hp', label: 'HP', value: 4500, max: 5000, kind: 'hp' },
    { key: 'mp', label: 'MP', value: 300, max: 300, kind: 'mp' },
    { key: 'nl', label: 'XP', value: 42, max: 100, kind: 'other' },
  ]);
  // hpmax, max_moves, a number without maximum
  assert.deepEqual(vitals({ hp: 10, hpmax: 20, moves: 5, max_moves: 50, gold: 7 }), [
    { key: 'hp', label: 'HP', value: 10, max: 20, kind: 'hp' },
    { key: 'moves', label: 'Moves', value: 5, max: 50, kind: 'mv' },
    { key: 'gold', label: 'Gold', value: 7, max: null, kind: 'other' },
  ]);
  // Aardwolf: the maxima in Char.MaxStats
  assert.deepEqual(vitals({ hp: 90, mana: 80 }, { maxhp: 100, maxmana: 200 }).map((v) => [v.label, v.value, v.max, v.kind]),
    [['HP', 90, 100, 'hp'], ['Mana', 80, 200, 'mp']]);
  // MSDP: each variable as it changes, merged; others left out.
  const held = {};
  assert.equal(msdpVitals(held, { HEALTH: '10', HEALTH_MAX: '20', ROOM: { VNUM: '1' }, LEVEL: '5' }), true);
  assert.equal(msdpVitals(held, { MANA: '3' }), true);
  assert.equal(msdpVitals(held, { ROOM_NAME: 'x' }), false);
  assert.equal(msdpVitals(held, 'x'), false);
  assert.deepEqual(vitals(held).map((v) => [v.label, v.value, v.max, v.kind]), [['Health', 10, 20, 'hp'], ['Mana', 3, null, 'mp']]);
  assert.deepEqual(vitals(null), []);
  assert.deepEqual(vitals('hp 10'), []);
  assert.deepEqual(vitals([1, 2]), []);
  assert.deepEqual(vitals({ hp: 'lots', x: {}, y: Infinity }), []);
  const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`v${i}`, i]));
  assert.equal(vitals(many).length, MAX_VITALS);
  assert.equal(fraction({ value: 5, max: 10 }), 0.5);
  assert.equal(fraction({ value: 15, max: 10 }), 1);
  assert.equal(fraction({ value: -5, max: 10 }), 0);
  assert.equal(fraction({ value: 5, max: null }), null);
  assert.equal(fraction({ value: 5, max: 0 }), null);
});

test('MSSP: players and uptime, in words', () => {
  const now = 1_700_000_000_000;
  assert.equal(msspSummary({ NAME: 'x', PLAYERS: '3', UPTIME: String(now / 1000 - 2 * 86400 - 5) }, now), '3 players · up 2 days');
  assert.equal(msspSummary({ players: 1, uptime: now / 1000 - 600 }, now), '1 player · up 10 min');
  assert.equal(msspSummary({ PLAYERS: ['0'], UPTIME: String(now / 1000 - 5 * 3600) }, now), '0 players · up 5 h');
  assert.equal(msspSummary({ PLAYERS: '12' }, now), '12 players');
  assert.equal(msspSummary({ UPTIME: String(now / 1000 - 5) }, now), 'up under a minute');
  assert.equal(msspSummary({ UPTIME: String(now / 1000 + 60) }, now), '', 'a start in the future says nothing');
  assert.equal(msspSummary({ PLAYERS: 'many' }, now), '');
  assert.equal(msspSummary(null, now), '');
  assert.equal(msspSummary('3', now), '');
});
