import { getDemo } from '@/lib/hub';

/** `/api/live/stream` and `/api/live/poll`: both served by the hub. */
export async function GET(request: Request): Promise<Response> {
  const demo = await getDemo();
  // The "cut connection" button also refuses the tenant's new streams for a few seconds.
  return demo.refusal(request) ?? demo.hub.fetch(request);
}
