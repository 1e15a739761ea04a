import { json, withTenant } from '@/lib/http';
import { CUT_REFUSAL_MS, getDemo } from '@/lib/hub';

/**
 * `POST /api/demo/cut`: drops the tenant's open streams and refuses new ones for a few
 * seconds. Clients fall back to polling, then resume the stream from their cursor.
 */
export function POST(request: Request): Promise<Response> {
  return withTenant(request, async (tenant) => {
    const dropped = (await getDemo()).cut(tenant);
    return json({ dropped, refusingStreamsForMs: CUT_REFUSAL_MS });
  });
}
