import { errorResponse, json, tenantParam } from '@/lib/http';
import { ordersChannel } from '@/lib/tenants';
import { issueToken } from '@/lib/tokens';

/** `GET /api/demo/token?tenant=acme`: signs the demo operator of that tenant in. */
export async function GET(request: Request): Promise<Response> {
  const tenant = tenantParam(request);
  if (!tenant) return errorResponse(404, 'not_found', 'unknown tenant');
  const { token, expiresAt } = await issueToken(tenant);
  return json({ tenant: tenant.id, channel: ordersChannel(tenant.id), token, expiresAt });
}
