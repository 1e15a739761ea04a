import { getDemo } from '@/lib/hub';

// Streams are long-lived and per request: never prerendered, never on the edge runtime.
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

/** `/api/live/stream` and `/api/live/poll`: both served by the hub. */
export async function GET(request: Request): Promise<Response> {
  const demo = await getDemo();
  // The "cut connection" button also refuses the tenant's new streams for a few seconds.
  return demo.refusal(request) ?? demo.hub.fetch(request);
}
