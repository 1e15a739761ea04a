/** A socket.io client over a hand-rolled WebSocket: engine.io v4 / socket.io v5 framing. */
import type net from 'node:net';
import { numberAfter, STAMP_KEY } from '../lib/scan';
import { clientTextFrame, OPCODE, upgradeRequest, WsReader } from '../lib/ws';
import { connect, latency, now, type OpenArgs, settleOpen, shared, stats } from './state';

export class SioConn {
  sock: net.Socket | null = null;
  ready = false;

  constructor(
    private readonly args: OpenArgs,
    private readonly index: number,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      // A view of the shard's read buffer each time: WsReader copies what it keeps.
      const sock = connect(this.args, this.index, (chunk) => {
        shared.chunkAt = now();
        stats.rxBytes += chunk.length;
        reader.push(chunk);
      });
      this.sock = sock;
      const settle = settleOpen(sock, this.args.timeoutMs, 'socket.io', resolve, reject);
      const reader = new WsReader({
        onUpgrade: (status) => {
          if (status !== 101) {
            settle(new Error(`upgrade answered ${status}`));
            sock.destroy();
          }
        },
        onMessage: (opcode, payload) => {
          if (opcode === OPCODE.ping) return; // socket.io uses engine.io pings, not WS pings
          if (opcode !== OPCODE.text) return;
          const text = payload.toString('latin1');
          const type = text.charCodeAt(0);
          if (type === 52 /* '4' message */) {
            if (text.charCodeAt(1) === 50 /* '2' event */) {
              const stamp = numberAfter(text, STAMP_KEY);
              if (!Number.isNaN(stamp)) {
                stats.events++;
                latency.recordMs(shared.chunkAt - stamp);
              } else stats.frames++;
            } else if (text.charCodeAt(1) === 48 /* '0' connect ack */) {
              this.ready = true;
              stats.hellos++;
              settle();
            } else stats.frames++;
          } else if (type === 48 /* '0' engine open */) {
            sock.write(clientTextFrame('40'));
          } else if (type === 50 /* '2' ping */) {
            stats.pings++;
            sock.write(clientTextFrame('3'));
          } else stats.frames++;
        },
      });
      sock.on('connect', () => {
        sock.write(
          upgradeRequest(`${this.args.host}:${this.args.port}`, '/socket.io/?EIO=4&transport=websocket'),
        );
        stats.requests++;
      });
      sock.on('close', () => {
        settle(new Error('closed before connect'));
        this.ready = false;
        stats.closes++;
      });
    });
  }
}
