// api_auth: accounts and sessions of the dashboard API against real redis-server,
// hetki-router and hetki-dashboard: a wrong password, an unknown account and a malformed
// login are refused with one clear error and change nothing; the per-account lockout; a
// token resumes a session on another instance; logout, an expired token, a removed account
// and a changed password end sessions (connected ones are closed).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { DashClient } from './lib/client.mjs';
import { Stack, sleep } from './lib/stack.mjs';

const PW = 'correct horse battery';
let st;
let dash;

before(async () => {
  st = new Stack('auth');
  ({ dashboard: dash } = await st.start({ dashboardEnv: { HETKI_DASHBOARD_LOGIN_FAILS: '4' } }));
  await st.agentWithLogin('acme', 'aino', PW, { name: 'Aino' });
  await st.account('acme', 'sanna', 'supervisor', PW, { name: 'Sanna' });
  await st.agentWithLogin('acme', 'locky', PW, { name: 'Locky' });
  await st.agentWithLogin('acme', 'gone', PW, { name: 'Gone' });
});

after(async () => {
  await st.stop();
});

async function sessionKeys(tenant) {
  const out = await st.rcli('--scan', '--pattern', `hk:{${tenant}}:session:*`);
  return out ? out.split('\n').filter(Boolean) : [];
}

test('the right password logs in: session, token, snapshot; the hash is argon2id', async () => {
  const c = await DashClient.connect(dash.url);
  const t0 = Date.now();
  const { session, snapshot } = await c.login('acme', 'aino', PW);
  console.log(`login took ${Date.now() - t0} ms`);
  assert.deepEqual(session.account, { tenant: 'acme', id: 'aino', role: 'agent', name: 'Aino' });
  assert.match(session.token, /^acme\.[0-9a-f]{64}$/);
  assert.ok(session.expires_at > Date.now() + 3600e3, 'expires hours from now');
  assert.equal(snapshot.seq, 0);
  assert.equal(snapshot.tenant.name, 'acme');
  assert.equal(snapshot.me.id, 'aino');
  assert.ok(Array.isArray(snapshot.contacts));
  assert.match(await st.rcli('HGET', 'hk:{acme}:account:aino', 'hash'), /^\$argon2id\$/);
  // Redis keeps only the SHA-256 of the token.
  const keys = await sessionKeys('acme');
  assert.ok(keys.length >= 1);
  assert.ok(!keys.some((k) => k.includes(session.token.split('.')[1])));
  await c.close();
});

test('a wrong password, an unknown account, another tenant: one answer, no session', async () => {
  const before_ = (await sessionKeys('acme')).length;
  const c = await DashClient.connect(dash.url);
  for (const [tenant, id, pw] of [['acme', 'aino', 'wrong password'], ['acme', 'nobody', PW],
    ['other', 'aino', PW]]) {
    const ans = await c.request({ type: 'login', tenant, id, password: pw });
    assert.equal(ans.type, 'error');
    assert.equal(ans.code, 'bad_credentials');
  }
  // still not authenticated: commands are refused
  const ans = await c.request({ type: 'available' });
  assert.equal(ans.code, 'not_ready');
  assert.equal((await sessionKeys('acme')).length, before_);
  assert.equal(await st.rcli('HGET', 'hk:{acme}:agent:aino', 'state'), 'offline');
  await c.close();
});

test('five failed logins close the connection (1008)', async () => {
  const c = await DashClient.connect(dash.url);
  for (let i = 0; i < 4; i++) {
    const ans = await c.request({ type: 'login', tenant: 'acme', id: `nobody${i}`, password: 'x' });
    assert.equal(ans.code, 'bad_credentials');
  }
  c.send({ type: 'login', tenant: 'acme', id: 'nobody5', password: 'x' });
  const info = await c.closed;
  assert.equal(info.code, 1008);
});

test('an account is locked after repeated failures, even for the right password', async () => {
  for (let i = 0; i < 4; i++) {
    const c = await DashClient.connect(dash.url);
    const ans = await c.request({ type: 'login', tenant: 'acme', id: 'locky', password: 'bad' });
    assert.equal(ans.code, 'bad_credentials');
    await c.close();
  }
  const c = await DashClient.connect(dash.url);
  const ans = await c.request({ type: 'login', tenant: 'acme', id: 'locky', password: PW });
  assert.equal(ans.code, 'locked');
  await c.close();
});

test('malformed logins are refused naming the field', async () => {
  const c = await DashClient.connect(dash.url);
  let ans = await c.request({ type: 'login', tenant: 'ACME!', id: 'aino', password: PW });
  assert.equal(ans.code, 'bad_frame');
  assert.match(ans.text, /tenant/);
  ans = await c.request({ type: 'login', tenant: 'acme', id: 'aino' });
  assert.equal(ans.code, 'bad_frame');
  assert.match(ans.text, /password/);
  ans = await c.request({ type: 'login', tenant: 'acme', id: 'aino', password: 'p'.repeat(2000) });
  assert.equal(ans.code, 'bad_frame');
  ans = await c.request({ type: 'auth', token: 'acme.not-a-token' });
  assert.equal(ans.code, 'bad_token');
  await c.close();
});

test('a token resumes the session on another instance; logout ends it', async () => {
  const dash2 = await st.dashboard('dash-2');
  const c = await DashClient.connect(dash.url);
  const { session } = await c.login('acme', 'sanna', PW);
  assert.equal(session.account.role, 'supervisor');
  const d = await DashClient.connect(dash2.url);
  const again = await d.auth(session.token);
  assert.equal(again.session.account.id, 'sanna');
  assert.equal(again.session.token, undefined, 'the token is not sent again');
  assert.ok(Array.isArray(again.snapshot.critical));
  const ans = await d.request({ type: 'logout' });
  assert.equal(ans.type, 'ok');
  assert.equal((await d.closed).code, 1000);
  const e = await DashClient.connect(dash.url);
  const refused = await e.request({ type: 'auth', token: session.token });
  assert.equal(refused.code, 'bad_token');
  // the first connection's session is gone too: it is closed within the check period
  const err = await c.take((f) => f.type === 'error' && f.code === 'session_ended', 15000);
  assert.ok(err);
  assert.equal((await c.closed).code, 1008);
  await e.close();
  await st.kill(dash2);
});

test('removing an account ends its sessions; a new password ends the old ones', async () => {
  const c = await DashClient.connect(dash.url);
  const { session } = await c.login('acme', 'gone', PW);
  const r = await st.cli('agent', 'remove', '--tenant', 'acme', '--id', 'gone');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /sessions_ended=1/);
  await c.take((f) => f.type === 'error' && f.code === 'session_ended', 15000);
  const d = await DashClient.connect(dash.url);
  assert.equal((await d.request({ type: 'auth', token: session.token })).code, 'bad_token');
  assert.equal((await d.request({ type: 'login', tenant: 'acme', id: 'gone', password: PW })).code,
    'bad_credentials');
  await d.close();

  const a = await DashClient.connect(dash.url);
  const first = await a.login('acme', 'aino', PW);
  const p = await st.cliInput('another password 2\n', 'agent', 'passwd', '--tenant', 'acme', '--id',
    'aino');
  assert.equal(p.code, 0, p.stderr);
  const b = await DashClient.connect(dash.url);
  assert.equal((await b.request({ type: 'auth', token: first.session.token })).code, 'bad_token');
  assert.equal((await b.request({ type: 'login', tenant: 'acme', id: 'aino', password: PW })).code,
    'bad_credentials');
  await b.login('acme', 'aino', 'another password 2');
  await b.close();
  await a.close();
});

test('the CLI refuses a password on the command line only and a short one', async () => {
  const r = await st.cliInput('', 'agent', 'add', '--tenant', 'acme', '--id', 'x1', '--role', 'agent');
  assert.notEqual(r.code, 0);
  const short = await st.cliInput('short\n', 'agent', 'add', '--tenant', 'acme', '--id', 'x1',
    '--role', 'agent');
  assert.equal(short.code, 2);
  const role = await st.cliInput(`${PW}\n`, 'agent', 'add', '--tenant', 'acme', '--id', 'x1',
    '--role', 'admin');
  assert.equal(role.code, 2);
  assert.equal(await st.rcli('EXISTS', 'hk:{acme}:account:x1'), '0');
});

test('an expired token is refused and its connection closed', async () => {
  const short = await st.dashboard('dash-short', { HETKI_DASHBOARD_SESSION_TTL_S: '10' });
  const c = await DashClient.connect(short.url);
  const { session } = await c.login('acme', 'sanna', PW);
  assert.ok(session.expires_at <= Date.now() + 11000);
  await c.take((f) => f.type === 'error' && f.code === 'session_ended', 25000);
  assert.equal((await c.closed).code, 1008);
  const d = await DashClient.connect(short.url);
  assert.equal((await d.request({ type: 'auth', token: session.token })).code, 'bad_token');
  await d.close();
  await st.kill(short);
  await sleep(10);
});
