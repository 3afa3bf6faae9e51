// e2e_widget: the customer widget end to end in headless Chromium (playwright-core driving
// Debian's chromium, HETKI_CHROMIUM to override) against the real stack: open the demo page,
// send a message, see the reassurance in Finnish and then in English, press "talk to a
// person"; an agent takes the conversation with the real CLI and replies with `hetki agent
// say`; the reply appears under the agent's name; the agent proposes a resolution and the
// customer confirms it. A page in English, a reload, and a service restart while the customer
// writes: the message waits as "sending" and is sent after the reconnect, stored once.
// Screenshots go to HETKI_ARTIFACTS (the build's artifacts/ folder).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { launchChromium } from '../lib/browser.mjs';
import { Stack, sleep, waitUntil } from '../lib/stack.mjs';

const T = 'demo';
const artifacts = process.env.HETKI_ARTIFACTS || path.join(process.cwd(), 'artifacts');
let stack;
let chat;
let context;

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  stack = new Stack('e2e');
  await stack.redis();
  await stack.router('rt-a');
  chat = await stack.chat('chat-a', { HETKI_CHAT_TENANT: T });
  context = await launchChromium(chromium, stack.dir,
    { viewport: { width: 1100, height: 760 }, locale: 'fi-FI' });
}, { timeout: 90000 });

after(async () => {
  await context?.close().catch(() => {});
  await stack?.stop();
});

/** Runs fn(page) on a new page; on failure keeps a screenshot and the widget's state. */
async function onPage(name, fn) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') {
      problems.push(`console ${m.type()}: ${m.text()}`);
    }
  });
  try {
    await fn(page, problems);
  } catch (e) {
    const state = await page.evaluate(() => window.hetkiChat?.state()).catch(() => null);
    await shot(page, `failed-${name}`).catch(() => {});
    console.error(`${name}: widget state: ${JSON.stringify(state)}`);
    console.error(`${name}: page problems: ${problems.join('\n  ') || 'none'}`);
    throw e;
  } finally {
    await page.close();
  }
}

async function shot(page, name) {
  const file = path.join(artifacts, `chat-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

test('demo page: reassurance in fi and en, talk to a person, the agent replies',
  { timeout: 120000 }, () => onPage('fi', async (page, problems) => {
    await page.goto(`http://127.0.0.1:${chat.port}/`, { waitUntil: 'load' });
    await page.locator('.hk-chat-launcher').waitFor({ state: 'visible', timeout: 10000 });
    assert.equal(await page.locator('.hk-chat-launcher').innerText(), 'Kysy meiltä');

    // Open the panel: the way to a human is visible at once.
    await page.locator('.hk-chat-launcher').click();
    const person = page.getByRole('button', { name: 'Puhu ihmisen kanssa' });
    await person.waitFor({ state: 'visible', timeout: 5000 });
    const input = page.getByLabel('Viestisi');
    await input.fill('Hei! Tilaamani pyörä ei ole vieläkään tullut. Missä se on?');
    const sentAt = Date.now();
    await page.getByRole('button', { name: 'Lähetä' }).click();
    const mine = page.locator('.hk-chat-msg-customer').first();
    await mine.waitFor({ timeout: 5000 });

    // Immediate reassurance, in Finnish, within a second.
    const reassure = page.locator('.hk-chat-reassure');
    await reassure.waitFor({ state: 'visible', timeout: 5000 });
    const waited = Date.now() - sentAt;
    const fi = await reassure.innerText();
    assert.match(fi, /Viestisi on vastaanotettu\./);
    assert.match(fi, /Arvioitu odotusaika/);
    assert.ok(waited < 1000, `reassured within 1 s (took ${waited} ms)`);
    await waitUntil(async () => (await mine.getAttribute('data-state')) === 'sent', 5000,
      'the message marked sent');
    assert.equal(await mine.locator('.hk-chat-msg-state').innerText(), 'Lähetetty');
    const shotFi = await shot(page, 'reassure-fi');

    // Switch to English: the same reassurance, now in English.
    await page.getByLabel('Kieli').selectOption('en');
    await waitUntil(async () => /Your message has been received\./.test(await reassure.innerText()),
      3000, 'the English reassurance');
    assert.match(await reassure.innerText(), /Estimated wait/);
    assert.equal(await mine.locator('.hk-chat-msg-state').innerText(), 'Sent');
    const shotEn = await shot(page, 'reassure-en');

    // Talk to a person: routed as personal.
    const contact = await page.evaluate(() => window.hetkiChat.state().contact);
    assert.ok(contact, 'the widget knows its contact');
    await page.getByRole('button', { name: 'Talk to a person' }).click();
    await waitUntil(async () => (await stack.contactField(T, contact, 'reasons'))
      .includes('choice:talk_to_person'), 5000, 'the contact routed as personal');
    assert.equal(await stack.contactField(T, contact, 'class'), 'personal');

    // An agent takes it and replies over the bus.
    await stack.agent(T, 'anna', 'Anna Virtanen');
    await stack.accept(T, 'anna', contact);
    await page.locator('.hk-chat-joined').filter({ hasText: 'Anna Virtanen' })
      .waitFor({ timeout: 5000 });
    await stack.cliOk('agent', 'say', '--tenant', T, '--agent', 'anna', '--contact', contact,
      '--text', 'Hei, tässä Anna! Tarkistan tilauksesi tilan heti.');
    const reply = page.locator('.hk-chat-msg-agent').last();
    await reply.waitFor({ timeout: 5000 });
    assert.equal(await reply.locator('.hk-chat-msg-name').innerText(), 'Anna Virtanen');
    assert.match(await reply.locator('.hk-chat-msg-text').innerText(), /Tarkistan tilauksesi/);
    // The widget confirmed delivery: the outbox is empty again.
    const session = await page.evaluate(() => window.hetkiChat.state().session);
    await waitUntil(async () => (await stack.outboxLength(T, session)) === 0, 5000,
      'received emptied the outbox');
    const shotAgent = await shot(page, 'agent-reply');

    // Resolution proposed; the customer confirms with the keyboard-reachable button.
    await stack.cliOk('agent', 'propose', '--tenant', T, '--agent', 'anna', '--contact', contact);
    const yes = page.locator('.hk-chat-resolution').getByRole('button', { name: 'Yes' });
    await yes.waitFor({ timeout: 5000 });
    await yes.click();
    await page.locator('.hk-chat-closed').waitFor({ timeout: 5000 });
    assert.equal(await stack.contactField(T, contact, 'state'), 'closed');
    const shotClosed = await shot(page, 'closed');

    assert.deepEqual(problems, []);
    for (const f of [shotFi, shotEn, shotAgent, shotClosed]) {
      assert.ok(fs.statSync(f).size > 5000, `${f} has content`);
    }
    console.log(`reassured in ${waited} ms; screenshots: ${[shotFi, shotEn, shotAgent, shotClosed]
      .join(' ')}`);
  }));

test('a page in English and a reload keep the conversation', { timeout: 60000 },
  () => onPage('en', async (page) => {
  // Another origin (localhost, allowed too): a fresh customer with storage of its own.
  const origin = `http://localhost:${chat.port}`;
  // The page's language decides when the tag has no data-lang: make the demo page English
  // (an init script: a document answered by the test itself would count as a public page,
  // and Chromium's local network access checks would then block its websocket).
  await page.addInitScript(() => {
    new MutationObserver((_, obs) => {
      if (document.documentElement) {
        document.documentElement.lang = 'en';
        obs.disconnect();
      }
    }).observe(document, { childList: true });
  });
  await page.goto(`${origin}/`, { waitUntil: 'load' });
  await page.locator('.hk-chat-launcher').click();
  assert.equal(await page.locator('.hk-chat-title').innerText(), 'Customer service');
  await page.getByLabel('Your message').fill('Do you repair electric bikes?');
  await page.keyboard.press('Enter');
  const reassure = page.locator('.hk-chat-reassure');
  await reassure.waitFor({ timeout: 5000 });
  assert.match(await reassure.innerText(), /Your message has been received\./);

  // Reload: the resume token brings the conversation back.
  await page.reload({ waitUntil: 'load' });
  await page.locator('.hk-chat-msg-customer').filter({ hasText: 'electric bikes' })
    .waitFor({ timeout: 10000 });
  assert.equal(await page.locator('.hk-chat-msg-customer').count(), 1);
  await shot(page, 'resumed-en');
}));

test('the service restarts while the customer writes: resent after the reconnect, stored once',
  { timeout: 90000 }, () => onPage('restart', async (page) => {
    await page.goto(`http://127.0.0.1:${chat.port}/`, { waitUntil: 'load' });
    const launcher = page.locator('.hk-chat-launcher');
    if (await launcher.isVisible()) {
      await launcher.click();
    }
    const input = page.locator('.hk-chat-input');
    await input.fill('Ensimmäinen viesti ennen huoltokatkoa');
    await input.press('Enter');
    const first = page.locator('.hk-chat-msg-customer').last();
    await waitUntil(async () => (await first.getAttribute('data-state')) === 'sent', 10000,
      'the first message sent');

    // SIGTERM: the service drains (tells the widget to reconnect) and exits.
    const port = chat.port;
    const st = await stack.kill(chat, 'SIGTERM', 15000);
    assert.equal(st.code, 0, `hetki-chat drained and exited cleanly: ${JSON.stringify(st)}`);
    await input.fill('Tämä kirjoitettiin katkon aikana');
    await input.press('Enter');
    const during = page.locator('.hk-chat-msg-customer').last();
    await during.waitFor({ timeout: 5000 });
    await sleep(1000);
    assert.notEqual(await during.getAttribute('data-state'), 'sent', 'not sent while down');
    const id = await during.getAttribute('data-id');
    assert.deepEqual(await page.evaluate(() => window.hetkiChat.state().pending), [id]);
    await shot(page, 'offline');

    // Another instance on the same address (as behind a load balancer): the widget resumes
    // and resends; the service acks after the router stored it.
    chat = await stack.chat('chat-b', { HETKI_CHAT_TENANT: T }, port);
    await waitUntil(async () => (await during.getAttribute('data-state')) === 'sent', 40000,
      'the message sent after the reconnect', 200);
    const contact = await page.evaluate(() => window.hetkiChat.state().contact);
    const conv = await stack.conversation(T, contact);
    assert.equal(conv.filter((m) => m.id === id).length, 1, 'stored once');
    assert.equal(await page.locator(`.hk-chat-msg[data-id="${id}"]`).count(), 1, 'shown once');
    await shot(page, 'reconnected');
  }));
