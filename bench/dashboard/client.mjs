// bench/dashboard/client.mjs: the load client of the dashboard benchmark (bench/dashboard/run),
// node + `ws` from tests/dashboard/node_modules.
//
//   node client.mjs --url ws://127.0.0.1:P/ws --tenant T --prefix P --count N --password PW
//       [--workers W] [--drive "CMD ARGS..."] [--settle-s S] [--redis-port P] [--ref-s S]
//       [--ref-rate R]
//
// 1. W worker processes open N agent sessions between them (accounts <prefix>1..<prefix>N:
//    `login`, wait for the `snapshot`), answering nothing but a `ping` every 30 s.
// 2. Reference in the same run, first (with --redis-port): the same workers open N plain
//    Redis SUBSCRIBE connections next to the sessions and the parent PUBLISHes timestamps at
//    --ref-rate per second (the rate of tenant-wide events the drive will cause: one wrap-up
//    per contact) for --ref-s seconds; the same latency from publication to receipt at every
//    subscriber. It runs before the drive so that a dashboard backlog cannot disturb it.
// 3. Then the parent runs the --drive command (the contact flow, e.g.
//    hetki-loadgen at a fixed rate) and every worker measures, for every `event` frame, the
//    time from the router's publication (`at_ms`) to its receipt. It also checks the
//    per-connection `seq` (a jump is a gap) and counts snapshots after the first (resyncs),
//    closes, `stats` frames and bytes.
// Prints one `fanout ...` and one `reference ...` line of key=value; progress on stderr.
import { fork, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/dashboard/package.json'));
const WebSocket = require('ws');

const opt = { mode: 'main' };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === 'worker') {
    opt.mode = 'worker';
  } else if (a.startsWith('--')) {
    opt[a.slice(2)] = process.argv[i + 1];
    i += 1;
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Wall-clock ms, like the router's at_ms (CLOCK_REALTIME): performance.timeOrigin +
// performance.now() drifts away from it on a long-running process (seen: 80 ms here).
const nowMs = () => Date.now();
const log = (s) => process.stderr.write(`${s}\n`);

/* Latency histogram: 0.1 ms buckets up to 60 s. */
const BUCKET_MS = 0.1;
const BUCKETS = 600000;
function newHist() {
  return { counts: new Uint32Array(BUCKETS + 1), n: 0, max: 0, neg: 0 };
}
function record(hist, ms) {
  if (ms < -1) {
    hist.neg += 1; // clocks disagree (should not happen on one machine)
  }
  const v = Math.max(0, ms);
  hist.counts[Math.min(BUCKETS, Math.floor(v / BUCKET_MS))] += 1;
  hist.n += 1;
  if (v > hist.max) {
    hist.max = v;
  }
}
function merge(into, h) {
  const counts = h.counts instanceof Uint32Array ? h.counts : Uint32Array.from(h.counts);
  for (let i = 0; i < counts.length; i++) {
    into.counts[i] += counts[i];
  }
  into.n += h.n;
  into.max = Math.max(into.max, h.max);
  into.neg += h.neg;
}
function pct(hist, p) {
  if (!hist.n) {
    return 0;
  }
  const want = Math.ceil((p / 100) * hist.n);
  let seen = 0;
  for (let i = 0; i <= BUCKETS; i++) {
    seen += hist.counts[i];
    if (seen >= want) {
      return i * BUCKET_MS;
    }
  }
  return hist.max;
}
/** Sparse form for IPC (a 600k array would be slow to send). */
function pack(hist) {
  const idx = [];
  const val = [];
  hist.counts.forEach((c, i) => {
    if (c) {
      idx.push(i);
      val.push(c);
    }
  });
  return { idx, val, n: hist.n, max: hist.max, neg: hist.neg };
}
function unpack(p) {
  const h = newHist();
  p.idx.forEach((i, k) => {
    h.counts[i] = p.val[k];
  });
  h.n = p.n;
  h.max = p.max;
  h.neg = p.neg;
  return h;
}

/* ---------------- worker ---------------- */

async function worker() {
  const first = Number(opt.first);
  const count = Number(opt.count);
  const sessions = [];
  let measuring = false;
  const hist = newHist(); // every event delivery
  const wide = newHist(); // tenant-wide (agent.*) deliveries only
  const st = { events: 0, wideEvents: 0, stats: 0, bytes: 0, gaps: 0, resyncs: 0, closed: 0,
    closeCodes: {}, errors: 0, messages: 0 };
  const perSessionWide = [];

  function open(i) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(opt.url, 'hetki-dashboard.v1', { headers: { Origin: opt.origin },
        perMessageDeflate: false, handshakeTimeout: 30000, maxPayload: 64 << 20 });
      const s = { ws, seq: 0, snapshots: 0, wide: 0, id: `${opt.prefix}${i}` };
      const t = setTimeout(() => {
        ws.terminate();
        reject(new Error(`${s.id}: no snapshot in 60 s`));
      }, 60000);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'login', tenant: opt.tenant, id: s.id,
        password: opt.password, req: 'l' })));
      ws.on('message', (data) => {
        const at = nowMs();
        if (measuring) {
          st.bytes += data.length;
        }
        // Stats frames ({"type":"stats","seq":N,...}: the aggregates, large) are only
        // counted: parsing them would make this client, not the service, the bottleneck.
        const head = data.toString('latin1', 0, 48);
        const sm = /^\{"type":"stats","seq":(\d+),/.exec(head);
        if (sm) {
          const seq = Number(sm[1]);
          if (seq !== s.seq + 1) {
            st.gaps += 1;
          }
          s.seq = seq;
          if (measuring) {
            st.stats += 1;
          }
          return;
        }
        const msg = JSON.parse(data.toString());
        if (measuring) {
          st.messages += 1; // websocket messages carrying events (one or an `events` batch)
        }
        // An `events` message carries several event frames (in seq order).
        for (const f of msg.type === 'events' ? msg.events : [msg]) {
          frame(f, at);
        }
      });
      const frame = (f, at) => {
        if (f.type === 'event') {
          if (f.seq !== s.seq + 1) {
            st.gaps += 1;
          }
          s.seq = f.seq;
          if (measuring) {
            const ms = at - Number(f.at_ms);
            if (process.env.HETKI_BENCH_DEBUG && st.events < 3) {
              log(`sample ${f.kind} at_ms=${f.at_ms} received=${at.toFixed(1)} lag=${ms.toFixed(1)}`);
            }
            record(hist, ms);
            st.events += 1;
            if (String(f.kind).startsWith('agent.')) {
              record(wide, ms);
              st.wideEvents += 1;
              s.wide += 1;
            }
          }
        } else if (f.type === 'stats') {
          if (f.seq !== s.seq + 1) {
            st.gaps += 1;
          }
          s.seq = f.seq;
          if (measuring) {
            st.stats += 1;
          }
        } else if (f.type === 'snapshot') {
          s.seq = 0;
          s.snapshots += 1;
          if (s.snapshots === 1) {
            clearTimeout(t);
            resolve(s);
          } else if (measuring) {
            st.resyncs += 1;
          }
        } else if (f.type === 'error') {
          st.errors += 1;
          if (s.snapshots === 0) {
            clearTimeout(t);
            reject(new Error(`${s.id}: ${f.code} ${f.text}`));
          }
        }
      };
      ws.on('close', (code) => {
        st.closed += 1;
        st.closeCodes[code] = (st.closeCodes[code] || 0) + 1;
      });
      ws.on('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  let next = first;
  const end = first + count;
  let failed = 0;
  async function lane() {
    while (next < end) {
      const i = next;
      next += 1;
      try {
        sessions.push(await open(i));
      } catch (e) {
        failed += 1;
        log(`worker: ${e.message}`);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(40, count) }, lane));
  const ping = setInterval(() => sessions.forEach((s) => {
    if (s.ws.readyState === WebSocket.OPEN) {
      s.ws.send('{"type":"ping"}');
    }
  }), 30000);
  process.send({ ready: sessions.length, failed });

  /* Redis reference: plain RESP subscribers. */
  const subs = [];
  const ref = newHist();
  function subscriber() {
    return new Promise((resolve, reject) => {
      const sock = net.connect(Number(opt['redis-port']), '127.0.0.1');
      let buf = '';
      let ready = false;
      sock.setEncoding('utf8');
      sock.on('connect', () => sock.write('*2\r\n$9\r\nSUBSCRIBE\r\n$3\r\nfan\r\n'));
      sock.on('data', (chunk) => {
        const at = nowMs();
        buf += chunk;
        // Messages: *3 $7 message $3 fan $<n> <payload>; the payload is a unix ms.
        for (;;) {
          const m = /^\*3\r\n\$(\d+)\r\n(\w+)\r\n\$3\r\nfan\r\n(?::(\d+)\r\n|\$(\d+)\r\n([^\r]*)\r\n)/
            .exec(buf);
          if (!m) {
            break;
          }
          buf = buf.slice(m[0].length);
          if (m[2] === 'subscribe') {
            ready = true;
            resolve(sock);
          } else if (m[2] === 'message') {
            record(ref, at - Number(m[5]));
          }
        }
      });
      sock.on('error', (e) => (ready ? null : reject(e)));
    });
  }

  process.on('message', async (m) => {
    if (m === 'measure') {
      measuring = true;
    } else if (m === 'stop') {
      measuring = false;
      const wides = sessions.map((s) => s.wide);
      process.send({ hist: pack(hist), wide: pack(wide), st,
        wideMin: Math.min(...wides), wideMax: Math.max(...wides) });
    } else if (m === 'ref-open') {
      for (let i = 0; i < sessions.length; i += 50) {
        subs.push(...await Promise.all(sessions.slice(i, i + 50).map(() => subscriber())));
      }
      process.send({ refReady: subs.length });
    } else if (m === 'ref-stop') {
      process.send({ ref: pack(ref) });
    } else if (m === 'quit') {
      clearInterval(ping);
      subs.forEach((s) => s.destroy());
      sessions.forEach((s) => s.ws.terminate());
      setTimeout(() => process.exit(0), 100);
    }
  });
}

/* ---------------- parent ---------------- */

function ask(kids, msg, key) {
  return Promise.all(kids.map((k) => new Promise((resolve) => {
    const on = (m) => {
      if (m && m[key] !== undefined) {
        k.removeListener('message', on);
        resolve(m);
      }
    };
    k.on('message', on);
    if (msg) {
      k.send(msg);
    }
  })));
}

function runCmd(cmd) {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => resolve({ code, out: out.trim() }));
  });
}

/** PUBLISHes `fan <unix ms>` at rate per second for secs seconds over one raw connection. */
async function publish(port, rate, secs) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.on('data', () => {});
  const total = Math.round(rate * secs);
  const start = nowMs();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((nowMs() - start) / 1000) * rate) + 1);
    while (sent < due) {
      const v = String(nowMs());
      sock.write(`*3\r\n$7\r\nPUBLISH\r\n$3\r\nfan\r\n$${v.length}\r\n${v}\r\n`);
      sent += 1;
    }
    await sleep(2);
  }
  sock.end();
  return sent;
}

async function main() {
  const fmt = (v) => v.toFixed(2);
  const n = Number(opt.count);
  const workers = Number(opt.workers || 2);
  const kids = [];
  let first = 1;
  const t0 = Date.now();
  for (let w = 0; w < workers; w++) {
    const share = Math.floor(n / workers) + (w < n % workers ? 1 : 0);
    kids.push(fork(fileURLToPath(import.meta.url), ['worker', '--url', opt.url, '--origin',
      opt.origin || 'http://bench.test', '--tenant', opt.tenant, '--prefix', opt.prefix,
      '--password', opt.password, '--first', String(first), '--count', String(share),
      '--redis-port', String(opt['redis-port'] || 0)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    first += share;
  }
  const ready = await ask(kids, null, 'ready');
  const open = ready.reduce((a, r) => a + r.ready, 0);
  const failed = ready.reduce((a, r) => a + r.failed, 0);
  log(`client: ${open} sessions logged in (${failed} failed) in ${((Date.now() - t0) / 1000)
    .toFixed(1)} s`);
  await sleep(Number(opt['settle-s'] || 3) * 1000);

  if (opt['redis-port']) {
    const rate = Math.max(1, Number(opt['ref-rate'] || 20));
    const refSecs = Number(opt['ref-s'] || 10);
    const subs = await ask(kids, 'ref-open', 'refReady');
    log(`client: reference: ${subs.reduce((a, r) => a + r.refReady, 0)} Redis subscribers`);
    const nsub = subs.reduce((a, r) => a + r.refReady, 0);
    await sleep(500);
    const sent = await publish(Number(opt['redis-port']), rate, refSecs);
    await sleep(1500);
    const refs = await ask(kids, 'ref-stop', 'ref');
    const ref = newHist();
    refs.forEach((r) => merge(ref, unpack(r.ref)));
    console.log(`reference redis_pubsub subscribers=${nsub} published=${sent} ` +
      `rate_per_s=${rate.toFixed(1)} deliveries=${ref.n} p50_ms=${fmt(pct(ref, 50))} ` +
      `p99_ms=${fmt(pct(ref, 99))} max_ms=${fmt(ref.max)}`);
  }
  kids.forEach((k) => k.send('measure'));
  const cpu0 = cpuSeconds(opt.pid);
  const m0 = nowMs();
  const drive = opt.drive ? await runCmd(opt.drive) : { code: 0, out: '' };
  await sleep(2000); // events of the last contacts
  const secs = (nowMs() - m0) / 1000;
  const cpu = cpuSeconds(opt.pid) - cpu0;
  const got = await ask(kids, 'stop', 'hist');
  const hist = newHist();
  const wide = newHist();
  const st = { events: 0, wideEvents: 0, stats: 0, bytes: 0, gaps: 0, resyncs: 0, closed: 0,
    errors: 0, messages: 0 };
  const codes = {};
  let wideMin = Infinity;
  let wideMax = 0;
  for (const g of got) {
    merge(hist, unpack(g.hist));
    merge(wide, unpack(g.wide));
    for (const k of Object.keys(st)) {
      st[k] += g.st[k];
    }
    for (const [c, v] of Object.entries(g.st.closeCodes)) {
      codes[c] = (codes[c] || 0) + v;
    }
    wideMin = Math.min(wideMin, g.wideMin);
    wideMax = Math.max(wideMax, g.wideMax);
  }
  log(`client: drive exit ${drive.code}: ${drive.out}`);
  const perEvent = wideMax; // tenant-wide events one complete session saw
  console.log(`fanout sessions=${open} failed_logins=${failed} seconds=${secs.toFixed(1)} ` +
    `deliveries=${hist.n} deliveries_per_s=${(hist.n / secs).toFixed(0)} ` +
    `wide_events=${perEvent} wide_events_per_s=${(perEvent / secs).toFixed(1)} ` +
    `wide_min_per_session=${wideMin} p50_ms=${fmt(pct(hist, 50))} p99_ms=${fmt(pct(hist, 99))} ` +
    `p999_ms=${fmt(pct(hist, 99.9))} max_ms=${fmt(hist.max)} wide_p99_ms=${fmt(pct(wide, 99))} ` +
    `event_messages=${st.messages} stats_frames=${st.stats} mbytes_per_s=${(st.bytes / secs / 1e6).toFixed(2)} ` +
    `gaps=${st.gaps} resyncs=${st.resyncs} closed=${st.closed} clock_skew_events=${hist.neg} ` +
    `close_codes=${JSON.stringify(codes).replace(/[{}"]/g, '') || 'none'} ` +
    `drive_exit=${drive.code}` +
    (opt.pid ? ` server_cpu_s=${cpu.toFixed(2)} server_us_per_delivery=` +
      `${(hist.n > 0 ? (cpu * 1e6) / hist.n : 0).toFixed(2)}` : ''));
  if (drive.out) {
    console.log(`drive ${drive.out.split('\n').pop()}`);
  }

  kids.forEach((k) => k.send('quit'));
  await Promise.all(kids.map((k) => new Promise((r) => k.once('exit', r))));
}

const guard = setTimeout(() => {
  log(`client: ${opt.mode} did not finish in time`);
  process.exit(3);
}, Number(opt.timeout || 900) * 1000);
guard.unref();
/** CPU seconds (user + system) the process pid has used so far (0 without one). */
function cpuSeconds(pid) {
  if (!pid) {
    return 0;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

(opt.mode === 'worker' ? worker() : main()).catch((e) => {
  log(`client: ${e.stack || e.message}`);
  process.exit(1);
});
