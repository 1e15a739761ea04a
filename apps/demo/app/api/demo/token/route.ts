import { errorResponse, json, tenantParam } from '@/lib/http';
import { ordersChannel } from '@/lib/tenants';
import { issueToken } from '@/lib/tokens';

/** `GET /api/demo/token?tenant=acme&viewer=…`: signs the demo operator of that tenant in. */
export async function GET(request: Request): Promise<Response> {
  const tenant = tenantParam(request);
  if (!tenant) return errorResponse(404, 'not_found', 'unknown tenant');
  // A browser's viewer name, shown to the tenant's other viewers: short and plain, or none.
  const viewer = new URL(request.url).searchParams.get('viewer');
  const { token, expiresAt } = await issueToken(
    tenant,
    viewer && /^[A-Za-z0-9 -]{1,24}$/.test(viewer) ? viewer : undefined,
  );
  return json({ tenant: tenant.id, channel: ordersChannel(tenant.id), token, expiresAt });
}
