// client.mjs: the chat protocol tests' websocket client: the shared one (tests/lib/ws_client.mjs)
// with the suite's node `ws`, the hetki-chat.v1 subprotocol, its frame size and hello.
import WebSocket from 'ws';

import { WsClient } from '../../lib/ws_client.mjs';

export class ChatClient extends WsClient {
  static WebSocket = WebSocket;
  static protocol = 'hetki-chat.v1';
  static maxPayload = 1 << 20;

  /** Sends hello and returns the welcome. */
  async hello(tenant, lang = 'fi', resume = undefined, ms = 5000) {
    const f = { type: 'hello', tenant, lang };
    if (resume) {
      f.resume = resume;
    }
    this.send(f);
    return this.type('welcome', ms);
  }
}

let seq = 0;
/** A fresh client message id. */
export function mid(prefix = 'm') {
  seq += 1;
  return `${prefix}${process.pid}-${Date.now().toString(36)}-${seq}`;
}
