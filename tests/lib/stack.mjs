// stack.mjs: the real servers a node test suite (tests/chat, tests/dashboard) runs against, on
// free loopback ports: a redis-server in a temporary folder, hetki-router replicas and hetki-chat
// instances (binaries from HETKI_BIN_DIR), and the real `hetki` CLI run against them. A suite
// adds its own services by extending Stack (startWeb starts any hetki web service). Logs go
// to the test's folder (HETKI_TEST_TMP, else a new one under /tmp). Every process started here
// is stopped by stop(); run_node.sh also kills anything left carrying this run's HETKI_TEST_TAG.
// Only node's own modules are used, so this file resolves from any suite without packages.
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const binDir = process.env.HETKI_BIN_DIR || '';
const live = new Set();

function killAll() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** An Origin every test chat and dashboard instance allows (for clients that are not its own
 * page). */
export const TEST_ORIGIN = 'http://shop.test';

/** Resolves after ms. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn (async, truthy when done) every stepMs until timeoutMs; returns its value or throws. */
export async function waitUntil(fn, timeoutMs, what, stepMs = 50) {
  const until = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) {
        return last;
      }
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
        (last instanceof Error ? `: ${last.message}` : ''));
    }
    await sleep(stepMs);
  }
}

const taken = new Set();

/** A loopback TCP port that nothing listens on, below the ephemeral range, not handed out before. */
export async function freePort() {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (taken.has(port)) {
      continue;
    }
    const ok = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port');
}

/** HTTP GET on loopback; resolves {status, body, headers} or null when nobody answers. */
export async function httpGet(port, urlPath, headers = {}) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
      headers, signal: AbortSignal.timeout(3000),
    });
    return { status: res.status, body: await res.text(), headers: res.headers };
  } catch {
    return null;
  }
}

/** Runs a program to its end (20 s unless opts.timeout), with input on its standard input when
 * given; resolves {code, stdout, stderr}: code -1 and the reason appended to stderr when it
 * could not start, timed out or died of a signal. Never rejects. */
export function runProgram(file, args, opts = {}, input = undefined) {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: 20000, maxBuffer: 1 << 24, ...opts },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout,
          stderr: err && typeof err.code !== 'number' ? `${stderr}${err.message}` : stderr });
      });
    if (input !== undefined) {
      child.stdin.on('error', () => {}); // the program may exit without reading it
      child.stdin.end(input);
    }
  });
}

export class Stack {
  /** name: a short label for the folder of this stack's logs and data. */
  constructor(name) {
    const base = process.env.HETKI_TEST_TMP || os.tmpdir();
    this.dir = fs.mkdtempSync(path.join(base, `${name}-`));
    this.procs = [];
    this.redisPort = 0;
    this.routers = new Map();
    this.chats = new Map();
  }

  /** The path of a hetki binary in HETKI_BIN_DIR; throws when that is not set. */
  bin(name) {
    if (!binDir) {
      throw new Error('HETKI_BIN_DIR is not set (run the tests through ctest)');
    }
    return path.join(binDir, name);
  }

  /** Starts file with env added to ours, its output in <dir>/<name>.log; returns the process
   * record {name, child, logPath, exited (a promise of {code, signal}), status once gone}. */
  spawn(name, file, args, env) {
    const logPath = path.join(this.dir, `${name}.log`);
    const fd = fs.openSync(logPath, 'a');
    const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    const proc = { name, child, logPath, exited: null };
    proc.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        live.delete(child);
        proc.status = { code, signal };
        resolve(proc.status);
      });
    });
    child.on('error', () => {});
    live.add(child);
    this.procs.push(proc);
    return proc;
  }

  /** Sends sig and waits up to ms for the process to go (then SIGKILL). */
  async kill(proc, sig = 'SIGTERM', ms = 5000) {
    proc.stopped = true; // on purpose: stop() does not count it as a crash
    if (proc.status) {
      return proc.status;
    }
    proc.child.kill(sig);
    const t = setTimeout(() => proc.child.kill('SIGKILL'), ms);
    const st = await proc.exited;
    clearTimeout(t);
    return st;
  }

  /** Starts redis-server (no persistence) on a free port and waits until it answers; resolves
   * the port. */
  async redis() {
    this.redisPort = await freePort();
    this.redisProc = this.spawn('redis', 'redis-server', [
      '--port', String(this.redisPort), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', 'no', '--daemonize', 'no',
    ], {});
    await waitUntil(async () => (await this.rcli('PING')) === 'PONG', 10000, 'redis-server');
    return this.redisPort;
  }

  /** Runs one Redis command; resolves redis-cli's raw output, trimmed. */
  async rcli(...args) {
    const r = await runProgram('redis-cli', ['-p', String(this.redisPort), '--raw', ...args]);
    return r.stdout.replace(/\n$/, '');
  }

  /** The environment every hetki service of this stack gets. */
  baseEnv(instance, adminPort) {
    return {
      HETKI_REDIS_PORT: String(this.redisPort),
      HETKI_ADMIN_PORT: String(adminPort),
      HETKI_INSTANCE: instance,
      HETKI_REGISTRY_TTL_MS: '1500',
      HETKI_LOG_LEVEL: process.env.HETKI_TEST_LOG_LEVEL || 'info',
    };
  }

  /** Waits until the admin port's /readyz answers 200; throws after ms. */
  async waitReady(adminPort, what, ms = 20000) {
    await waitUntil(async () => (await httpGet(adminPort, '/readyz'))?.status === 200, ms,
      `${what} /readyz`);
  }

  /** Starts a router replica (ephemeral bus ports) and waits until it is registered. */
  async router(instance, env = {}) {
    const admin = await freePort();
    const proc = this.spawn(instance, this.bin('hetki-router'), [], {
      ...this.baseEnv(instance, admin), HETKI_ROUTER_CONTACTS_PORT: '0',
      HETKI_ROUTER_EVENTS_PORT: '0', ...env,
    });
    proc.adminPort = admin;
    await this.waitReady(admin, instance);
    await waitUntil(async () => (await this.rcli('HGET', `hk:{registry}:inst:router/${instance}`,
      'ep:contacts')).startsWith('tcp://'), 10000, `${instance} registration`);
    this.routers.set(instance, proc);
    return proc;
  }

  /** Starts a hetki web service (binary, settings HETKI_<key>_PORT and HETKI_<key>_ORIGINS)
   * on port, or a free one, allowing its own page's origin and TEST_ORIGIN; env overrides
   * settings. Waits until ready; resolves the process with port, adminPort, url (ws), origin
   * and http (the page). */
  async startWeb(instance, binary, key, env = {}, port = 0) {
    const admin = await freePort();
    port = port || await freePort();
    const proc = this.spawn(instance, this.bin(binary), [], {
      ...this.baseEnv(instance, admin),
      [`HETKI_${key}_PORT`]: String(port),
      [`HETKI_${key}_ORIGINS`]: `http://127.0.0.1:${port},http://localhost:${port},${TEST_ORIGIN}`,
      ...env,
    });
    proc.adminPort = admin;
    proc.port = port;
    proc.url = `ws://127.0.0.1:${port}/ws`;
    proc.origin = `http://127.0.0.1:${port}`;
    proc.http = `http://127.0.0.1:${port}/`;
    await this.waitReady(admin, instance);
    return proc;
  }

  /** Starts a chat instance (on port, or a free one): see startWeb. */
  async chat(instance, env = {}, port = 0) {
    const proc = await this.startWeb(instance, 'hetki-chat', 'CHAT', env, port);
    this.chats.set(instance, proc);
    return proc;
  }

  /** Runs the hetki CLI against this stack's Redis; resolves {code, stdout, stderr}. */
  async cli(...args) {
    return runProgram(this.bin('hetki'), args, { env: this.cliEnv() });
  }

  /** The environment of a program run against this stack's Redis. */
  cliEnv() {
    return { ...process.env, HETKI_REDIS_PORT: String(this.redisPort), HETKI_LOG_LEVEL: 'warn' };
  }

  /** Like cli() but throws with the output when the command fails. */
  async cliOk(...args) {
    const r = await this.cli(...args);
    if (r.code !== 0) {
      throw new Error(`hetki ${args.join(' ')} -> exit ${r.code}: ${r.stderr}${r.stdout}`);
    }
    return r.stdout;
  }

  /** The contact's hash field. */
  async contactField(tenant, contact, field) {
    return this.rcli('HGET', `hk:{${tenant}}:contact:${contact}`, field);
  }

  /** The conversation of a contact, parsed. */
  async conversation(tenant, contact) {
    const raw = await this.rcli('LRANGE', `hk:{${tenant}}:conv:${contact}`, '0', '-1');
    return raw ? raw.split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  }

  /** How many messages wait in a chat session's outbox. */
  async outboxLength(tenant, session) {
    return Number(await this.rcli('LLEN', `hk:{${tenant}}:outbox:${session}`));
  }

  /** Registers an agent with the CLI and makes it available. */
  async agent(tenant, agent, name, langs = 'fi,sv,en') {
    await this.cliOk('agent', 'register', '--tenant', tenant, '--agent', agent, '--name', name,
      '--languages', langs, '--channels', 'chat');
    await this.cliOk('agent', 'available', '--tenant', tenant, '--agent', agent);
  }

  /** Waits until the contact is offered to agent, then accepts it with the CLI. */
  async accept(tenant, agent, contact, ms = 15000) {
    await waitUntil(async () => (await this.contactField(tenant, contact, 'state')) === 'offered' &&
      (await this.contactField(tenant, contact, 'offer_agent')) === agent, ms,
    `contact ${contact} offered to ${agent}`, 100);
    await this.cliOk('agent', 'accept', '--tenant', tenant, '--agent', agent, '--contact', contact);
  }

  /** The last lines of every log, for a failure report. */
  logTails(lines = 30) {
    return this.procs.map((p) => {
      let text = '';
      try {
        text = fs.readFileSync(p.logPath, 'utf8').split('\n').slice(-lines).join('\n');
      } catch {
        text = '(no log)';
      }
      return `--- ${p.name} (${p.logPath})\n${text}`;
    }).join('\n');
  }

  /** Stops everything (services first, then Redis) and throws when a hetki service that
   * was still running does not exit cleanly on SIGTERM (exit 0: drained, no sanitizer
   * report), or had already died on its own. */
  async stop() {
    const services = this.procs.filter((p) => p !== this.redisProc);
    const running = services.filter((p) => !p.status);
    const died = services.filter((p) => p.status && !p.stopped);
    await Promise.all(running.map((p) => this.kill(p, 'SIGTERM', 15000)));
    if (this.redisProc) {
      await this.kill(this.redisProc);
    }
    const bad = [...died, ...running.filter((p) => p.status.code !== 0)];
    if (bad.length) {
      throw new Error(bad.map((p) => `${p.name} exited ${JSON.stringify(p.status)}` +
        `${died.includes(p) ? ' before the end of the test' : ''}:\n` +
        fs.readFileSync(p.logPath, 'utf8').split('\n').slice(-40).join('\n')).join('\n'));
    }
  }
}
