/**
 * Just enough WebSocket (RFC 6455) for the generator to speak socket.io over a raw TCP
 * socket: the upgrade request, unmasked server frames in, masked client text frames out.
 */
import { randomBytes } from 'node:crypto';

export function upgradeRequest(host: string, path: string): string {
  const key = randomBytes(16).toString('base64');
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

/** A masked client text frame (clients must mask, RFC 6455 §5.3). */
export function clientTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + 4 + len);
  frame[0] = 0x81;
  if (len < 126) frame[1] = 0x80 | len;
  else if (len < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  mask.copy(frame, head);
  for (let i = 0; i < len; i++) frame[head + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface WsSink {
  onMessage(opcode: number, payload: Buffer): void;
  /** The HTTP status of the upgrade response (101 on success). */
  onUpgrade(status: number): void;
}

/**
 * Reads the upgrade response, then server frames (unmasked), reassembling fragments. It copies
 * whatever it keeps past a `push`, so chunks may be views of a reused read buffer.
 */
export class WsReader {
  private pending: Buffer | null = null;
  private upgraded = false;
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;

  constructor(private readonly sink: WsSink) {}

  push(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    if (!this.upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        this.pending = Buffer.from(buf); // `chunk` may be a view of a reused read buffer
        return;
      }
      const status = Number(buf.toString('latin1', 9, 12));
      this.upgraded = true;
      this.sink.onUpgrade(status);
      buf = buf.subarray(end + 4);
    }
    let at = 0;
    while (buf.length - at >= 2) {
      const b0 = buf[at]!;
      const b1 = buf[at + 1]!;
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (buf.length - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        head = 4;
      } else if (len === 127) {
        if (buf.length - at < 10) break;
        len = Number(buf.readBigUInt64BE(at + 2));
        head = 10;
      }
      if (b1 & 0x80) head += 4; // a masked server frame is a protocol error; tolerate it
      if (buf.length - at < head + len) break;
      const payload = buf.subarray(at + head, at + head + len);
      at += head + len;
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if (opcode === OPCODE.continuation) {
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          this.sink.onMessage(this.fragmentOpcode, Buffer.concat(this.fragments));
          this.fragments = [];
        }
      } else if (!fin) {
        this.fragmentOpcode = opcode;
        this.fragments = [Buffer.from(payload)];
      } else {
        this.sink.onMessage(opcode, payload);
      }
    }
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at));
  }
}
