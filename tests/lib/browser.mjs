// browser.mjs: the headless Chromium the end-to-end tests of the node suites drive (Debian's
// chromium, HETKI_CHROMIUM to override), launched the same way for every suite: headless, no
// sandbox, GPU, QUIC or background traffic, with a fresh profile. The suite passes its own
// playwright-core `chromium` in: this file imports no package, so it resolves the same from
// every suite (each suite installs playwright-core in its own node_modules).
import fs from 'node:fs';
import path from 'node:path';

/** The Chromium binary the tests use. */
export const chromiumPath = process.env.HETKI_CHROMIUM || '/usr/bin/chromium';

/** Launches Chromium through playwright-core's chromium with a new profile folder under dir;
 * viewport and locale as playwright takes them. Resolves the persistent browser context (the
 * caller closes it). */
export async function launchChromium(chromium, dir, { viewport, locale }) {
  const profile = fs.mkdtempSync(path.join(dir, 'chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
    viewport,
    locale,
    timeout: 30000,
  });
}
