import { findTenant, type Tenant } from './tenants';
import { tenantOf } from './tokens';

const NO_STORE = { 'Cache-Control': 'no-store' };

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { ...NO_STORE, ...headers } });
}

export function errorResponse(status: number, code: string, message: string): Response {
  return json({ error: { code, message } }, status);
}

/** Runs `handle` for the tenant of the request's token, or answers 401. */
export async function withTenant(
  request: Request,
  handle: (tenant: Tenant) => Promise<Response>,
): Promise<Response> {
  const tenant = await tenantOf(request);
  if (!tenant) return errorResponse(401, 'unauthorized', 'a tenant token is required');
  return handle(tenant);
}

export function tenantParam(request: Request): Tenant | undefined {
  return findTenant(new URL(request.url).searchParams.get('tenant'));
}
