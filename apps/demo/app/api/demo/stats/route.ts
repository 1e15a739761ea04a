import { json, withTenant } from '@/lib/http';
import { getDemo } from '@/lib/hub';

/** `GET /api/demo/stats`: the tenant's channel head (= orders published), generator state. */
export function GET(request: Request): Promise<Response> {
  return withTenant(request, async (tenant) => json(await (await getDemo()).stats(tenant)));
}
