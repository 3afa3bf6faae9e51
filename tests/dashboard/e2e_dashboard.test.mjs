// e2e_dashboard: the dashboard web app end to end in headless Chromium (playwright-core driving
// Debian's chromium, HETKI_CHROMIUM to override) against the real stack (redis-server,
// hetki-router, hetki-chat, hetki-dashboard, the hetki CLI). A customer writes in over the real
// chat websocket while no agent is available: the supervisor's page shows the queue grow. An
// agent signs in with the keyboard, goes available, gets the offer (announced, with its
// countdown and "why this reached me"), accepts it, exchanges messages with the customer both
// ways, survives a page reload, proposes a resolution; the customer confirms; the agent wraps
// up. The supervisor sees the queue and the agent's state follow. An agent of another tenant,
// signed in the whole time, sees none of it. Then the service restarts under the open pages
// (they reconnect with their tokens and resync), the supervisor suspends and resumes the
// tenant with the keyboard, and a repeat contact shows up in the feed of critical moments.
// Screenshots go to HETKI_ARTIFACTS.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';
import WebSocket from 'ws';

import { launchChromium } from '../lib/browser.mjs';
import { Stack, TEST_ORIGIN, sleep, waitUntil } from './lib/stack.mjs';

const T = 'demo';
const OTHER = 'acme';
const PW = 'correct horse 42';
const artifacts = process.env.HETKI_ARTIFACTS || path.join(process.cwd(), 'artifacts');
let stack;
let dash;
let chat;
let context;
const shots = [];

/** A customer on the chat websocket (docs/protocols/chat.md): keeps every frame it gets. */
class Customer {
  static connect(url) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, 'hetki-chat.v1', { headers: { Origin: TEST_ORIGIN },
        perMessageDeflate: false, handshakeTimeout: 5000 });
      const c = new Customer(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.seq = 0;
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString());
      this.frames.push(f);
      if (f.type === 'message' && f.from === 'agent') {
        this.send({ type: 'received', id: f.id });
      }
    });
    ws.on('error', () => {});
  }

  send(f) {
    this.ws.send(JSON.stringify(f));
  }

  /** Waits for a frame matching pred (every frame so far counts). */
  frame(pred, ms = 10000, what = 'a frame') {
    return waitUntil(() => this.frames.find(pred), ms, `the customer's ${what}`);
  }

  async say(text) {
    this.seq += 1;
    const id = `cust-${process.pid}-${this.seq}`;
    this.send({ type: 'message', id, text });
    return this.frame((f) => f.type === 'ack' && f.id === id, 10000, `ack of ${id}`);
  }

  close() {
    this.ws.terminate();
  }
}

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  stack = new Stack('e2e');
  ({ dashboard: dash, chat } = await stack.start({ chat: true }));
  // The agent has a routing profile and a login, and starts offline (it goes available in
  // the browser). The supervisor of the same tenant; an agent of another tenant, available.
  await stack.agentWithLogin(T, 'aino', PW, { name: 'Aino Laine', channels: 'chat' });
  await stack.account(T, 'sanna', 'supervisor', PW, { name: 'Sanna Supervisor' });
  await stack.agentWithLogin(OTHER, 'olli', PW, { name: 'Olli Other', channels: 'chat',
    available: true });
  context = await launchChromium(chromium, stack.dir,
    { viewport: { width: 1366, height: 768 }, locale: 'en-GB' });
}, { timeout: 120000 });

after(async () => {
  await context?.close().catch(() => {});
  await stack?.stop();
});

async function shot(page, name) {
  const file = path.join(artifacts, `dashboard-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
  return file;
}

/** A new page with its console errors collected. */
async function newPage() {
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') {
      page.problems.push(`console error: ${m.text()}`);
    }
  });
  await page.goto(dash.http, { waitUntil: 'load' });
  return page;
}

/** Signs in with the keyboard: the fields are labelled and in order. */
async function signIn(page, tenant, id) {
  await page.getByLabel('Organisation').waitFor({ state: 'visible', timeout: 10000 });
  await page.getByLabel('Organisation').fill(tenant); // may be prefilled from the last login
  await page.getByLabel('Organisation').focus();
  await page.keyboard.press('Tab');
  await page.keyboard.type(id);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'hk-login-password',
    'focus order: organisation, user name, password');
  await page.keyboard.type(PW);
  await page.keyboard.press('Enter');
  await page.locator('#hk-who').waitFor({ state: 'visible', timeout: 10000 });
  await waitUntil(async () => (await page.locator('#hk-conn').getAttribute('data-state')) ===
    'live', 10000, `${id}'s page live`);
}

/** The supervisor's table cell of a queue or an agent. */
const queueCell = (page, q, col) => page.locator(`#hk-queues tr[data-queue="${q}"] ` +
  `td[data-col="${col}"]`);
const agentRow = (page, a) => page.locator(`#hk-agents tr[data-agent="${a}"]`);

test('an agent takes a chat from offer to wrap-up; the supervisor follows; another tenant ' +
  'sees nothing', { timeout: 180000 }, async (t) => {
  const pages = [];
  try {
    // A wrong password first: a clear message, no session.
    const agent = await newPage();
    pages.push(agent);
    await agent.getByLabel('Organisation').fill(T);
    await agent.getByLabel('User name').fill('aino');
    await agent.getByLabel('Password').fill('not the password');
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await agent.locator('#hk-login-error').filter({ hasText: 'not right' })
      .waitFor({ timeout: 10000 });
    await shot(agent, '01-login-refused');
    await agent.getByLabel('Organisation').fill('');
    await agent.getByLabel('User name').fill('');

    const sup = await newPage();
    pages.push(sup);
    await signIn(sup, T, 'sanna');
    assert.match(await sup.locator('#hk-who').innerText(), /Sanna Supervisor · supervisor/);
    assert.equal(await sup.locator('#hk-agent').isVisible(), false, 'no agent view');
    await agentRow(sup, 'aino').waitFor({ timeout: 10000 });
    assert.equal(await agentRow(sup, 'aino').getAttribute('data-state'), 'offline');

    const other = await newPage();
    pages.push(other);
    await signIn(other, OTHER, 'olli');
    await other.locator('#hk-my-state').filter({ hasText: 'Available' })
      .waitFor({ timeout: 10000 });

    // The customer writes while nobody is available: the queue grows on the supervisor's page.
    const customer = await Customer.connect(chat.url);
    customer.send({ type: 'hello', tenant: T, lang: 'fi' });
    await customer.frame((f) => f.type === 'welcome', 5000, 'welcome');
    customer.send({ type: 'person' });
    const ack = await customer.say('Hei! Korttini on varastettu, tarvitsen apua heti.');
    const contact = ack.contact;
    assert.ok(contact, 'the customer got a contact id');
    await waitUntil(async () => (await stack.contactField(T, contact, 'state')) === 'queued',
      5000, 'the contact queued');
    const queue = await stack.contactField(T, contact, 'queue');
    await waitUntil(async () => (await queueCell(sup, queue, 'waiting').innerText()) === '1',
      10000, `the supervisor sees 1 waiting in ${queue}`);
    await shot(sup, '02-supervisor-queue-waiting');

    // The agent signs in and goes available with the keyboard.
    await signIn(agent, T, 'aino');
    assert.match(await agent.locator('#hk-who').innerText(), /Aino Laine · agent · demo/);
    assert.equal(await agent.locator('#hk-my-state').innerText(), 'Offline');
    assert.equal(await agent.locator('#hk-super').isVisible(), false, 'no supervisor view');
    await shot(agent, '03-agent-offline');
    await agent.getByRole('button', { name: 'Go available' }).focus();
    await agent.keyboard.press('Enter');

    // The offer arrives: announced, with its countdown and the reasons.
    const offer = agent.locator(`.hk-offer[data-contact="${contact}"]`);
    await offer.waitFor({ timeout: 10000 });
    await waitUntil(async () => /offer/i.test(await agent.locator('#hk-alert').innerText()),
      3000, 'the offer announced in the assertive live region');
    await waitUntil(async () => /^0:\d\d$/.test(await offer.locator('.hk-countdown').innerText()),
      5000, 'a lease countdown');
    await waitUntil(async () => /korttini on varastettu/i.test(await offer.innerText()), 5000,
      'the offer shows the message');
    await offer.getByText('Why this reached me').click();
    await waitUntil(async () => await offer.locator('[data-reason="choice:talk_to_person"]')
      .count() === 1, 5000, 'the reason "talk to a person" listed');
    await waitUntil(async () => (await queueCell(sup, queue, 'waiting').innerText()) === '0',
      10000, 'the queue emptied on the supervisor page');
    await waitUntil(async () => (await agentRow(sup, 'aino').getAttribute('data-state')) ===
      'busy', 10000, 'the supervisor sees the agent busy');
    await shot(agent, '04-agent-offer');
    await shot(sup, '05-supervisor-agent-busy');

    // Accept: the workspace opens with the conversation; focus goes to the composer.
    await offer.getByRole('button', { name: /^Accept/ }).click();
    const ws = agent.locator(`.hk-ws[data-contact="${contact}"]`);
    await ws.waitFor({ timeout: 10000 });
    await waitUntil(async () => (await offer.count()) === 0, 5000, 'the offer gone');
    await ws.locator('.hk-msg-customer').filter({ hasText: 'Korttini on varastettu' })
      .waitFor({ timeout: 10000 });
    await waitUntil(async () => agent.evaluate(() =>
      document.activeElement?.classList.contains('hk-say')), 5000, 'focus on the composer');
    assert.equal(await stack.contactField(T, contact, 'state'), 'assigned');
    await customer.frame((f) => f.type === 'agent' && f.name === 'Aino Laine', 10000,
      'agent joined');

    // Messages both ways.
    await agent.keyboard.type('Hei, olen Aino. Suljen kortin heti. Onko kortti ollut käytössä?');
    await agent.keyboard.press('Enter');
    const toCustomer = await customer.frame((f) => f.type === 'message' && f.from === 'agent',
      10000, 'the agent message');
    assert.match(toCustomer.text, /Suljen kortin heti/);
    assert.equal(toCustomer.name, 'Aino Laine');
    await ws.locator('.hk-msg-agent[data-state="sent"]').filter({ hasText: 'Suljen kortin' })
      .waitFor({ timeout: 5000 });
    await customer.say('Ei ole, kiitos nopeasta avusta!');
    await ws.locator('.hk-msg-customer').filter({ hasText: 'kiitos nopeasta avusta' })
      .waitFor({ timeout: 10000 });
    await shot(agent, '06-agent-chat');

    // A reload (same tab): the token resumes the session; the conversation is back, once.
    await agent.reload({ waitUntil: 'load' });
    await waitUntil(async () => (await agent.locator('#hk-conn').getAttribute('data-state')) ===
      'live', 10000, 'the reloaded page live');
    await ws.locator('.hk-msg').filter({ hasText: 'kiitos nopeasta avusta' })
      .waitFor({ timeout: 10000 });
    assert.equal(await ws.locator('.hk-msg').filter({ hasText: 'Suljen kortin' }).count(), 1);

    // The customer card: "why this reached me" and the customer.
    assert.equal(await ws.locator('[data-reason="choice:talk_to_person"]').count(), 1);

    // Propose a resolution; the customer confirms; the agent wraps up.
    await ws.getByRole('button', { name: 'Propose resolution' }).click();
    await customer.frame((f) => f.type === 'resolution' && f.contact === contact, 10000,
      'the resolution question');
    await ws.locator('.hk-banner').filter({ hasText: 'Waiting for the customer' })
      .waitFor({ timeout: 5000 });
    await waitUntil(async () => (await agent.locator('#hk-my-state').innerText()) === 'Wrap-up',
      5000, 'the agent in wrap-up');
    customer.send({ type: 'confirm', resolved: true });
    await customer.frame((f) => f.type === 'closed' && f.contact === contact, 10000, 'closed');
    await ws.locator('.hk-banner').filter({ hasText: 'The customer confirmed' })
      .waitFor({ timeout: 10000 });
    await shot(agent, '07-agent-confirmed');
    await ws.getByLabel('Wrap-up code').selectOption('resolved');
    await ws.getByRole('button', { name: 'Wrap up' }).click();
    await waitUntil(async () => (await ws.count()) === 0, 10000, 'the workspace closed');
    await agent.locator('#hk-my-state').filter({ hasText: 'Available' })
      .waitFor({ timeout: 10000 });
    assert.equal(await stack.contactField(T, contact, 'state'), 'closed');
    assert.equal(await stack.contactField(T, contact, 'wrap_code'), 'resolved');
    await waitUntil(async () => (await agentRow(sup, 'aino').getAttribute('data-state')) ===
      'available', 10000, 'the supervisor sees the agent available again');
    // Load and holding follow the wrap-up together with the state (not a stats frame later),
    // and the stats that come after it agree.
    const supLoad = () => agentRow(sup, 'aino').locator('td[data-col="load"]').innerText();
    const supNote = () => agentRow(sup, 'aino').locator('td[data-col="note"]').innerText();
    assert.equal(await supLoad(), '0 %', 'load with the wrap-up');
    assert.doesNotMatch(await supNote(), /holding/, 'holding nothing with the wrap-up');
    await sleep(2500);
    assert.equal(await supLoad(), '0 %', 'load after the next stats');
    assert.doesNotMatch(await supNote(), /holding/, 'holding after the next stats');
    await shot(agent, '08-agent-wrapped');
    await shot(sup, '09-supervisor-after');

    // The other tenant's agent saw none of it.
    const seen = await other.evaluate(() => window.hetkiDashboard.state());
    assert.deepEqual(seen.contacts, [], 'no contacts of another tenant');
    assert.equal(await other.locator('.hk-offer, .hk-ws').count(), 0);
    const body = await other.locator('body').innerText();
    assert.ok(!body.includes(contact) && !/Aino|varastettu/.test(body),
      'nothing of tenant demo on the other page');
    assert.equal(seen.account.tenant, OTHER);
    await shot(other, '10-other-tenant');

    customer.close();
    for (const p of pages) {
      assert.deepEqual(p.problems, [], 'no page errors');
    }
    for (const f of shots) {
      assert.ok(fs.statSync(f).size > 5000, `${f} has content`);
    }
    t.diagnostic(`screenshots: ${shots.join(' ')}`);
  } catch (e) {
    for (const [i, p] of pages.entries()) {
      await shot(p, `failed-${i}`).catch(() => {});
      const state = await p.evaluate(() => window.hetkiDashboard?.state()).catch(() => null);
      console.error(`page ${i}: state ${JSON.stringify(state)}; problems: ${p.problems.join('; ')}`);
    }
    throw e;
  } finally {
    for (const p of pages) {
      await p.close().catch(() => {});
    }
  }
});

test('the pages resync after the service restarts; the supervisor suspends and resumes the ' +
  'tenant with the keyboard; a critical moment reaches the feed', { timeout: 150000 }, async (t) => {
  const pages = [];
  try {
    const agent = await newPage();
    pages.push(agent);
    await signIn(agent, T, 'aino');
    await agent.locator('#hk-my-state').filter({ hasText: 'Available' })
      .waitFor({ timeout: 10000 });
    const sup = await newPage();
    pages.push(sup);
    await signIn(sup, T, 'sanna');

    // The service drains and a new instance takes its address; meanwhile the agent is paused
    // from elsewhere. The pages reconnect with their tokens and show the new state.
    const port = dash.port;
    const st = await stack.kill(dash, 'SIGTERM', 15000);
    assert.equal(st.code, 0, `hetki-dashboard drained and exited cleanly: ${JSON.stringify(st)}`);
    await waitUntil(async () => (await agent.locator('#hk-conn').getAttribute('data-state')) !==
      'live', 5000, 'the page noticed');
    await stack.cliOk('agent', 'pause', '--tenant', T, '--agent', 'aino', '--reason', 'training');
    await shot(agent, '11-agent-reconnecting');
    dash = await stack.dashboard('dash-2', {}, port);
    for (const p of [agent, sup]) {
      await waitUntil(async () => (await p.locator('#hk-conn').getAttribute('data-state')) ===
        'live', 30000, 'the page live again', 200);
    }
    await agent.locator('#hk-my-state').filter({ hasText: 'Paused' }).waitFor({ timeout: 5000 });
    assert.match(await agent.locator('.hk-statebar').innerText(), /training/);
    await waitUntil(async () => (await agentRow(sup, 'aino').getAttribute('data-state')) ===
      'paused', 5000, 'the supervisor sees the pause');
    await shot(agent, '12-agent-resynced');

    // Suspend with the keyboard: switch, then the confirmation.
    const sw = sup.getByRole('switch', { name: 'Tenant suspended' });
    await sw.focus();
    await sup.keyboard.press('Space');
    const yes = sup.getByRole('button', { name: 'Yes, suspend new contacts' });
    await waitUntil(async () => sup.evaluate(() => document.activeElement?.textContent ===
      'Yes, suspend new contacts'), 3000, 'focus on the confirmation');
    await sup.keyboard.press('Enter');
    await waitUntil(async () => (await sw.getAttribute('aria-checked')) === 'true', 10000,
      'the switch on');
    assert.equal(await yes.isVisible(), false);
    const held = await stack.contact(T, { text: 'Tilaus ei ole tullut', urgent: false });
    await waitUntil(async () => (await stack.contactField(T, held, 'state')) === 'held', 10000,
      'a new contact held');
    await shot(sup, '13-supervisor-suspended');
    await sw.click();
    await waitUntil(async () => (await sw.getAttribute('aria-checked')) === 'false', 10000,
      'the switch off');
    await waitUntil(async () => (await stack.contactField(T, held, 'state')) === 'queued', 15000,
      'the held contact released to its queue');

    // A repeat contact is a critical moment: it reaches the supervisor's feed, and the
    // contact's card says why.
    const phone = '+358401112233';
    await stack.contact(T, { text: 'Laskussa on virhe', urgent: false, phone });
    const again = await stack.contact(T, { text: 'Laskussa on yhä virhe', urgent: false, phone });
    const item = sup.locator(`#hk-critical li[data-contact="${again}"]`);
    await item.waitFor({ timeout: 10000 });
    assert.match(await item.innerText(), /Repeat contact/);
    await item.getByRole('button', { name: /^Contact/ }).click();
    await item.locator('[data-reason="repeat_contact"]').waitFor({ timeout: 5000 });
    await shot(sup, '14-supervisor-critical');

    for (const p of pages) {
      assert.deepEqual(p.problems.filter((x) => !/WebSocket connection/.test(x)), [],
        'no page errors besides the refused reconnects');
    }
    t.diagnostic('reconnect, resync and suspension ok');
  } catch (e) {
    for (const [i, p] of pages.entries()) {
      await shot(p, `failed-b${i}`).catch(() => {});
      const state = await p.evaluate(() => window.hetkiDashboard?.state()).catch(() => null);
      console.error(`page ${i}: state ${JSON.stringify(state)}; problems: ${p.problems.join('; ')}`);
    }
    throw e;
  } finally {
    for (const p of pages) {
      await p.close().catch(() => {});
    }
  }
});

test('active work side by side: an email and a chat at once; the email reply stays a draft; ' +
  'transfer; a distressing contact starts a recovery pause', { timeout: 90000 }, async (t) => {
    const S = 'shop';
    await stack.agentWithLogin(S, 'eero', PW, { name: 'Eero Esimerkki', channels: 'chat,email' });
    const page = await newPage();
    try {
      await signIn(page, S, 'eero');
      await page.getByRole('button', { name: 'Go available' }).click();
      await page.locator('#hk-my-state').filter({ hasText: 'Available' })
        .waitFor({ timeout: 10000 });
      const mail = await stack.contact(S, { channel: 'email', urgent: false,
        text: 'Hello, please change the delivery address of order 1234.',
        email: 'maija@example.com' });
      const chatc = await stack.contact(S, { channel: 'chat', urgent: true,
        text: 'My card was stolen, please help!' });
      for (const id of [mail, chatc]) {
        const offer = page.locator(`.hk-offer[data-contact="${id}"]`);
        await offer.waitFor({ timeout: 15000 });
        await offer.getByRole('button', { name: /^Accept/ }).click();
        await page.locator(`.hk-ws[data-contact="${id}"]`).waitFor({ timeout: 10000 });
      }
      const wsMail = page.locator(`.hk-ws[data-contact="${mail}"]`);
      const wsChat = page.locator(`.hk-ws[data-contact="${chatc}"]`);
      await wsMail.locator('.hk-msg-customer').filter({ hasText: 'delivery address' })
        .waitFor({ timeout: 5000 });
      assert.match(await wsMail.locator('h3').innerText(), /^Email with maija@example\.com/);
      assert.equal(await wsMail.getByRole('button', { name: 'Send reply' }).isDisabled(), true,
        'no email channel here: the reply cannot be sent');
      assert.match(await wsMail.innerText(), /draft stays/);
      assert.match(await wsChat.locator('h3').innerText(), /^Chat with/);
      assert.match(await wsChat.locator('.hk-chat-log').innerText(), /card was stolen/);
      const a = await wsMail.boundingBox();
      const b = await wsChat.boundingBox();
      assert.ok(Math.abs(a.y - b.y) < 2 && Math.abs(a.x - b.x) > 400,
        `side by side on a laptop screen: ${JSON.stringify([a, b])}`);
      await shot(page, '15-agent-side-by-side');

      // Transfer the email with a note to a colleague who just became available (the list
      // of agents follows the live agent events): it is offered to her and leaves this page.
      await stack.cliOk('agent', 'register', '--tenant', S, '--agent', 'eila', '--name',
        'Eila Toinen', '--languages', 'fi,sv,en', '--channels', 'chat,email');
      await stack.cliOk('agent', 'available', '--tenant', S, '--agent', 'eila');
      await wsMail.getByLabel('To', { exact: true }).selectOption('agent:eila', { timeout: 10000 });
      await wsMail.getByLabel('Note for the next person').fill('Needs the order system');
      await wsMail.getByRole('button', { name: 'Transfer' }).click();
      await waitUntil(async () => (await wsMail.count()) === 0, 10000, 'the email handed on');
      assert.equal(await stack.contactField(S, mail, 'offer_agent'), 'eila');
      assert.equal(await stack.contactField(S, mail, 'note'), 'Needs the order system');

      // The chat was distressing: propose, the customer confirms (CLI), wrap up with the box
      // ticked: a recovery pause starts and the agent cannot make itself available.
      await wsChat.getByRole('button', { name: 'Propose resolution' }).click();
      await wsChat.locator('.hk-banner').filter({ hasText: 'Waiting for the customer' })
        .waitFor({ timeout: 5000 });
      await stack.cliOk('confirm', '--tenant', S, '--contact', chatc);
      await wsChat.locator('.hk-banner').filter({ hasText: 'confirmed' }).waitFor({ timeout: 5000 });
      await wsChat.getByLabel(/This contact was distressing/).check();
      await wsChat.getByRole('button', { name: 'Wrap up' }).click();
      await waitUntil(async () => (await wsChat.count()) === 0, 10000, 'the chat wrapped up');
      await page.locator('#hk-my-state').filter({ hasText: 'Paused' }).waitFor({ timeout: 10000 });
      assert.match(await page.locator('.hk-statebar').innerText(), /Recovery pause/);
      assert.equal(await page.getByRole('button', { name: 'Go available' }).isDisabled(), true);
      assert.equal(await stack.contactField(S, chatc, 'wrap_code'), 'resolved');
      await shot(page, '16-agent-recovery-pause');
      assert.deepEqual(page.problems, [], 'no page errors');
      t.diagnostic('email and chat side by side, transfer, distressing wrap-up');
    } catch (e) {
      await shot(page, 'failed-c').catch(() => {});
      throw e;
    } finally {
      await page.close().catch(() => {});
    }
  });
