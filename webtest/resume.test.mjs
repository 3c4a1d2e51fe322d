// Session resume's bookkeeping (static/resume.js): offsets and acks of the
// output, the input kept until the gateway has it, and the retry delays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK_EVERY, Input, MAX_QUEUED, Output, RETRY_MAX, isLoss, retryDelay } from '../static/resume.js';

const bytes = (s) => new TextEncoder().encode(s);
const text = (chunks) => new TextDecoder().decode(concat(chunks));
function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

test('output: an ack within a second of anything, at once every 64 KiB', () => {
  const o = new Output();
  assert.equal(o.ack(), null, 'nothing received, nothing to acknowledge');
  assert.equal(o.take(10), 'later');
  assert.equal(o.take(ACK_EVERY - 11), 'later');
  assert.equal(o.take(1), 'now');
  assert.deepEqual(o.ack(), { type: 'ack', offset: ACK_EVERY });
  assert.equal(o.ack(), null, 'acknowledged already');
  assert.equal(o.take(0), '');
  assert.equal(o.take(3 * ACK_EVERY), 'now', 'one big frame');
  assert.deepEqual(o.ack(), { type: 'ack', offset: 4 * ACK_EVERY });
});

test('output: a resume asks for what we do not have, and acknowledges the rest', () => {
  const o = new Output();
  o.take(1000);
  o.ack();
  o.take(234);
  assert.deepEqual(o.resumeMessage('abc'), { type: 'resume', id: 'abc', offset: 1234 });
  assert.equal(o.ack(), null, 'the resume acknowledged it');
  o.take(6);
  assert.deepEqual(o.ack(), { type: 'ack', offset: 1240 });
});

test('input: sent bytes are kept until acknowledged, then forgotten', () => {
  const i = new Input();
  i.write(bytes('hello '), true);
  assert.equal(text(i.take()), 'hello ');
  i.write(bytes('world'), true);
  assert.equal(text(i.take()), 'world');
  assert.equal(i.kept, 11);
  i.acked(3);
  assert.equal(i.kept, 8);
  i.acked(2); // backwards: ignored
  i.acked(99); // beyond what was sent: ignored
  assert.equal(i.kept, 8);
  i.acked(11);
  assert.equal(i.kept, 0);
  assert.deepEqual(i.chunks, []);
});

test('input: after a resume exactly the bytes past "received" go again, then what was typed meanwhile', () => {
  const i = new Input();
  for (const w of ['one ', 'two ', 'three ']) {
    i.write(bytes(w), true);
    i.take();
  }
  i.acked(4);
  // The connection is lost: typing goes on.
  assert.equal(i.write(bytes('four'), false), true);
  assert.equal(i.queued, 4);
  // The gateway had taken "one tw" (6 bytes): "o three four" is what is left.
  assert.equal(i.resumed(6), true);
  assert.equal(text(i.take()), 'o three four');
  assert.equal(i.queued, 0);
  i.acked(18);
  assert.equal(i.kept, 0);
});

test('input: a resume at the last ack, or with all bytes taken, sends just what is due', () => {
  const i = new Input();
  i.write(bytes('abc'), true);
  i.take();
  i.acked(3);
  assert.equal(i.resumed(3), true);
  assert.deepEqual(i.take(), []);
  i.write(bytes('def'), true);
  i.take();
  assert.equal(i.resumed(6), true, 'the gateway took it all, unacknowledged');
  assert.deepEqual(i.take(), []);
  assert.equal(i.kept, 0);
});

test('input: a resume that claims bytes never sent, or fewer than acknowledged, is refused', () => {
  const i = new Input();
  i.write(bytes('abcdef'), true);
  i.take();
  i.acked(4);
  i.write(bytes('queued'), false);
  assert.equal(i.resumed(3), false, 'it acknowledged 4 before');
  assert.equal(i.resumed(7), false, 'only 6 were sent; the rest is queued');
  assert.equal(i.resumed(1.5), false);
  assert.equal(i.resumed(5), true);
  assert.equal(text(i.take()), 'fqueued');
});

test('input: what is typed while disconnected is bounded; sending is not', () => {
  const i = new Input(10);
  assert.equal(i.write(bytes('12345678'), false), true);
  assert.equal(i.write(bytes('901'), false), false, 'past the bound: refused');
  assert.equal(i.write(bytes('90'), false), true);
  assert.equal(i.queued, 10);
  assert.equal(i.write(bytes('x'.repeat(100)), true), true, 'connected: sent at once, no bound');
  assert.equal(new Input().maxQueued, MAX_QUEUED);
});

test('input: many losses, each at a different point, lose and repeat nothing', () => {
  const i = new Input();
  const typed = [];
  let gateway = ''; // what the target got, in order
  let taken = 0;
  for (let round = 0; round < 50; round++) {
    const w = `<${round}>`;
    typed.push(w);
    i.write(bytes(w), round % 3 !== 0);
    // The socket delivers some of what was sent, then is lost.
    const sent = text(i.take());
    const arrived = sent.slice(0, (round * 7) % (sent.length + 1));
    gateway += arrived;
    taken += bytes(arrived).length;
    if (round % 4 === 0) i.acked(taken);
    assert.equal(i.resumed(taken), true);
  }
  gateway += text(i.take());
  assert.equal(gateway, typed.join(''));
});

test('retry: about 0.5 s, doubling to 5 s', () => {
  const mid = () => 0.5;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 20].map((n) => retryDelay(n, mid)), [500, 1000, 2000, 4000, 5000, 5000, 5000]);
  assert.equal(retryDelay(1, () => 0), 400);
  assert.ok(retryDelay(30, () => 0.999) <= RETRY_MAX * 1.2);
});

test('a loss is 1006, or 1001 the gateway did not announce', () => {
  assert.equal(isLoss(1006, false), true);
  assert.equal(isLoss(1006, true), true);
  assert.equal(isLoss(1001, false), true, 'a proxy going away');
  assert.equal(isLoss(1001, true), false, 'the gateway shutting down says closed first');
  assert.equal(isLoss(1000, false), false);
  assert.equal(isLoss(4001, false), false, 'resumed elsewhere');
});

test('output: acks follow what the view has taken; a resume asks from what was received', () => {
  const o = new Output();
  assert.equal(o.take(3 * ACK_EVERY, false), '', 'received, not yet shown: nothing owed');
  assert.equal(o.ack(), null);
  assert.equal(o.showed(ACK_EVERY - 1), 'later');
  assert.equal(o.showed(1), 'now');
  assert.deepEqual(o.ack(), { type: 'ack', offset: ACK_EVERY });
  assert.equal(o.showed(10 * ACK_EVERY), 'now', 'never more than was received');
  assert.deepEqual(o.ack(), { type: 'ack', offset: 3 * ACK_EVERY });
  o.take(500, false);
  assert.deepEqual(o.resumeMessage('id'), { type: 'resume', id: 'id', offset: 3 * ACK_EVERY + 500 });
  assert.equal(o.showed(500), '', 'the resume acknowledged them');
});
