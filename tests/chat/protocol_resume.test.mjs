// protocol_resume: two hetki-chat instances on one Redis and one router. A customer resumes on
// the other instance with the resume token and gets the whole conversation; agent replies
// (`hetki agent say`) sent while the customer is away wait in the session's outbox, arrive on
// resume, leave it on `received` and are not pushed again; then the email for async
// continuation, the proposed resolution, the customer's confirmation and `closed`, and a new
// contact for the next message.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ChatClient, mid } from './lib/client.mjs';
import { Stack, waitUntil } from '../lib/stack.mjs';

const T = 'ctresume';
let stack;
let chatA;
let chatB;

before(async () => {
  stack = new Stack('resume');
  await stack.redis();
  await stack.router('rt-a');
  chatA = await stack.chat('chat-a');
  chatB = await stack.chat('chat-b');
}, { timeout: 60000 });

after(async () => {
  await stack?.stop();
});

async function say(agent, contact, text) {
  const out = await stack.cliOk('agent', 'say', '--tenant', T, '--agent', agent, '--contact',
    contact, '--text', text);
  return out;
}

test('resume on another instance: the whole history', { timeout: 60000 }, async () => {
  const a = await ChatClient.connect(chatA.url);
  const w1 = await a.hello(T, 'sv');
  const ids = [mid('r'), mid('r'), mid('r')];
  const texts = ['Hej, min beställning har inte kommit', 'Ordernummer 12345', 'Tack på förhand'];
  for (let i = 0; i < ids.length; i++) {
    a.send({ type: 'message', id: ids[i], text: texts[i] });
    await a.type('ack', 10000, ids[i]);
  }
  await a.close();

  const b = await ChatClient.connect(chatB.url);
  const w2 = await b.hello(T, 'sv', w1.resume);
  assert.equal(w2.session, w1.session, 'the same session on the other instance');
  assert.equal(w2.lang, 'sv');
  assert.ok(typeof w2.resume === 'string' && w2.resume.length >= 16);
  assert.deepEqual(w2.history.map((m) => m.id), ids, 'the whole conversation, oldest first');
  assert.deepEqual(w2.history.map((m) => m.text), texts);
  assert.ok(w2.history.every((m) => m.from === 'customer'));
  // The conversation goes on from the other instance.
  const more = mid('r');
  b.send({ type: 'message', id: more, text: 'Jag väntar' });
  const ack = await b.type('ack', 10000, more);
  assert.equal(ack.reassure, undefined, 'not a new contact');
  await b.close();

  // A token that is not ours resumes nothing.
  const x = await ChatClient.connect(chatB.url);
  x.send({ type: 'hello', tenant: T, lang: 'sv', resume: 'not-a-real-token-0123456789abcdef' });
  const f = await x.take((fr) => fr.type === 'welcome' || fr.type === 'error', 5000);
  if (f.type === 'welcome') {
    assert.notEqual(f.session, w1.session, 'a wrong token starts a new session');
    assert.deepEqual(f.history, []);
  }
  await x.close();
});

test('outbox: agent replies while away arrive on resume, once', { timeout: 90000 }, async () => {
  const a = await ChatClient.connect(chatA.url);
  const w = await a.hello(T, 'fi');
  const m1 = mid('o');
  a.send({ type: 'message', id: m1, text: 'Pyöräni jarrut eivät toimi' });
  const ack = await a.type('ack', 10000, m1);
  const contact = ack.contact;
  a.send({ type: 'person' });
  await waitUntil(async () => (await stack.contactField(T, contact, 'reasons'))
    .includes('choice:talk_to_person'), 5000, 'talk to a person routed');
  assert.equal(await stack.contactField(T, contact, 'class'), 'personal');

  await stack.agent(T, 'aino', 'Aino Agentti');
  await stack.accept(T, 'aino', contact);
  const joined = await a.type('agent', 5000);
  assert.equal(joined.name, 'Aino Agentti');

  // Live: pushed at once; `received` takes it out of the outbox.
  await say('aino', contact, 'Hei! Autan mielelläni.');
  const live = await a.take((f) => f.type === 'message' && f.from === 'agent', 5000, 'agent message');
  assert.equal(live.name, 'Aino Agentti');
  assert.equal(live.text, 'Hei! Autan mielelläni.');
  assert.ok(live.id && typeof live.at === 'number');
  a.send({ type: 'received', id: live.id });
  await waitUntil(async () => (await stack.outboxLength(T, w.session)) === 0, 5000,
    'outbox emptied by received');

  // Away: the replies wait in the outbox.
  await a.drop();
  await say('aino', contact, 'Oletko vielä linjoilla?');
  await say('aino', contact, 'Lähetän sinulle huoltoajan sähköpostilla.');
  assert.equal(await stack.outboxLength(T, w.session), 2);

  // Back, on the other instance: the whole conversation, then the outbox.
  const b = await ChatClient.connect(chatB.url);
  const w2 = await b.hello(T, 'fi', w.resume);
  assert.equal(w2.session, w.session);
  assert.deepEqual(w2.history.map((m) => m.from), ['customer', 'agent', 'agent', 'agent']);
  assert.equal(w2.history[0].id, m1);
  assert.equal(w2.history[3].text, 'Lähetän sinulle huoltoajan sähköpostilla.');
  assert.ok(w2.history.slice(1).every((m) => m.name === 'Aino Agentti'));
  const o1 = await b.take((f) => f.type === 'message' && f.from === 'agent', 5000, 'outbox 1');
  const o2 = await b.take((f) => f.type === 'message' && f.from === 'agent', 5000, 'outbox 2');
  assert.deepEqual([o1.text, o2.text],
    ['Oletko vielä linjoilla?', 'Lähetän sinulle huoltoajan sähköpostilla.']);
  assert.ok(!b.frames.some((f) => f.type === 'message' && f.id === live.id),
    'what was received before is not sent again');
  b.send({ type: 'received', id: o1.id });
  b.send({ type: 'received', id: o2.id });
  await waitUntil(async () => (await stack.outboxLength(T, w.session)) === 0, 5000,
    'outbox emptied');
  await b.close();

  // A second resume: history yes, pushes no.
  const c = await ChatClient.connect(chatA.url);
  const w3 = await c.hello(T, 'fi', w2.resume || w.resume);
  assert.equal(w3.history.length, 4);
  const pushed = await c.during(1500, (f) => f.type === 'message');
  assert.deepEqual(pushed, [], 'nothing is pushed again');

  // Continue by email: stored for the email channel.
  c.send({ type: 'email', address: 'matti.meikalainen@example.fi' });
  await waitUntil(async () => (await stack.contactField(T, contact, 'continue_email')) ===
    'matti.meikalainen@example.fi', 5000, 'the email on the contact');
  assert.ok(!c.frames.some((f) => f.type === 'error'), JSON.stringify(c.frames));

  // The agent proposes a resolution; the customer confirms; the contact closes.
  await stack.cliOk('agent', 'propose', '--tenant', T, '--agent', 'aino', '--contact', contact);
  const r = await c.type('resolution', 5000);
  assert.equal(r.contact, contact);
  c.send({ type: 'confirm', resolved: true });
  const closed = await c.type('closed', 5000);
  assert.equal(closed.contact, contact);
  assert.equal(typeof closed.reason, 'string');
  assert.equal(await stack.contactField(T, contact, 'state'), 'closed');

  // The next message starts a new contact, with a new reassurance.
  const n1 = mid('o');
  c.send({ type: 'message', id: n1, text: 'Vielä yksi kysymys' });
  const nack = await c.type('ack', 10000, n1);
  assert.ok(nack.contact && nack.contact !== contact, 'a new contact');
  assert.ok(nack.reassure, 'reassured again');
  await c.close();
});
