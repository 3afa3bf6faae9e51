// bench/chat/client.mjs: the load client of the chat benchmark (bench/chat/run), node + `ws`
// from tests/chat/node_modules. Modes:
//   idle --url U --count N --pid P [--workers W]
//       N customer connections (each: hello -> welcome), held idle; reads the service's VmRSS
//       (/proc/P/status) before and after and prints the memory per connection.
//   burst --url U --conns C --count M [--window K]
//       M messages over C connections, K unacked per connection: acked messages/s, latency.
//   fixed --url U --conns C --rate R --seconds S
//       open loop at R messages/s: latency percentiles at that rate.
// Common: --origin O (default http://bench.test), --tenant T (default bench).
// Each prints one line of key=value results on stdout; progress goes to stderr.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/chat/package.json'));
const WebSocket = require('ws');

function args() {
  const out = { mode: process.argv[2] };
  for (let i = 3; i < process.argv.length; i += 2) {
    out[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  }
  return out;
}
const opt = args();
const url = opt.url;
const origin = opt.origin || 'http://bench.test';
const tenant = opt.tenant || 'bench';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssKib(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)[1]);
}

function pct(sorted, p) {
  if (!sorted.length) {
    return 0;
  }
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Opens one customer connection and waits for its welcome; resolves the socket. */
function customer(timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'hetki-chat.v1', { headers: { Origin: origin },
      perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const t = setTimeout(() => {
      ws.terminate();
      reject(new Error('no welcome'));
    }, timeoutMs);
    ws.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', tenant, lang: 'en' })));
    ws.on('message', function first(data) {
      const f = JSON.parse(data.toString());
      if (f.type === 'welcome') {
        clearTimeout(t);
        ws.removeListener('message', first);
        resolve(ws);
      }
    });
  });
}

/** Opens n customers with at most `parallel` handshakes at once; resolves the sockets. */
async function customers(n, parallel = 200) {
  const socks = [];
  let next = 0;
  let failed = 0;
  async function lane() {
    while (next < n) {
      next += 1;
      try {
        socks.push(await customer());
      } catch {
        failed += 1;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, lane));
  return { socks, failed };
}

/* ---- idle: many connections, memory per connection ---- */

async function idleWorker() {
  const { socks, failed } = await customers(Number(opt.count));
  process.send({ open: socks.length, failed });
  process.on('message', (m) => {
    if (m === 'close') {
      socks.forEach((s) => s.terminate());
      setTimeout(() => process.exit(0), 200);
    }
  });
}

async function idle() {
  const n = Number(opt.count);
  const workers = Number(opt.workers || Math.max(1, Math.ceil(n / 5000)));
  const pid = Number(opt.pid);
  const before = rssKib(pid);
  const started = Date.now();
  const kids = [];
  const reports = [];
  for (let w = 0; w < workers; w++) {
    const share = Math.floor(n / workers) + (w < n % workers ? 1 : 0);
    const kid = fork(fileURLToPath(import.meta.url), ['idle-worker', '--url', url, '--origin',
      origin, '--tenant', tenant, '--count', String(share)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    kids.push(kid);
    reports.push(new Promise((resolve) => kid.once('message', resolve)));
  }
  const got = await Promise.all(reports);
  const open = got.reduce((a, r) => a + r.open, 0);
  const failed = got.reduce((a, r) => a + r.failed, 0);
  const secs = (Date.now() - started) / 1000;
  await sleep(2000); // let the service settle (allocator, Redis replies)
  const afterKib = rssKib(pid);
  const per = open ? ((afterKib - before) * 1024) / open : 0;
  console.log(`idle connections=${open} failed=${failed} connect_s=${secs.toFixed(1)} ` +
    `rss_before_kib=${before} rss_after_kib=${afterKib} bytes_per_conn=${per.toFixed(0)}`);
  kids.forEach((k) => k.send('close'));
  await Promise.all(kids.map((k) => new Promise((r) => k.once('exit', r))));
}

/* ---- burst and fixed: messages -> acks ---- */

let idSeq = 0;
function newId() {
  idSeq += 1;
  return `b${process.pid}x${idSeq}`;
}

/** Wraps a customer socket: send(id) resolves the ack latency in ms. */
function tracker(ws, stats) {
  const sent = new Map();
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString());
    if (f.type === 'ack' && sent.has(f.id)) {
      const t0 = sent.get(f.id);
      sent.delete(f.id);
      const ms = Number(process.hrtime.bigint() - t0.at) / 1e6;
      stats.lat.push(ms);
      t0.resolve(ms);
    } else if (f.type === 'error') {
      stats.errors[f.code] = (stats.errors[f.code] || 0) + 1;
      if (f.id && sent.has(f.id)) {
        const t0 = sent.get(f.id);
        sent.delete(f.id);
        t0.resolve(-1);
      }
    }
  });
  return {
    send(text) {
      const id = newId();
      return new Promise((resolve) => {
        sent.set(id, { at: process.hrtime.bigint(), resolve });
        ws.send(JSON.stringify({ type: 'message', id, text }));
      });
    },
  };
}

async function setupConns(c) {
  const { socks, failed } = await customers(c, 50);
  if (failed) {
    throw new Error(`${failed} connections failed`);
  }
  const warm = { lat: [], errors: {} };
  const ts = socks.map((s) => tracker(s, warm));
  // Each connection's first message creates its contact; later ones are conversation messages.
  await Promise.all(ts.map((t) => t.send('I would like to ask about my order')));
  return { socks, ts };
}

function summary(stats, secs) {
  const sorted = Float64Array.from(stats.lat).sort();
  const errs = Object.entries(stats.errors).map(([k, v]) => `${k}:${v}`).join(',') || 'none';
  return `acked=${sorted.length} rate_per_s=${(sorted.length / secs).toFixed(0)} ` +
    `p50_ms=${pct(sorted, 50).toFixed(3)} p99_ms=${pct(sorted, 99).toFixed(3)} ` +
    `max_ms=${(sorted.length ? sorted[sorted.length - 1] : 0).toFixed(3)} errors=${errs}`;
}

async function burst() {
  const c = Number(opt.conns || 50);
  const m = Number(opt.count || 20000);
  const k = Number(opt.window || 4);
  const { socks } = await setupConns(c);
  const stats = { lat: [], errors: {} };
  const ts = socks.map((s) => tracker(s, stats));
  let left = m;
  const t0 = Date.now();
  async function lane(t) {
    while (left > 0) {
      left -= 1;
      await t.send('Where is my parcel? It was due yesterday.');
    }
  }
  await Promise.all(ts.flatMap((t) => Array.from({ length: k }, () => lane(t))));
  const secs = (Date.now() - t0) / 1000;
  console.log(`burst conns=${c} window=${k} ${summary(stats, secs)}`);
  socks.forEach((s) => s.terminate());
}

async function fixed() {
  const c = Number(opt.conns || 50);
  const rate = Number(opt.rate || 2000);
  const secs = Number(opt.seconds || 10);
  const { socks } = await setupConns(c);
  const stats = { lat: [], errors: {} };
  const ts = socks.map((s) => tracker(s, stats));
  const total = Math.round(rate * secs);
  const pending = [];
  const start = process.hrtime.bigint();
  let i = 0;
  while (i < total) {
    const due = Number(process.hrtime.bigint() - start) / 1e9 * rate;
    while (i < total && i < due) {
      pending.push(ts[i % c].send('Is the shop open on Sunday?'));
      i += 1;
    }
    await sleep(1);
  }
  await Promise.race([Promise.all(pending), sleep(30000)]);
  const took = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`fixed conns=${c} target_per_s=${rate} sent=${total} ${summary(stats, took)}`);
  socks.forEach((s) => s.terminate());
}

const modes = { idle, 'idle-worker': idleWorker, burst, fixed };
if (!modes[opt.mode] || !url) {
  console.error('usage: client.mjs idle|burst|fixed --url ws://host:port/ws [options]');
  process.exit(2);
}
const guard = setTimeout(() => {
  console.error(`client: ${opt.mode} did not finish in time`);
  process.exit(3);
}, Number(opt.timeout || 600) * 1000);
guard.unref();
modes[opt.mode]().catch((e) => {
  console.error(`client: ${e.message}`);
  process.exit(1);
});
