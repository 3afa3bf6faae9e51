// api_frames: what the dashboard API refuses, against real redis-server, hetki-router and
// hetki-dashboard: upgrades from a foreign Origin, without the subprotocol or on another path;
// malformed frames (not JSON, not an object, binary, unknown type, bad req, missing or
// oversize fields) each answered with a clear error and no change; too big a frame (1009);
// too many frames (rate, then 1008); and a client that stops reading is disconnected (1008)
// while the others keep getting their events. The service stays up throughout.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { DashClient } from './lib/client.mjs';
import { Stack, httpGet, sleep } from './lib/stack.mjs';

const PW = 'frames test password';
let st;
let dash;

before(async () => {
  st = new Stack('frames');
  ({ dashboard: dash } = await st.start({ dashboardEnv: { HETKI_DASHBOARD_RATE: '20' } }));
  await st.agentWithLogin('acme', 'aino', PW, { available: true });
  await st.account('acme', 'sanna', 'supervisor', PW);
  await st.account('acme', 'slow', 'supervisor', PW);
});

after(async () => {
  await st.stop();
});

test('upgrades: foreign Origin 403, no subprotocol 400, other path 404; the app is served',
  async () => {
    await assert.rejects(DashClient.connect(dash.url, { origin: 'http://evil.test' }),
      (e) => e.status === 403);
    await assert.rejects(DashClient.connect(dash.url, { origin: null }), (e) => e.status === 403);
    await assert.rejects(DashClient.connect(dash.url, { protocol: null }), (e) => e.status === 400);
    await assert.rejects(DashClient.connect(dash.url.replace('/ws', '/other')),
      (e) => e.status === 404);
    const own = await DashClient.connect(dash.url, { origin: dash.origin });
    await own.close();
    const page = await httpGet(dash.port, '/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /text\/html/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal((await httpGet(dash.port, '/nope.js')).status, 404);
  });

test('malformed frames get one clear error each and change nothing', async () => {
  const c = await DashClient.connect(dash.url);
  await c.login('acme', 'aino', PW);
  const state = await st.rcli('HGET', 'hk:{acme}:agent:aino', 'state');
  const cases = [
    ['not json', 'bad_json'],
    ['[1,2,3]', 'bad_frame'],
    ['"text"', 'bad_json'],
    [JSON.stringify({ kind: 'pause' }), 'bad_frame'],
    [JSON.stringify({ type: 'explode' }), 'bad_frame'],
    [JSON.stringify({ type: 'pause', req: 'bad req!' }), 'bad_frame'],
    [JSON.stringify({ type: 'pause', reason: 'x'.repeat(65) }), 'bad_frame'],
    [JSON.stringify({ type: 'pause', reason: 5 }), 'bad_frame'],
    [JSON.stringify({ type: 'accept' }), 'bad_frame'],
    [JSON.stringify({ type: 'accept', contact: 'no spaces allowed' }), 'bad_frame'],
    [JSON.stringify({ type: 'transfer', contact: 'C1', to_queue: 'a', to_agent: 'b' }), 'bad_frame'],
    [JSON.stringify({ type: 'wrapup', contact: 'C1' }), 'bad_frame'],
    [JSON.stringify({ type: 'wrapup', contact: 'C1', code: 'x', distressing: 'yes' }), 'bad_frame'],
    [JSON.stringify({ type: 'say', contact: 'C1', text: '' }), 'bad_frame'],
    [JSON.stringify({ type: 'say', contact: 'C1', text: 'y'.repeat(5000) }), 'bad_frame'],
    [JSON.stringify({ type: 'login', tenant: 'acme', id: 'aino', password: PW }), 'not_ready'],
    ['{"type":"pause","type":"available"}', 'bad_json'],
  ];
  for (const [text, code] of cases) {
    const n = c.frames.length;
    c.send(text);
    const ans = await c.take((f, i) => f.type === 'error', 5000, `error for ${text.slice(0, 40)}`);
    assert.equal(ans.code, code, `${text.slice(0, 60)} -> ${JSON.stringify(ans)}`);
    assert.ok(ans.text.length > 0);
    assert.ok(c.frames.length >= n + 1);
    await sleep(30);
  }
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.equal((await c.type('error')).code, 'bad_frame');
  const unknown = await c.request({ type: 'accept', contact: '01ZZZZZZZZZZZZZZZZZZZZZZZZ' });
  assert.equal(unknown.code, 'not_found');
  assert.equal(await st.rcli('HGET', 'hk:{acme}:agent:aino', 'state'), state);
  assert.ok(c.isOpen);
  await c.close();
});

test('a frame over the limit closes 1009', async () => {
  const c = await DashClient.connect(dash.url);
  c.send(JSON.stringify({ type: 'ping', pad: 'z'.repeat(20000) }));
  assert.equal((await c.closed).code, 1009);
});

test('too many frames: rate errors, then 1008', async () => {
  const c = await DashClient.connect(dash.url);
  await c.login('acme', 'sanna', PW);
  for (let i = 0; i < 80; i++) {
    c.send({ type: 'resync' });
  }
  const info = await c.closed;
  assert.equal(info.code, 1008);
  assert.ok(c.frames.some((f) => f.type === 'error' && f.code === 'rate'));
});

test('a client that does not read is closed; the others keep their events', async () => {
  // An instance with a small queue per client and no practical rate limit, so that a client
  // asking for many snapshots and never reading them fills its queue.
  const fast = await st.dashboard('dash-fast', { HETKI_DASHBOARD_RATE: '1000000',
    HETKI_DASHBOARD_OUT_MAX_BYTES: '65536' });
  // A raw websocket client that handshakes and then never reads.
  const sock = net.connect(fast.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write(['GET /ws HTTP/1.1', `Host: 127.0.0.1:${fast.port}`, 'Upgrade: websocket',
    'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: hetki-dashboard.v1',
    'Origin: http://shop.test', '', ''].join('\r\n'));
  await new Promise((r) => sock.once('data', r));
  const frame = (obj) => {
    const payload = Buffer.from(JSON.stringify(obj));
    const mask = Buffer.from([1, 2, 3, 4]);
    const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
    const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
    return Buffer.concat([head, mask, body]);
  };
  sock.write(frame({ type: 'login', tenant: 'acme', id: 'slow', password: PW }));
  sock.pause(); // stop reading: the kernel buffers fill, then the service's queue
  let closed = false;
  sock.on('close', () => {
    closed = true;
  });
  sock.on('error', () => {});
  const good = await DashClient.connect(fast.url);
  await good.login('acme', 'sanna', PW);
  const big = await st.contact('acme', { text: 'iso viesti '.repeat(350), urgent: false });
  await sleep(300);
  // Many cards (about 4 KB each) for the slow one: the socket buffers fill, then its queue
  // exceeds 64 KiB.
  for (let i = 0; i < 3000 && !closed; i++) {
    sock.write(frame({ type: 'contact', contact: big }));
  }
  const cid = await st.contact('acme', { text: 'still flowing', urgent: true });
  await good.take((f) => f.type === 'event' && f.contact === cid, 10000);
  const metrics = async () => (await httpGet(fast.adminPort, '/metrics')).body;
  const slowClosed = async () => /hetki_dashboard_closed_slow_total [1-9]/.test(await metrics());
  for (let i = 0; i < 100 && !(await slowClosed()); i++) {
    await sleep(100);
  }
  assert.ok(await slowClosed(), 'the slow client was disconnected');
  assert.ok(good.isOpen);
  sock.destroy();
  await good.close();
  await st.kill(fast);
});
