// protocol_input: bad input never hurts hetki-chat: malformed JSON, unknown types, missing or
// bad fields and a message before hello get error frames and the connection stays; random
// garbage leaves the service alive; a foreign Origin is refused; the widget, its styles and
// the demo page are served.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';

import { ChatClient, mid } from './lib/client.mjs';
import { Stack, httpGet } from '../lib/stack.mjs';

const T = 'ctinput';
let stack;
let chat;

before(async () => {
  stack = new Stack('input');
  await stack.redis();
  await stack.router('rt-a');
  chat = await stack.chat('chat-a');
}, { timeout: 60000 });

after(async () => {
  await stack?.stop();
});

async function alive() {
  assert.equal(chat.status, undefined, `hetki-chat exited: ${JSON.stringify(chat.status)}`);
  assert.equal((await httpGet(chat.adminPort, '/healthz'))?.status, 200, 'healthz answers');
}

test('malformed frames get error frames and the connection stays', { timeout: 30000 }, async () => {
  const c = await ChatClient.connect(chat.url);
  const cases = [
    [{ type: 'message', id: mid('early'), text: 'before hello' }, ['not_ready']],
    ['{"type": "hello", "tenant": ', ['bad_json']],
    ['this is not json', ['bad_json']],
    ['[1, 2, 3]', ['bad_json', 'bad_frame']],
    ['"hello"', ['bad_json', 'bad_frame']],
    ['42', ['bad_json', 'bad_frame']],
    [{ no_type: true }, ['bad_frame']],
    [{ type: 'teleport' }, ['bad_frame']],
    [{ type: 42 }, ['bad_frame']],
  ];
  for (const [frame, codes] of cases) {
    c.send(frame);
    const e = await c.type('error', 5000);
    assert.ok(codes.includes(e.code), `${JSON.stringify(frame)} -> ${JSON.stringify(e)}`);
    assert.ok(c.isOpen, `still open after ${JSON.stringify(frame)}`);
  }
  // After hello: bad fields of a message.
  await c.hello(T, 'en');
  const bad = [
    { type: 'message', text: 'no id' },
    { type: 'message', id: 'has spaces in it', text: 'bad id' },
    { type: 'message', id: 'x'.repeat(65), text: 'id too long' },
    { type: 'message', id: '', text: 'empty id' },
    { type: 'message', id: mid('noText') },
    { type: 'message', id: mid('numText'), text: 12 },
    { type: 'read' },
    { type: 'received' },
    { type: 'confirm' },
    { type: 'lang', lang: 'klingon' },
    { type: 'hello', tenant: T, lang: 'en' },
  ];
  for (const frame of bad) {
    c.send(frame);
    const e = await c.type('error', 5000);
    assert.ok(['bad_frame', 'not_ready'].includes(e.code) || (frame.type === 'hello' && e.code),
      `${JSON.stringify(frame)} -> ${JSON.stringify(e)}`);
    assert.ok(c.isOpen);
  }
  assert.ok(!c.frames.some((f) => f.type === 'ack'), 'nothing bad was acked');
  // Still a working conversation.
  const ok = mid('ok');
  c.send({ type: 'message', id: ok, text: 'finally a proper message' });
  await c.type('ack', 10000, ok);
  await c.close();
  await alive();
});

test('random garbage leaves the service alive', { timeout: 60000 }, async () => {
  const samples = [
    () => crypto.randomBytes(1 + crypto.randomInt(300)).toString('base64'),
    () => JSON.stringify({ type: 'message', id: crypto.randomBytes(8).toString('hex'),
      text: crypto.randomBytes(crypto.randomInt(200)).toString('latin1') }),
    () => JSON.stringify({ type: ['hello', 'message', 'read', 'lang', 'confirm', 'email'][
      crypto.randomInt(6)], tenant: crypto.randomInt(1e6), lang: null, resume: {}, id: [],
    address: 'x'.repeat(crypto.randomInt(400)), resolved: 'yes' }),
    () => '{'.repeat(crypto.randomInt(2000)),
    () => `{"type":"message","id":"${'a'.repeat(crypto.randomInt(100))}","text":"\\ud800"}`,
    () => '\u0000\u0001{"type":"hello"}',
  ];
  for (let conn = 0; conn < 5; conn++) {
    const c = await ChatClient.connect(chat.url);
    if (conn % 2) {
      await c.hello(T, 'sv');
    }
    for (let i = 0; i < 40 && c.isOpen; i++) {
      c.send(samples[crypto.randomInt(samples.length)]());
    }
    await c.during(300, () => false);
    c.ws.terminate();
  }
  await alive();
  const d = await ChatClient.connect(chat.url);
  await d.hello(T, 'en');
  const ok = mid('after');
  d.send({ type: 'message', id: ok, text: 'still here' });
  await d.type('ack', 10000, ok);
  await d.close();
});

test('a foreign Origin is refused', { timeout: 30000 }, async () => {
  let refused = null;
  try {
    const c = await ChatClient.connect(chat.url, { origin: 'http://evil.example' });
    // Some servers accept the upgrade and close at once with 1008: that counts too.
    const closed = await Promise.race([c.closed, new Promise((r) => setTimeout(r, 3000))]);
    refused = closed && closed.code === 1008 && !c.frames.some((f) => f.type === 'welcome')
      ? `closed ${closed.code}` : null;
    if (!refused) {
      c.ws.terminate();
    }
  } catch (e) {
    refused = e.status ? `HTTP ${e.status}` : e.message;
    if (e.status) {
      assert.equal(e.status, 403);
    }
  }
  assert.ok(refused, 'the foreign origin got a session');
  // The page's own origin is welcome.
  const own = await ChatClient.connect(chat.url, { origin: chat.origin });
  await own.hello(T, 'en');
  await own.close();
  await alive();
});

test('the widget, its styles and the demo page are served', { timeout: 30000 }, async () => {
  const page = await httpGet(chat.port, '/');
  assert.equal(page?.status, 200);
  assert.match(page.headers.get('content-type'), /text\/html/);
  assert.match(page.body, /<script[^>]+src="\/widget\.js"[^>]*data-tenant=/);
  const js = await httpGet(chat.port, '/widget.js');
  assert.equal(js?.status, 200);
  assert.match(js.headers.get('content-type'), /javascript/);
  assert.match(js.body, /hetki-chat\.v1/);
  const css = await httpGet(chat.port, '/widget.css');
  assert.equal(css?.status, 200);
  assert.match(css.headers.get('content-type'), /text\/css/);
  assert.equal((await httpGet(chat.port, '/no-such-file'))?.status, 404);
});
