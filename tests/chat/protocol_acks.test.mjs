// protocol_acks: customer messages are acked in message order and only after the router
// stored them; with the router killed nothing is acked and the customer hears `unavailable`
// (HETKI_CHAT_ACK_TIMEOUT_MS), and after a restart the resent message (same client id) is
// acked once and stored once. Real redis-server, hetki-router and
// hetki-chat on free loopback ports, a real websocket client.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ChatClient, mid } from './lib/client.mjs';
import { Stack, sleep, waitUntil } from '../lib/stack.mjs';

const T = 'ctacks';
let stack;
let chat;

before(async () => {
  stack = new Stack('acks');
  await stack.redis();
  await stack.router('rt-a');
  chat = await stack.chat('chat-a', { HETKI_CHAT_ACK_TIMEOUT_MS: '1500' });
}, { timeout: 60000 });

after(async () => {
  await stack?.stop();
});

/** Sends id until an ack for it comes (the widget's resend), up to ms; returns the ack. */
async function sendUntilAcked(c, id, text, ms) {
  const until = Date.now() + ms;
  for (;;) {
    c.send({ type: 'message', id, text });
    try {
      return await c.type('ack', 2500, id);
    } catch (e) {
      if (Date.now() > until) {
        throw e;
      }
    }
  }
}

test('acks come in message order, each after the router stored the message', { timeout: 60000 },
  async () => {
    const c = await ChatClient.connect(chat.url);
    const w = await c.hello(T, 'en');
    assert.equal(typeof w.session, 'string');
    assert.ok(w.session.length > 0, 'welcome has a session');
    assert.ok(typeof w.resume === 'string' && w.resume.length >= 16, 'welcome has a resume token');
    assert.deepEqual(w.history, []);

    const ids = Array.from({ length: 12 }, () => mid('ord'));
    ids.forEach((id, i) => c.send({ type: 'message', id, text: `order test ${i}` }));
    let contact = '';
    for (let i = 0; i < ids.length; i++) {
      const a = await c.take((f) => f.type === 'ack' || f.type === 'error', 15000, `ack ${i}`);
      assert.equal(a.type, 'ack', `frame ${i}: ${JSON.stringify(a)}`);
      assert.equal(a.id, ids[i], `ack ${i} is for message ${i}`);
      // Stored by the router by the time the customer hears of it.
      if (i === 0) {
        contact = a.contact;
        assert.ok(contact, 'the first ack names the contact');
        assert.equal(await stack.contactField(T, contact, 'channel'), 'chat');
        assert.ok(a.reassure, 'the first ack carries the reassurance');
        for (const k of ['class', 'target']) {
          assert.equal(typeof a.reassure[k], 'string', `reassure.${k}`);
        }
        for (const k of ['wait_s', 'promise_s']) {
          assert.equal(typeof a.reassure[k], 'number', `reassure.${k}`);
        }
        assert.ok(['urgent', 'personal', 'routine'].includes(a.reassure.class));
      } else {
        assert.equal(a.contact, contact, 'later messages belong to the same contact');
        assert.equal(await stack.rcli('SISMEMBER', `hk:{${T}}:conv:${contact}:ids`, ids[i]), '1',
          `message ${i} is in the conversation when acked`);
        assert.equal(a.reassure, undefined, 'only the first ack reassures');
      }
    }
    await waitUntil(async () => (await stack.conversation(T, contact)).length === ids.length, 5000,
      'the whole conversation');
    const conv = await stack.conversation(T, contact);
    assert.deepEqual(conv.map((m) => m.id), ids, 'the conversation is in message order');

    // A resend of an acked id is harmless: acked again, stored once.
    c.send({ type: 'message', id: ids[3], text: 'order test 3' });
    const again = await c.type('ack', 5000, ids[3]);
    assert.equal(again.contact, contact);
    assert.equal((await stack.conversation(T, contact)).length, ids.length);
    assert.deepEqual(c.frames.filter((f) => f.type === 'error'), []);
    await c.close();
  });

test('router killed: unavailable, no ack; after a restart the resend is acked once, stored once',
  { timeout: 90000 }, async () => {
    const c = await ChatClient.connect(chat.url);
    const w = await c.hello(T, 'fi');
    const first = mid('k');
    c.send({ type: 'message', id: first, text: 'ennen katkosta' });
    const a1 = await c.type('ack', 10000, first);
    const contact = a1.contact;
    // A second customer who has not written yet: its first message will be a new contact.
    const fresh = await ChatClient.connect(chat.url);
    await fresh.hello(T, 'fi');

    await stack.kill(stack.routers.get('rt-a'), 'SIGKILL');
    const m2 = mid('k');
    const f1 = mid('kf');
    c.send({ type: 'message', id: m2, text: 'katkoksen aikana' });
    fresh.send({ type: 'message', id: f1, text: 'ensimmäinen viesti katkoksen aikana' });
    // Gone to a dead router: `unavailable` after the ack timeout, no ack, connection kept.
    const e2 = await c.type('error', 5000);
    assert.deepEqual([e2.code, e2.id], ['unavailable', m2]);
    const ef = await fresh.type('error', 5000);
    assert.deepEqual([ef.code, ef.id], ['unavailable', f1]);
    const early = await c.during(1000, (f) => f.type === 'ack' && f.id === m2);
    assert.deepEqual(early, [], 'no ack while no router runs');
    assert.deepEqual(fresh.frames.filter((f) => f.type === 'ack'), []);
    for (const f of [...c.frames, ...fresh.frames].filter((x) => x.type === 'error')) {
      assert.equal(f.code, 'unavailable', `only "unavailable" errors: ${JSON.stringify(f)}`);
    }
    assert.ok(c.isOpen && fresh.isOpen, 'the customers stay connected');

    // The customer on `fresh` loses the network meanwhile and comes back with its token.
    const freshWelcome = fresh.frames.find((f) => f.type === 'welcome');
    await fresh.drop();

    await stack.router('rt-b');
    // The widget resends unacked messages with the same id.
    const a2 = await sendUntilAcked(c, m2, 'katkoksen aikana', 30000);
    assert.equal(a2.contact, contact);
    const back = await ChatClient.connect(chat.url);
    const wb = await back.hello(T, 'fi', freshWelcome.resume);
    assert.equal(wb.session, freshWelcome.session, 'resumed the same session');
    const af = await sendUntilAcked(back, f1, 'ensimmäinen viesti katkoksen aikana', 30000);
    assert.ok(af.contact && af.contact !== contact, 'a contact of its own');
    assert.ok(af.reassure, 'the first message of its contact reassures');

    // Acked once (the given-up submissions do not come back); stored once.
    await sleep(2000);
    assert.equal(back.frames.filter((f) => f.type === 'ack' && f.id === f1).length, 1,
      'one ack for the resent first message');
    assert.equal(c.frames.filter((f) => f.type === 'ack' && f.id === m2).length, 1,
      'one ack for the resent message');
    const conv = await stack.conversation(T, contact);
    assert.equal(conv.filter((m) => m.id === m2).length, 1, 'stored once');
    assert.equal(conv.filter((m) => m.id === first).length, 1);
    await waitUntil(async () => (await stack.conversation(T, af.contact)).length === 1, 5000,
      'the new contact\'s conversation');
    // The dedupe key is the message id, scoped by the session.
    assert.equal(await stack.rcli('GET', `hk:{${T}}:dedupe:chat:${wb.session}:${f1}`), af.contact,
      'one contact for the dedupe key');
    for (const x of c.frames.filter((f) => f.type === 'ack' && f.id === m2)) {
      assert.equal(x.contact, contact);
    }
    assert.ok(w.session);
    await c.close();
    await back.close();
  });
