/**
 * Reads HTTP/1.1 responses from a keep-alive socket, one after another: status, the headers
 * the pollers need, and the body (Content-Length or chunked). Minimal on purpose.
 */

export interface HttpResponse {
  status: number;
  etag: string | undefined;
  body: string;
  /** Bytes on the wire for this response, head included. */
  bytes: number;
}

export class HttpReader {
  private buf: Buffer | null = null;

  constructor(private readonly onResponse: (res: HttpResponse) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const consumed = this.tryOne(this.buf);
      if (consumed === 0) break;
      this.buf = consumed >= this.buf.length ? null : this.buf.subarray(consumed);
      if (!this.buf) break;
    }
  }

  /** Parses one complete response at the start of `buf`; returns bytes used, 0 if incomplete. */
  private tryOne(buf: Buffer): number {
    const headEnd = buf.indexOf('\r\n\r\n');
    if (headEnd < 0) return 0;
    const head = buf.toString('latin1', 0, headEnd);
    const status = Number(head.slice(9, 12));
    let length = -1;
    let chunked = false;
    let etag: string | undefined;
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding' && value.toLowerCase().includes('chunked')) chunked = true;
      else if (name === 'etag') etag = value;
    }
    const bodyStart = headEnd + 4;
    if (chunked) {
      const parts: Buffer[] = [];
      let at = bodyStart;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', at);
        if (lineEnd < 0) return 0;
        const size = Number.parseInt(buf.toString('latin1', at, lineEnd), 16);
        if (!Number.isFinite(size)) throw new Error('bad chunk size');
        const dataStart = lineEnd + 2;
        if (buf.length < dataStart + size + 2) return 0;
        if (size === 0) {
          // No trailers expected: the last chunk is followed by the final CRLF.
          const end = dataStart + 2;
          this.onResponse({ status, etag, body: Buffer.concat(parts).toString('utf8'), bytes: end });
          return end;
        }
        parts.push(buf.subarray(dataStart, dataStart + size));
        at = dataStart + size + 2;
      }
    }
    if (length < 0) length = 0; // 304 and friends
    if (buf.length < bodyStart + length) return 0;
    const end = bodyStart + length;
    this.onResponse({ status, etag, body: buf.toString('utf8', bodyStart, end), bytes: end });
    return end;
  }
}

/** Removes HTTP/1.1 chunked transfer framing from a response body, chunk by chunk. */
export class Dechunker {
  private state: 'size' | 'data' | 'crlf' | 'done' = 'size';
  private need = 0;
  private sizeLine = '';

  /** Calls `out` with each piece of body data found in `buf`; returns false once the body ended. */
  push(buf: Buffer, out: (data: Buffer) => void): boolean {
    let at = 0;
    while (at < buf.length && this.state !== 'done') {
      if (this.state === 'data') {
        const take = Math.min(this.need, buf.length - at);
        out(buf.subarray(at, at + take));
        at += take;
        this.need -= take;
        if (this.need === 0) {
          this.state = 'crlf';
          this.need = 2;
        }
      } else if (this.state === 'crlf') {
        const take = Math.min(this.need, buf.length - at);
        at += take;
        this.need -= take;
        if (this.need === 0) this.state = 'size';
      } else {
        const nl = buf.indexOf(10, at);
        if (nl < 0) {
          this.sizeLine += buf.toString('latin1', at);
          break;
        }
        this.sizeLine += buf.toString('latin1', at, nl);
        at = nl + 1;
        const size = Number.parseInt(this.sizeLine, 16);
        this.sizeLine = '';
        if (!Number.isFinite(size)) throw new Error('bad chunk size');
        if (size === 0) this.state = 'done';
        else {
          this.state = 'data';
          this.need = size;
        }
      }
    }
    return this.state !== 'done';
  }
}
