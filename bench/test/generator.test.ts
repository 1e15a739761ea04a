import { describe, expect, it } from 'vitest';
import { parseArgs, SCENARIOS } from '../lib/args';
import { Histogram } from '../lib/histogram';
import { Dechunker, HttpReader, type HttpResponse } from '../lib/http-reader';
import { fieldOf, numberAfter, SseFramer } from '../lib/scan';
import { clientTextFrame, WsReader } from '../lib/ws';

describe('histogram', () => {
  it('gives exact quantiles below 1 ms and stays within 0.2 % above', () => {
    const h = new Histogram();
    for (let i = 1; i <= 1000; i++) h.recordMs(i / 1000); // 1 µs … 1 ms
    expect(h.quantileMs(0.5)).toBe(0.5);
    expect(h.quantileMs(0.99)).toBe(0.99);
    const big = new Histogram();
    for (let i = 1; i <= 10_000; i++) big.recordMs(i); // 1 ms … 10 s
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      const exact = q * 10_000;
      expect(Math.abs(big.quantileMs(q) - exact) / exact).toBeLessThan(0.002);
    }
    expect(big.quantileMs(1)).toBe(10_000);
    expect(big.meanMs()).toBeCloseTo(5000.5, 6);
  });

  it('merges shards as if one had recorded everything', () => {
    const a = new Histogram();
    const b = new Histogram();
    const all = new Histogram();
    for (let i = 0; i < 5000; i++) {
      const v = (i * 7919) % 3001;
      (i % 2 ? a : b).recordMs(v / 10);
      all.recordMs(v / 10);
    }
    const merged = Histogram.from([a.toJSON(), b.toJSON()]);
    expect(merged.summary()).toEqual(all.summary());
  });

  it('counts receive-before-send samples (clock error) as 0 instead of losing them', () => {
    const h = new Histogram();
    h.recordMs(-0.5);
    h.recordMs(2);
    expect(h.negative).toBe(1);
    expect(h.count).toBe(2);
    expect(h.quantileMs(0.5)).toBe(0);
  });
});

describe('SSE framing', () => {
  it('splits frames across arbitrary chunk boundaries and reads the stamp, id and offset', () => {
    const text =
      'retry: 1000\nevent: tandem:hello\ndata: {"head":0}\n\n' +
      'id: t1~abc.e1.1\nevent: tick\ndata: {"channel":"bench","offset":1,"data":{"bt":1700000000123.456,"p":"xx"}}\n\n' +
      'event: tandem:ping\ndata: {"t":1}\n\n';
    const stamped: [number, string | undefined, number][] = [];
    const other: string[] = [];
    const framer = new SseFramer({
      onStamped: (s, f) => stamped.push([s, fieldOf(f, 'id'), numberAfter(f, '"offset":')]),
      onOther: (f) => other.push(fieldOf(f, 'event') ?? ''),
    });
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 7) framer.push(bytes.subarray(i, i + 7));
    expect(stamped).toEqual([[1700000000123.456, 't1~abc.e1.1', 1]]);
    expect(other).toEqual(['tandem:hello', 'tandem:ping']);
  });

  it('removes chunked transfer framing even when a chunk header is split', () => {
    const body = 'event: tick\ndata: {"bt":5}\n\n';
    const wire = Buffer.from(`${body.length.toString(16)}\r\n${body}\r\n5\r\nhello\r\n0\r\n\r\n`);
    const out: Buffer[] = [];
    const d = new Dechunker();
    let open = true;
    for (let i = 0; i < wire.length; i += 3)
      open = d.push(wire.subarray(i, i + 3), (b) => out.push(Buffer.from(b)));
    expect(Buffer.concat(out).toString()).toBe(`${body}hello`);
    expect(open).toBe(false);
  });
});

describe('HTTP and WebSocket readers', () => {
  it('reads keep-alive responses back to back: content-length, 304 and chunked', () => {
    const wire =
      'HTTP/1.1 200 OK\r\nETag: "t1~a"\r\nContent-Length: 5\r\n\r\nhello' +
      'HTTP/1.1 304 Not Modified\r\nETag: "t1~a"\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
    const got: HttpResponse[] = [];
    const r = new HttpReader((res) => got.push(res));
    const bytes = Buffer.from(wire);
    for (let i = 0; i < bytes.length; i += 11) r.push(bytes.subarray(i, i + 11));
    expect(got.map((g) => [g.status, g.etag, g.body])).toEqual([
      [200, '"t1~a"', 'hello'],
      [304, '"t1~a"', ''],
      [200, undefined, 'abcde'],
    ]);
    expect(got.reduce((s, g) => s + g.bytes, 0)).toBe(bytes.length);
  });

  it('reads server frames after the upgrade and masks client frames', () => {
    const messages: string[] = [];
    let status = 0;
    const r = new WsReader({
      onUpgrade: (s) => (status = s),
      onMessage: (_op, p) => messages.push(p.toString()),
    });
    const long = 'x'.repeat(300);
    const frame = (text: string) => {
      const p = Buffer.from(text);
      const head =
        p.length < 126
          ? Buffer.from([0x81, p.length])
          : Buffer.from([0x81, 126, p.length >> 8, p.length & 255]);
      return Buffer.concat([head, p]);
    };
    const wire = Buffer.concat([
      Buffer.from('HTTP/1.1 101 Switching Protocols\r\n\r\n'),
      frame('0{}'),
      frame(`42["tick",${long}]`),
    ]);
    for (let i = 0; i < wire.length; i += 5) r.push(wire.subarray(i, i + 5));
    expect(status).toBe(101);
    expect(messages).toEqual(['0{}', `42["tick",${long}]`]);
    const masked = clientTextFrame('40');
    expect(masked[1]! & 0x80).toBe(0x80);
    const mask = masked.subarray(2, 6);
    expect(String.fromCharCode(masked[6]! ^ mask[0]!, masked[7]! ^ mask[1]!)).toBe('40');
  });
});

describe('options', () => {
  it('reads scenarios and sizes in both option styles and refuses unknown ones', () => {
    const o = parseArgs([
      '--scenario',
      's3,S5',
      '--clients=10_000',
      '--servers',
      'tandem,bare',
      '--cpu-prof',
    ]);
    expect(o.scenarios).toEqual(['S3', 'S5']);
    expect(o.clients).toBe(10_000);
    expect(o.servers).toEqual(['tandem', 'bare']);
    expect(o.cpuProf).toBe(true);
    // Every scenario but H (hostile load), which runs only when named.
    expect(parseArgs([]).scenarios).toEqual(SCENARIOS.filter((s) => s !== 'H'));
    expect(parseArgs(['--scenario', 'h']).scenarios).toEqual(['H']);
    expect(parseArgs(['--scenario', 'p']).scenarios).toEqual(['P']);
    expect(parseArgs(['--scenario', 'pres']).scenarios).toEqual(['PRES']);
    expect(parseArgs(['--scenario', 'z']).scenarios).toEqual(['Z']);
    expect(() => parseArgs(['--scenario', 'S11'])).toThrow(/unknown scenario/);
    expect(() => parseArgs(['--clients', '-1'])).toThrow(/positive/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option/);
  });
});
