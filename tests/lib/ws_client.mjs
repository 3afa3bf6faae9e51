// ws_client.mjs: the websocket client the node test suites build their protocol clients on
// (tests/chat ChatClient, tests/dashboard DashClient): connects with a subprotocol and an
// Origin, keeps every frame it receives (JSON, parsed), and waits for frames matching a
// predicate with a bound on the time. A subclass names the suite's `ws` class and its
// subprotocol as static fields (WebSocket, protocol, maxPayload): this file imports no package,
// so it resolves the same from every suite (each suite installs `ws` in its own node_modules,
// which node finds from the suite's files but not from here).
import { TEST_ORIGIN, sleep } from './stack.mjs';

export class WsClient {
  /** Wraps an open or opening socket of the `ws` package. */
  constructor(ws) {
    this.ws = ws;
    this.frames = []; // every frame received, parsed
    this.used = new Set(); // indexes consumed by take()
    this.waiters = [];
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        this.wake();
      });
    });
    ws.on('message', (data, isBinary) => {
      let frame;
      try {
        frame = JSON.parse(isBinary ? Buffer.from(data).toString() : data.toString());
      } catch {
        frame = { type: '__unparsable', raw: data.toString() };
      }
      this.received(frame);
      this.wake();
    });
    ws.on('error', () => {});
  }

  /** Connects with the class's subprotocol (protocol: another one, or null for none);
   * resolves an instance of the calling class once open; rejects with err.status on an HTTP
   * refusal, err.closeCode when closed during the handshake. */
  static connect(url, { origin = TEST_ORIGIN, protocol = this.protocol, timeoutMs = 5000,
    localAddress } = {}) {
    return new Promise((resolve, reject) => {
      const headers = origin ? { Origin: origin } : {};
      const ws = new this.WebSocket(url, protocol || undefined, { headers,
        handshakeTimeout: timeoutMs, localAddress, perMessageDeflate: false,
        maxPayload: this.maxPayload });
      const fail = (err) => {
        ws.removeAllListeners('open');
        reject(err);
      };
      ws.once('unexpected-response', (req, res) => {
        const err = new Error(`refused with HTTP ${res.statusCode}`);
        err.status = res.statusCode;
        req.destroy();
        fail(err);
      });
      ws.once('error', fail);
      ws.once('close', (code) => {
        const err = new Error(`closed during the handshake (${code})`);
        err.closeCode = code;
        fail(err);
      });
      const client = new this(ws);
      ws.once('open', () => {
        ws.removeListener('error', fail);
        ws.removeAllListeners('unexpected-response');
        resolve(client);
      });
    });
  }

  /** Keeps one received frame; a subclass may unpack messages that carry several. */
  received(frame) {
    this.frames.push(frame);
  }

  /** Wakes every take() waiting for a frame or the close. */
  wake() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((fn) => fn());
  }

  /** True while the socket is open. */
  get isOpen() {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Sends obj as JSON (a string as it is). */
  send(obj) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Finds (and consumes) the first unconsumed frame matching pred, waiting up to ms; throws
   * with the last frames seen when none comes or the socket closes. */
  async take(pred, ms = 5000, what = 'a frame') {
    const until = Date.now() + ms;
    for (;;) {
      for (let i = 0; i < this.frames.length; i++) {
        if (!this.used.has(i) && pred(this.frames[i])) {
          this.used.add(i);
          return this.frames[i];
        }
      }
      const left = until - Date.now();
      if (left <= 0 || this.closeInfo) {
        const seen = this.frames.slice(-30).map((f) => JSON.stringify(f).slice(0, 200))
          .join('\n  ');
        throw new Error(`no ${what} within ${ms} ms` +
          (this.closeInfo ? ` (closed ${this.closeInfo.code} ${this.closeInfo.reason})` : '') +
          `; last frames:\n  ${seen}`);
      }
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Takes the next unconsumed frame of a type (and optionally an id). */
  type(type, ms = 5000, id = undefined) {
    return this.take((f) => f.type === type && (id === undefined || f.id === id), ms,
      `"${type}"${id !== undefined ? ` for ${id}` : ''}`);
  }

  /** Waits ms and returns every frame (consumed or not) matching pred received so far. */
  async during(ms, pred) {
    await sleep(ms);
    return this.frames.filter(pred);
  }

  /** Closes (normal) and waits for the close to finish. */
  async close() {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(1000);
    }
    const t = setTimeout(() => this.ws.terminate(), 3000);
    await this.closed;
    clearTimeout(t);
  }

  /** Drops the TCP connection without a close handshake (a client losing the network). */
  async drop() {
    this.ws.terminate();
    await this.closed;
  }
}
