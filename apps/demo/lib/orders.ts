/** The one event type of the demo. */
export interface Order {
  id: string;
  customer: string;
  item: string;
  /** Amount in cents. */
  amount: number;
  source: 'form' | 'generator' | 'api';
}

export interface DemoEvents {
  'order:created': Order;
  [type: string]: unknown;
}

export const ORDER_CREATED = 'order:created';

const CUSTOMERS = [
  'Ada Lovelace',
  'Grace Hopper',
  'Alan Turing',
  'Katherine Johnson',
  'Edsger Dijkstra',
  'Barbara Liskov',
  'Donald Knuth',
  'Margaret Hamilton',
  'Linus Torvalds',
  'Radia Perlman',
];
const ITEMS = [
  'Rocket skates',
  'Anvil (heavy)',
  'Portable hole',
  'Giant magnet',
  'Earthquake pills',
  'Bird seed, 20 kg',
  'Spring-loaded boxing glove',
  'Jet-propelled unicycle',
];

function pick<T>(list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)]!;
}

export function randomOrder(source: Order['source']): Order {
  return {
    id: crypto.randomUUID().slice(0, 8),
    customer: pick(CUSTOMERS),
    item: pick(ITEMS),
    amount: 500 + Math.floor(Math.random() * 49_500),
    source,
  };
}

/** Checks and normalises an order posted by a browser or a script. */
export function parseOrderInput(input: unknown, source: Order['source']): Order | null {
  if (typeof input !== 'object' || input === null) return null;
  const { id, customer, item, amount } = input as Record<string, unknown>;
  const base = randomOrder(source);
  const text = (value: unknown, fallback: string) =>
    typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 80) : fallback;
  if (amount !== undefined && (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0))
    return null;
  return {
    id: text(id, base.id),
    customer: text(customer, base.customer),
    item: text(item, base.item),
    amount: amount === undefined ? base.amount : Math.round(amount),
    source,
  };
}

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const wholeMoney = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumFractionDigits: 0,
});
const compactMoney = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  notation: 'compact',
  maximumFractionDigits: 1,
});

export function formatMoney(cents: number): string {
  return money.format(cents / 100);
}

/** `$1,042` or `$12.3K`: for tiles, where a full amount would not fit. */
export function formatMoneyCompact(cents: number): string {
  return cents < 1_000_000 ? wholeMoney.format(cents / 100) : compactMoney.format(cents / 100);
}
