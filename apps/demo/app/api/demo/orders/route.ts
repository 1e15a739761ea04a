import { errorResponse, json, withTenant } from '@/lib/http';
import { getDemo } from '@/lib/hub';
import { parseOrderInput } from '@/lib/orders';

/**
 * `GET /api/demo/orders`: the tenant's retained orders as a page is rendered with them, for a
 * page to reload after `resync` (the server lost continuity, e.g. a restart on the memory broker).
 */
export function GET(request: Request): Promise<Response> {
  return withTenant(request, async (tenant) => json(await (await getDemo()).snapshot(tenant)));
}

/** `POST /api/demo/orders` with a partial order: publishes `order:created` on the tenant's channel. */
export function POST(request: Request): Promise<Response> {
  return withTenant(request, async (tenant) => {
    const body: unknown = await request.json().catch(() => null);
    const source = new URL(request.url).searchParams.get('source') === 'api' ? 'api' : 'form';
    const order = parseOrderInput(body ?? {}, source);
    if (!order) return errorResponse(400, 'bad_request', 'amount must be a non-negative number of cents');
    const event = await (await getDemo()).publish(tenant, order);
    return json({ event }, 201);
  });
}
