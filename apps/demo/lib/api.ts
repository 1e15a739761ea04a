import type { LiveEvent } from 'tandem/protocol';
import type { TenantSnapshot, TenantStats } from './hub';
import type { Order } from './orders';
import type { TokenSource } from './token-source';

async function ok<T>(response: Response): Promise<T> {
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(body?.error?.message ?? `request failed: ${response.status}`);
  }
  return (await response.json()) as T;
}

export async function fetchStats(tokens: TokenSource, signal?: AbortSignal): Promise<TenantStats> {
  return ok<TenantStats>(await tokens.fetch('/api/demo/stats', signal ? { signal } : {}));
}

/** The tenant's retained orders now: what the page reloads after `resync`. */
export async function fetchSnapshot(tokens: TokenSource): Promise<TenantSnapshot> {
  return ok<TenantSnapshot>(await tokens.fetch('/api/demo/orders'));
}

export async function publishOrder(tokens: TokenSource, order: Partial<Order>): Promise<LiveEvent<Order>> {
  const response = await tokens.fetch('/api/demo/orders', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(order),
  });
  return (await ok<{ event: LiveEvent<Order> }>(response)).event;
}

export async function setGenerator(tokens: TokenSource, on: boolean): Promise<boolean> {
  const response = await tokens.fetch('/api/demo/generator', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ on }),
  });
  return (await ok<{ generator: boolean }>(response)).generator;
}

export async function cutConnection(
  tokens: TokenSource,
): Promise<{ dropped: number; refusingStreamsForMs: number }> {
  return ok(await tokens.fetch('/api/demo/cut', { method: 'POST' }));
}
