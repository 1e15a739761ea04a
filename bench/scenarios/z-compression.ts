/**
 * Z — compression on the stream, measured before decided. gzip and brotli flushed after every
 * event, per connection, against the same frames uncompressed, for order events of about
 * 100 B, 1 KB and 10 KB on the compact wire and the classic frames (Tandem's own encoder):
 * bytes per delivery, CPU per delivery (`--clients` connections, 1 000, each receiving 20
 * events after a first one) and memory per connection (each compressor in a process of its
 * own). Then the same 1 KB events through nginx without and with its own gzip, and the hub alone.
 */
import os from 'node:os';
import { type Context, type Row, round, type ScenarioResult } from './types';
import { CODECS, measureCodec } from './z-codecs';
import { measureMemory } from './z-memory';
import { measureProxy, PROXY_SETUPS } from './z-nginx';
import { frames, type Wire } from './z-payloads';

export const Z_SIZES = [100, 1000, 10_000];
const EVENTS = 21;
const PROXY_SIZE = 1000;
const PROXY_EVENTS = 40;
const PROXY_GAP_MS = 50;

const load = () =>
  os
    .loadavg()
    .map((l) => round(l, 2))
    .join(' ');

export async function runCompression(ctx: Context): Promise<ScenarioResult[]> {
  const connections = ctx.options.clients ?? 1000;
  const loadBefore = load();
  const rows: Row[] = [];
  for (const size of Z_SIZES) {
    const memory = [];
    for (let c = 0; c < CODECS.length; c++)
      memory.push(await measureMemory({ codec: c, size, connections, events: 10 }));
    for (const wire of ['compact', 'classic'] as Wire[]) {
      const list = frames(size, EVENTS, wire);
      let base: Awaited<ReturnType<typeof measureCodec>> | undefined;
      for (let c = 0; c < CODECS.length; c++) {
        const codec = CODECS[c]!;
        ctx.log(`Z: ${size} B, ${wire}, ${codec.name}, ${connections} connections`);
        const f = await measureCodec(codec, list, connections);
        base ??= f;
        rows.push({
          name: `${size} B, ${wire}, ${codec.name}`,
          size,
          wire,
          codec: codec.name,
          bytesPerDelivery: round(f.bytesPerDelivery, 1),
          bytesRatio: round(f.bytesPerDelivery / base.bytesPerDelivery, 3),
          firstBytes: round(f.firstBytes, 0),
          cpuUs: round(f.cpuUsPerDelivery, 2),
          cpuAddedUs: round(f.cpuUsPerDelivery - base.cpuUsPerDelivery, 2),
          rssKiB: wire === 'compact' ? round(memory[c]!.rssPerConnection / 1024, 1) : null,
          heapKiB: wire === 'compact' ? round(memory[c]!.heapPerConnection / 1024, 1) : null,
        });
      }
    }
  }
  const loadAfterCodecs = load();

  const proxyRows: Row[] = [];
  for (const setup of PROXY_SETUPS) {
    ctx.log(`Z: ${setup.name}, ${PROXY_EVENTS} events of ${PROXY_SIZE} B every ${PROXY_GAP_MS} ms`);
    const f = await measureProxy(setup, PROXY_SIZE, PROXY_EVENTS, PROXY_GAP_MS);
    proxyRows.push({
      name: setup.name,
      encoding: f.contentEncoding,
      bytesPerEvent: round(f.bytesPerEvent, 1),
      p50Ms: round(f.p50Ms, 2),
      maxMs: round(f.maxMs, 2),
      received: `${f.received}/${f.published}`,
    });
  }

  return [
    {
      id: 'Z',
      title: 'Compression per connection, flushed per event, against uncompressed',
      params: { connections, eventsMeasured: EVENTS - 1, sizes: Z_SIZES.join(', ') },
      rows,
      columns: [
        ['bytesPerDelivery', 'B / delivery'],
        ['bytesRatio', '× none'],
        ['firstBytes', 'first event B'],
        ['cpuUs', 'CPU µs / delivery'],
        ['cpuAddedUs', 'added µs'],
        ['rssKiB', 'RSS KiB / conn'],
        ['heapKiB', 'heap+ext KiB / conn'],
      ],
      targets: [],
      notes: [
        `load average ${loadBefore} before, ${loadAfterCodecs} after`,
        'memory: each codec in a process of its own, 10 compact events of the size flushed through each connection',
      ],
    },
    {
      id: 'Z-proxy',
      title: `Through nginx: ${PROXY_EVENTS} events of ${PROXY_SIZE} B, one every ${PROXY_GAP_MS} ms, Accept-Encoding: gzip`,
      params: { size: PROXY_SIZE, events: PROXY_EVENTS, gapMs: PROXY_GAP_MS },
      rows: proxyRows,
      columns: [
        ['encoding', 'encoding'],
        ['bytesPerEvent', 'B read / event'],
        ['p50Ms', 'publish → decoded p50 ms'],
        ['maxMs', 'max ms'],
        ['received', 'received'],
      ],
      targets: [],
      notes: [`load average ${load()} at the end`],
    },
  ];
}
