import { errorResponse, json, withTenant } from '@/lib/http';
import { getDemo } from '@/lib/hub';

/** `POST /api/demo/generator` `{ "on": true }`: starts or stops random orders for the tenant. */
export function POST(request: Request): Promise<Response> {
  return withTenant(request, async (tenant) => {
    const body = (await request.json().catch(() => null)) as { on?: unknown } | null;
    if (typeof body?.on !== 'boolean') return errorResponse(400, 'bad_request', 'expected { "on": boolean }');
    const demo = await getDemo();
    demo.setGenerator(tenant, body.on);
    return json({ generator: demo.generatorOn(tenant) });
  });
}
