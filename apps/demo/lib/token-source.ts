/** Fetches the tenant's demo token and keeps it until shortly before it expires. */
export class TokenSource {
  private current: { token: string; expiresAt: number } | null = null;
  private pending: Promise<string> | null = null;

  constructor(readonly tenantId: string) {}

  /** A valid token; `fresh` forces a new one (after a 401). */
  get(fresh = false): Promise<string> {
    if (!fresh && this.current && this.current.expiresAt - Date.now() > 60_000) {
      return Promise.resolve(this.current.token);
    }
    this.pending ??= this.load().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async load(): Promise<string> {
    const viewer = encodeURIComponent(viewerName());
    const response = await fetch(
      `/api/demo/token?tenant=${encodeURIComponent(this.tenantId)}&viewer=${viewer}`,
      {
        cache: 'no-store',
      },
    );
    if (!response.ok) throw new Error(`token request failed: ${response.status}`);
    const body = (await response.json()) as { token: string; expiresAt: number };
    this.current = body;
    return body.token;
  }

  /** `fetch` with the tenant's token, retried once with a fresh token on 401. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const send = async (fresh: boolean) =>
      fetch(path, {
        ...init,
        cache: 'no-store',
        headers: { ...init.headers, Authorization: `Bearer ${await this.get(fresh)}` },
      });
    const response = await send(false);
    return response.status === 401 ? send(true) : response;
  }
}

const VIEWER_KEY = 'tandem-demo-viewer';

/**
 * This browser's name among a tenant's viewers, made once and kept in localStorage: every tab
 * of the browser has it, so they share one stream and count as one viewer.
 */
export function viewerName(): string {
  try {
    let name = localStorage.getItem(VIEWER_KEY);
    if (!name) {
      name = `Viewer ${Math.random().toString(36).slice(2, 6).toUpperCase()}`;
      localStorage.setItem(VIEWER_KEY, name);
    }
    return name;
  } catch {
    return 'Viewer';
  }
}
