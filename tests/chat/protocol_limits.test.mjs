// protocol_limits: the connection limits of hetki-chat: a frame over HETKI_CHAT_MAX_FRAME is
// closed with 1009, text over HETKI_CHAT_MAX_TEXT (bytes, not characters) gets `too_long`
// and the connection stays, too many messages get `rate` and then 1008, and a silent
// connection is closed with 1008 after HETKI_CHAT_IDLE_S.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ChatClient, mid } from './lib/client.mjs';
import { Stack, httpGet, sleep } from '../lib/stack.mjs';

const T = 'ctlimits';
let stack;
let chat; // defaults for sizes, a low rate
let idle; // a short idle timeout

before(async () => {
  stack = new Stack('limits');
  await stack.redis();
  await stack.router('rt-a');
  chat = await stack.chat('chat-lim', { HETKI_CHAT_RATE: '5' });
  idle = await stack.chat('chat-idle', { HETKI_CHAT_IDLE_S: '2' });
}, { timeout: 60000 });

after(async () => {
  await stack?.stop();
});

test('a frame over the maximum is closed with 1009', { timeout: 30000 }, async () => {
  const c = await ChatClient.connect(chat.url);
  await c.hello(T, 'en');
  c.send({ type: 'message', id: mid('big'), text: 'x'.repeat(20000) });
  const closed = await Promise.race([c.closed, sleep(5000).then(() => null)]);
  assert.ok(closed, 'closed');
  assert.equal(closed.code, 1009);
  assert.ok(!c.frames.some((f) => f.type === 'ack'));
  // The service is fine.
  assert.equal((await httpGet(chat.adminPort, '/healthz'))?.status, 200);
});

test('text over the maximum: too_long, and the connection stays', { timeout: 30000 }, async () => {
  const c = await ChatClient.connect(chat.url);
  await c.hello(T, 'fi');
  // 2,049 x "ä" is 4,098 bytes: over 4,096 although only 2,049 characters.
  const long = mid('long');
  c.send({ type: 'message', id: long, text: 'ä'.repeat(2049) });
  const e = await c.type('error', 5000);
  assert.equal(e.code, 'too_long');
  assert.equal(e.id, long);
  assert.ok(e.text, 'the error says what is wrong');
  assert.ok(c.isOpen);
  // Exactly at the limit is fine.
  const fits = mid('fits');
  c.send({ type: 'message', id: fits, text: 'ä'.repeat(2048) });
  const ack = await c.type('ack', 10000, fits);
  assert.ok(ack.contact);
  assert.ok(!c.frames.some((f) => f.type === 'ack' && f.id === long));
  await c.close();
});

test('too many messages: rate, then closed with 1008', { timeout: 30000 }, async () => {
  const c = await ChatClient.connect(chat.url);
  await c.hello(T, 'en');
  const ids = [];
  for (let i = 0; i < 40 && c.isOpen; i++) {
    const id = mid('rate');
    ids.push(id);
    c.send({ type: 'message', id, text: `flood ${i}` });
    await sleep(20);
  }
  const closed = await Promise.race([c.closed, sleep(8000).then(() => null)]);
  const rate = c.frames.filter((f) => f.type === 'error' && f.code === 'rate');
  assert.ok(rate.length >= 1, `a rate error first: ${JSON.stringify(c.frames)}`);
  const firstRate = c.frames.findIndex((f) => f.type === 'error' && f.code === 'rate');
  assert.ok(firstRate >= 0);
  assert.ok(closed, 'closed after repeated flooding');
  assert.equal(closed.code, 1008);
  const acked = c.frames.filter((f) => f.type === 'ack').length;
  assert.ok(acked <= 5, `at most the rate was accepted (${acked})`);
  // Other customers are not affected.
  const d = await ChatClient.connect(chat.url);
  await d.hello(T, 'en');
  const ok = mid('calm');
  d.send({ type: 'message', id: ok, text: 'calm customer' });
  await d.type('ack', 10000, ok);
  await d.close();
});

test('a silent connection is closed with 1008 after the idle time', { timeout: 30000 }, async () => {
  const c = await ChatClient.connect(idle.url);
  const started = Date.now();
  await c.hello(T, 'en');
  const closed = await Promise.race([c.closed, sleep(9000).then(() => null)]);
  const after = Date.now() - started;
  assert.ok(closed, 'closed for idleness');
  assert.equal(closed.code, 1008);
  assert.ok(after >= 1500, `not before the idle time (${after} ms)`);

  // Activity keeps a connection open past the idle time.
  const d = await ChatClient.connect(idle.url);
  await d.hello(T, 'en');
  for (let i = 0; i < 6; i++) {
    await sleep(700);
    d.send({ type: 'typing' });
  }
  assert.ok(d.isOpen, 'an active connection stays');
  await d.close();
});
