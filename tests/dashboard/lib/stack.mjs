// stack.mjs: the dashboard tests' stack: the shared one (tests/lib/stack.mjs: redis-server,
// hetki-router, hetki-chat, the hetki CLI) plus hetki-dashboard instances, the whole stack most
// tests need in one call, and the CLI commands of the dashboard's accounts, agent profiles and
// contacts.
import { Stack as BaseStack, runProgram } from '../../lib/stack.mjs';

export { TEST_ORIGIN, freePort, httpGet, sleep, waitUntil } from '../../lib/stack.mjs';

export class Stack extends BaseStack {
  /** name: a short label for the folder. */
  constructor(name) {
    super(`dash-${name}`);
    this.dashboards = new Map();
  }

  /** Starts a dashboard instance (on port, or a free one) allowing its own page's origin and
   * TEST_ORIGIN; env overrides settings (e.g. HETKI_DASHBOARD_RATE). Resolves the process with
   * port, adminPort, url (ws), origin and http (the page). */
  async dashboard(instance, env = {}, port = 0) {
    const proc = await this.startWeb(instance, 'hetki-dashboard', 'DASHBOARD', env, port);
    this.dashboards.set(instance, proc);
    return proc;
  }

  /** The whole stack most tests need: Redis, one router, one dashboard (and a chat instance
   * when chat is true). Resolves {router, dashboard, chat}. */
  async start({ chat = false, dashboardEnv = {}, routerEnv = {} } = {}) {
    await this.redis();
    const router = await this.router('router-1', routerEnv);
    const chatProc = chat ? await this.chat('chat-1') : null;
    const dashboard = await this.dashboard('dash-1', dashboardEnv);
    return { router, dashboard, chat: chatProc };
  }

  /** Creates a login account with `hetki agent add` (password on stdin; fast hash settings
   * for tests). role: agent | supervisor. With count > 1, makes ids id1..idN. */
  async account(tenant, id, role, password, { name = '', count = 0 } = {}) {
    const args = ['agent', 'add', '--tenant', tenant, '--id', id, '--role', role];
    if (name) {
      args.push('--name', name);
    }
    if (count) {
      args.push('--count', String(count));
    }
    const r = await this.cliInput(`${password}\n`, ...args);
    if (r.code !== 0) {
      throw new Error(`hetki ${args.join(' ')} -> exit ${r.code}: ${r.stderr}${r.stdout}`);
    }
    return r.stdout;
  }

  /** An agent that can work: its routing profile (hetki agent register) plus a login
   * account. available: make it available too. */
  async agentWithLogin(tenant, id, password, { name = id, langs = 'fi,sv,en',
    channels = 'chat,phone,email,kiosk', available = false } = {}) {
    await this.cliOk('agent', 'register', '--tenant', tenant, '--agent', id, '--name', name,
      '--languages', langs, '--channels', channels);
    await this.account(tenant, id, 'agent', password, { name });
    if (available) {
      await this.cliOk('agent', 'available', '--tenant', tenant, '--agent', id);
    }
  }

  /** Runs any program with this stack's Redis in its environment; resolves {code, stdout,
   * stderr}. */
  async run(file, args, timeout = 120000) {
    return runProgram(file, args, { timeout, env: this.cliEnv() });
  }

  /** Runs the hetki CLI with text on its standard input (fast password hashing). */
  async cliInput(input, ...args) {
    return runProgram(this.bin('hetki'), args, {
      timeout: 120000,
      env: { ...this.cliEnv(), HETKI_PWHASH_OPS: '1', HETKI_PWHASH_MEM_KIB: '8192' },
    }, input);
  }

  /** Submits a contact with `hetki send`; resolves the contact id. */
  async contact(tenant, { channel = 'chat', text = 'Hello', urgent = true, phone = '',
    email = '' } = {}) {
    const args = ['send', '--tenant', tenant, '--channel', channel, '--text', text];
    if (urgent) {
      args.push('--urgent');
    }
    if (phone) {
      args.push('--phone', phone);
    }
    if (email) {
      args.push('--email', email);
    }
    const out = await this.cliOk(...args);
    const m = out.match(/contact_id=([0-9A-Za-z]+)/);
    if (!m) {
      throw new Error(`no contact id in: ${out}`);
    }
    return m[1];
  }
}
