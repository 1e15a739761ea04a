/**
 * Z's payloads: JSON that looks like an app's order events (ids, names, totals, line items),
 * deterministic from a seed, so every codec compresses the same sequence. Random bytes would
 * understate compression and one repeated character would overstate it.
 */
import { encodeEvent } from '../../packages/tandem/src/server/encode';

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Radia', 'Edsger'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie'];
const PRODUCTS = [
  'Espresso beans 1 kg',
  'Ceramic pour-over dripper',
  'Burr grinder, steel',
  'Paper filters (100)',
  'Gooseneck kettle 0.8 l',
  'Milk jug 350 ml',
  'Cleaning tablets',
  'Travel mug, insulated',
];
const STATUS = ['created', 'paid', 'packed', 'shipped'];

/** mulberry32: a small seeded generator, enough for plausible variety. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The `n`th order event, about `size` bytes of JSON. */
export function orderPayload(n: number, size: number): Record<string, unknown> {
  const r = random(n * 7919 + size);
  const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)]!;
  const first = pick(FIRST);
  const order: Record<string, unknown> = {
    id: `ord_${(1_000_000 + n * 37).toString(36)}${Math.floor(r() * 1e6).toString(36)}`,
    status: pick(STATUS),
    total: Math.round(r() * 50_000) / 100,
    currency: 'EUR',
  };
  if (size <= 120) {
    order.customer = `${first} ${pick(LAST)}`;
    return order;
  }
  order.customer = {
    id: `cus_${Math.floor(r() * 1e9).toString(36)}`,
    name: `${first} ${pick(LAST)}`,
    email: `${first.toLowerCase()}.${Math.floor(r() * 1000)}@example.com`,
  };
  order.createdAt = new Date(1_796_000_000_000 + n * 61_000).toISOString();
  const items: Record<string, unknown>[] = [];
  order.items = items;
  // Line items until the JSON reaches the size.
  while (JSON.stringify(order).length < size - 90) {
    items.push({
      sku: `SKU-${Math.floor(r() * 90_000 + 10_000)}`,
      name: pick(PRODUCTS),
      qty: 1 + Math.floor(r() * 4),
      price: Math.round(r() * 9_000) / 100,
    });
  }
  return order;
}

export type Wire = 'compact' | 'classic';

/**
 * `count` events of about `size` bytes as the hub writes them on a stream of one channel:
 * Tandem's encoder's own frames, compact (channel id `0`) or classic.
 */
export function frames(size: number, count: number, wire: Wire): Buffer[] {
  const out: Buffer[] = [];
  const epoch = 'k3j9x2m1';
  for (let i = 0; i < count; i++) {
    const event = {
      channel: 'shop:orders',
      type: 'order:updated',
      data: orderPayload(i, size),
      offset: i + 1,
      epoch,
      ts: 1_796_000_000_000 + i * 137,
    };
    const encoded = encodeEvent(event);
    out.push(Buffer.from(wire === 'compact' ? encoded.compact('0') : encoded.full));
  }
  return out;
}
