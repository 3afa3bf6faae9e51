// api_flow: an agent's work end to end through the dashboard API, against real redis-server,
// hetki-router, hetki-chat and hetki-dashboard: a customer writes in the chat widget's
// protocol, the offer reaches the agent with the contact's card (classification and
// reasons), the agent accepts, chats both ways, proposes a resolution the customer is asked
// to confirm, wraps up marking the contact distressing (recovery pause), while the supervisor
// sees every event and the stats; `resync` and a gap in the router's event stream (the
// dashboard stopped while thousands of events pass) both bring a fresh snapshot.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';

import { DashClient } from './lib/client.mjs';
import { Stack, TEST_ORIGIN, httpGet, sleep, waitUntil } from './lib/stack.mjs';

const PW = 'flow test password';
let st;
let dash;
let chat;
let agent;
let sup;
let customer;
let contact;

/** A chat customer speaking hetki-chat.v1. */
async function chatCustomer(url) {
  const ws = new WebSocket(url, 'hetki-chat.v1', { headers: { Origin: TEST_ORIGIN } });
  const frames = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const take = (pred, ms = 10000) => waitUntil(() => frames.find(pred), ms, 'a chat frame');
  return { ws, frames, take, send: (o) => ws.send(JSON.stringify(o)) };
}

before(async () => {
  st = new Stack('flow');
  ({ dashboard: dash, chat } = await st.start({ chat: true }));
  await st.agentWithLogin('demo', 'aino', PW, { name: 'Aino', available: true });
  await st.account('demo', 'sanna', 'supervisor', PW, { name: 'Sanna' });
  agent = await DashClient.connect(dash.url);
  await agent.login('demo', 'aino', PW);
  sup = await DashClient.connect(dash.url, { origin: dash.origin });
  await sup.login('demo', 'sanna', PW);
  customer = await chatCustomer(chat.url);
  customer.send({ type: 'hello', tenant: 'demo', lang: 'fi' });
  await customer.take((f) => f.type === 'welcome');
});

after(async () => {
  customer?.ws.terminate();
  await agent?.close();
  await sup?.close();
  await st.stop();
});

test('the offer reaches the agent with the card: classification, reasons, lease', async () => {
  customer.send({ type: 'message', id: 'm1', text: 'Korttini varastettiin, apua heti' });
  const ack = await customer.take((f) => f.type === 'ack' && f.id === 'm1');
  contact = ack.contact;
  const offer = await agent.take((f) => f.type === 'event' && f.kind === 'contact.offered' &&
    f.contact === contact, 10000);
  assert.equal(offer.agent, 'aino');
  assert.ok(Number(offer.detail.lease_until) > Date.now());
  assert.ok(offer.at_ms > 0 && offer.rev > 0 && offer.seq > 0);
  const card = await agent.take((f) => f.type === 'card' && f.contact.id === contact, 10000);
  assert.equal(card.contact.channel, 'chat');
  assert.equal(card.contact.state, 'offered');
  assert.equal(card.contact.class, 'urgent');
  assert.ok(card.contact.reasons.length > 0, 'why this reached me');
  assert.ok(Array.isArray(card.contact.history));
  assert.match(card.contact.text, /varastettiin/);
  assert.ok(Array.isArray(card.contact.conversation));
  assert.ok(sup.frames.some((f) => f.type === 'event' && f.kind === 'contact.offered'));
});

test('accept, chat both ways, propose; the customer is asked to confirm', async () => {
  const acc = await agent.request({ type: 'accept', contact });
  assert.equal(acc.type, 'ok');
  assert.equal(acc.contact_state, 'assigned');
  await customer.take((f) => f.type === 'agent');
  const said = await agent.request({ type: 'say', contact, text: 'Suljen kortin nyt.' });
  assert.equal(said.type, 'ok');
  await customer.take((f) => f.type === 'message' && f.text === 'Suljen kortin nyt.');
  customer.send({ type: 'message', id: 'm2', text: 'Kiitos!' });
  const msg = await agent.take((f) => f.type === 'event' && f.kind === 'chat.message' &&
    f.payload?.text === 'Kiitos!', 10000);
  assert.equal(msg.payload.from, 'customer');
  agent.send({ type: 'typing', contact }); // no answer: shown to the customer
  await customer.take((f) => f.type === 'typing');
  const prop = await agent.request({ type: 'propose', contact });
  assert.equal(prop.contact_state, 'resolution_proposed');
  await customer.take((f) => f.type === 'resolution');
});

test('wrap-up marked distressing starts the recovery pause; the agent sees its own state',
  async () => {
    const wr = await agent.request({ type: 'wrapup', contact, code: 'resolved', distressing: true });
    assert.equal(wr.type, 'ok');
    assert.equal(wr.agent_state, 'paused');
    const ev = await agent.take((f) => f.type === 'event' && f.kind === 'agent.state' &&
      f.agent === 'aino' && f.detail.reason === 'recovery', 10000);
    assert.ok(ev.detail.until);
    const back = await agent.request({ type: 'available' });
    assert.equal(back.code, 'state', 'not available during the recovery pause');
    // the supervisor sees the agent paused in the stats
    await sup.take((f) => f.type === 'stats' &&
      f.agents.some((a) => a.id === 'aino' && a.state === 'paused' && a.reason === 'recovery'),
    10000);
  });

test('seq counts every event and stats frame, also inside `events` batches', async (t) => {
  // A burst: 40 contacts at once (the router takes them in one intake call and publishes
  // their events together); the supervisor gets them joined into `events` messages.
  const before = sup.frames.length;
  const r = await st.run(st.bin('hetki-loadgen'), ['--count', '40', '--window', '40',
    '--tenant', 'demo', '--prefix', 'burst'], 60000);
  assert.equal(r.code, 0, `hetki-loadgen exit ${r.code}: ${r.stderr.slice(-2000)}`);
  await waitUntil(() => sup.frames.slice(before).filter((f) => f.type === 'event' &&
    f.kind === 'contact.queued').length >= 40, 20000, 'the burst at the supervisor');
  for (const [who, c] of [['agent', agent], ['supervisor', sup]]) {
    let seq = null;
    for (const f of c.frames) {
      if (f.type === 'snapshot') {
        seq = 0;
      } else if ((f.type === 'event' || f.type === 'stats') && seq !== null) {
        assert.equal(f.seq, seq + 1, `${who}: ${f.type} ${f.kind || ''} after seq ${seq}`);
        seq = f.seq;
      }
    }
    t.diagnostic(`${who}: ${c.frames.length} frames, ${c.batches || 0} events batches`);
  }
  assert.ok(sup.batches > 0, 'events published together reach the supervisor as one message');
});

test('resync answers a fresh snapshot that replaces the view', async () => {
  const snap = await agent.request({ type: 'resync' });
  assert.equal(snap.type, 'snapshot');
  assert.equal(snap.seq, 0);
  assert.equal(snap.me.state, 'paused');
  assert.deepEqual(snap.contacts, [], 'wrapped up: no longer the agent\'s');
  const s2 = await sup.request({ type: 'resync' });
  assert.ok(s2.queues.every((q) => 'est_wait_s' in q && 'service_level' in q && 'target_ms' in q));
  assert.ok(s2.queues.find((q) => q.name === 'human_chat').answered >= 1);
});

test('a gap in the event stream sends every session a fresh snapshot', { timeout: 200000 }, async () => {
  // The load comes from hetki-loadgen (bench/): a clear failure when the build lacks it
  // (otherwise the spawn fails and only an exit code of -1 is seen).
  const loadgen = st.bin('hetki-loadgen');
  assert.ok(fs.existsSync(loadgen), `${loadgen} is missing: build every target (cmake --build) ` +
    'before running the tests');
  const gauge = async (name) => {
    const m = (await httpGet(dash.adminPort, '/metrics'))?.body || '';
    return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(m)?.[1] || 0);
  };
  const gapsBefore = await gauge('hetki_dashboard_event_gaps_total');
  const resyncsBefore = await gauge('hetki_dashboard_resyncs_total');
  // Only snapshots that arrive after the gap count (not one left from earlier).
  const supMark = sup.frames.length;
  const agentMark = agent.frames.length;
  process.kill(dash.child.pid, 'SIGSTOP');
  try {
    // Enough events to fill the socket buffers and the publisher's queue (1,000 messages):
    // ZeroMQ then drops what the stopped subscriber cannot take.
    const t0 = Date.now();
    const r = await st.run(loadgen, ['--count', '25000', '--window', '500',
      '--tenant', 'gapload', '--deadline-ms', '100000'], 150000);
    assert.ok(Date.now() - t0 < 150000, 'hetki-loadgen finished in time');
    assert.equal(r.code, 0, `hetki-loadgen exit ${r.code}: ${r.stderr.slice(-2000)}`);
  } finally {
    process.kill(dash.child.pid, 'SIGCONT');
  }
  const fresh = (c, mark) => c.frames.slice(mark).some((f) => f.type === 'snapshot' && !f.req);
  await waitUntil(() => fresh(sup, supMark), 20000, 'a fresh snapshot for the supervisor');
  await waitUntil(() => fresh(agent, agentMark), 20000, 'a fresh snapshot for the agent');
  assert.ok(await gauge('hetki_dashboard_event_gaps_total') > gapsBefore, 'the gap was counted');
  assert.ok(await gauge('hetki_dashboard_resyncs_total') > resyncsBefore,
    'the resnapshots were counted');
});
