// api_tenant: tenant isolation and roles in the dashboard API, against real redis-server,
// hetki-router and hetki-dashboard: agents and supervisors of one tenant cannot see or touch
// another tenant's contacts (answered exactly like a contact that does not exist, and nothing
// changes), see none of its events, and cannot act for another agent; only supervisors switch
// their own tenant's suspension, which holds new contacts and releases them on reactivation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { DashClient } from './lib/client.mjs';
import { Stack, waitUntil } from './lib/stack.mjs';

const PW = 'tenant test password';
let st;
let dash;
let acmeAgent;
let acmeSup;
let globexAgent;
let globexSup;
let acmeContact;

before(async () => {
  st = new Stack('tenant');
  ({ dashboard: dash } = await st.start());
  await st.agentWithLogin('acme', 'aino', PW, { available: true });
  await st.agentWithLogin('acme', 'eero', PW);
  await st.account('acme', 'sanna', 'supervisor', PW);
  await st.agentWithLogin('globex', 'greta', PW, { available: true });
  await st.account('globex', 'gus', 'supervisor', PW);
  acmeAgent = await DashClient.connect(dash.url);
  await acmeAgent.login('acme', 'aino', PW);
  acmeSup = await DashClient.connect(dash.url);
  await acmeSup.login('acme', 'sanna', PW);
  globexAgent = await DashClient.connect(dash.url);
  await globexAgent.login('globex', 'greta', PW);
  globexSup = await DashClient.connect(dash.url);
  await globexSup.login('globex', 'gus', PW);
  acmeContact = await st.contact('acme', { text: 'Kortti varastettu', urgent: true });
  await acmeAgent.take((f) => f.type === 'event' && f.kind === 'contact.offered' &&
    f.contact === acmeContact, 10000);
});

after(async () => {
  for (const c of [acmeAgent, acmeSup, globexAgent, globexSup]) {
    await c?.close();
  }
  await st.stop();
});

async function contactState() {
  return {
    state: await st.contactField('acme', acmeContact, 'state'),
    offer: await st.contactField('acme', acmeContact, 'offer_agent'),
    agent: await st.contactField('acme', acmeContact, 'agent'),
    conv: await st.rcli('LLEN', `hk:{acme}:conv:${acmeContact}`),
  };
}

test('another tenant\'s agent cannot read or act on a contact: not_found, nothing changes', async () => {
  const before_ = await contactState();
  for (const frame of [
    { type: 'contact', contact: acmeContact },
    { type: 'accept', contact: acmeContact },
    { type: 'decline', contact: acmeContact },
    { type: 'say', contact: acmeContact, text: 'hello from globex' },
    { type: 'propose', contact: acmeContact },
    { type: 'wrapup', contact: acmeContact, code: 'resolved' },
    { type: 'transfer', contact: acmeContact, to_queue: 'voice' },
    // fields naming a tenant or an agent are ignored: the session decides
    { type: 'accept', contact: acmeContact, tenant: 'acme', agent: 'aino', agent_id: 'aino' },
  ]) {
    const ans = await globexAgent.request(frame);
    assert.equal(ans.type, 'error', `${frame.type}: ${JSON.stringify(ans)}`);
    assert.equal(ans.code, 'not_found', `${frame.type}: ${JSON.stringify(ans)}`);
  }
  const unknown = await globexAgent.request({ type: 'contact', contact: '01ZZZZZZZZZZZZZZZZZZZZZZZZ' });
  assert.equal(unknown.code, 'not_found');
  assert.equal(unknown.text, (await globexAgent.request({ type: 'contact', contact: acmeContact })).text,
    'the same answer as for a contact that does not exist');
  assert.deepEqual(await contactState(), before_);
});

test('another tenant\'s supervisor cannot read the contact either', async () => {
  const ans = await globexSup.request({ type: 'contact', contact: acmeContact });
  assert.equal(ans.code, 'not_found');
  const own = await acmeSup.request({ type: 'contact', contact: acmeContact });
  assert.equal(own.type, 'card');
  assert.equal(own.contact.id, acmeContact);
});

test('an agent of the same tenant cannot see or take a colleague\'s contact', async () => {
  const eero = await DashClient.connect(dash.url);
  const { snapshot } = await eero.login('acme', 'eero', PW);
  assert.deepEqual(snapshot.contacts, []);
  assert.equal(snapshot.agents.every((a) => Object.keys(a).sort().join() === 'id,name,state'), true,
    'agents see only id, name and state of colleagues');
  assert.equal((await eero.request({ type: 'contact', contact: acmeContact })).code, 'not_found');
  const before_ = await contactState();
  const acc = await eero.request({ type: 'accept', contact: acmeContact });
  assert.equal(acc.type, 'error');
  assert.ok(['not_yours', 'not_found', 'state'].includes(acc.code), JSON.stringify(acc));
  assert.deepEqual(await contactState(), before_);
  await eero.close();
});

test('the other tenant saw none of these events; the owner\'s supervisor saw them', async () => {
  const leaked = [...globexAgent.frames, ...globexSup.frames].filter((f) =>
    f.type === 'event' && (f.contact === acmeContact || f.agent === 'aino'));
  assert.deepEqual(leaked, []);
  const seen = acmeSup.frames.filter((f) => f.type === 'event' && f.contact === acmeContact);
  assert.ok(seen.some((f) => f.kind === 'contact.offered'));
  // seq counts without holes on every connection
  for (const c of [acmeAgent, acmeSup, globexAgent, globexSup]) {
    const seqs = c.frames.filter((f) => f.type === 'event' || f.type === 'stats').map((f) => f.seq);
    seqs.forEach((s, i) => assert.equal(s, i + 1));
  }
});

test('only supervisors suspend, and only their own tenant', async () => {
  const refused = await acmeAgent.request({ type: 'tenant', status: 'suspended' });
  assert.equal(refused.code, 'forbidden');
  const bad = await globexSup.request({ type: 'tenant', status: 'paused' });
  assert.equal(bad.code, 'bad_frame');
  const agentCmd = await globexSup.request({ type: 'available' });
  assert.equal(agentCmd.code, 'forbidden');
  const ok = await globexSup.request({ type: 'tenant', status: 'suspended', tenant: 'acme' });
  assert.equal(ok.type, 'ok');
  assert.match(await st.rcli('HGET', 'hk:{globex}:policy', 'text'), /status = suspended/);
  assert.equal(await st.rcli('HGET', 'hk:{acme}:policy', 'text'), '');
  await globexSup.take((f) => f.type === 'stats' && f.tenant.status === 'suspended', 10000);
  // suspended: a new contact is held, not offered
  await waitUntil(async () => {
    const r = await st.cli('send', '--tenant', 'globex', '--channel', 'chat', '--text', 'apua');
    return r.code === 0 && /message=/.test(r.stdout) ? r : null;
  }, 10000, 'a held contact (the routers reloaded the policy)', 300);
  const held = await globexSup.take((f) => f.type === 'event' && f.kind === 'contact.held', 5000);
  // reactivated: the held contact is released and offered to greta
  assert.equal((await globexSup.request({ type: 'tenant', status: 'active' })).type, 'ok');
  await globexAgent.take((f) => f.type === 'event' && f.kind === 'contact.offered' &&
    f.contact === held.contact, 15000);
  assert.equal(await st.rcli('HGET', 'hk:{globex}:policy', 'version'), '2');
});
