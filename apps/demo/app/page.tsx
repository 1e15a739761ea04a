import { connection } from 'next/server';
import { Suspense } from 'react';
import { TenantPanel } from '@/components/tenant-panel';
import { getDemo } from '@/lib/hub';
import { TENANTS } from '@/lib/tenants';

export default function Page() {
  return (
    <main className="page">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            <span />
            <span />
          </span>
          <div>
            <p className="eyebrow">Tandem demo</p>
            <h1>Live operations</h1>
            <p className="muted">
              Two tenants, one hub. Each panel signs in with its own token and sees only its own channel.
            </p>
          </div>
        </div>
        <ul className="facts">
          <li>
            <strong>SSE</strong> in milliseconds
          </li>
          <li>
            <strong>Polling</strong> as the safety net
          </li>
          <li>
            <strong>Exact resume</strong> from a cursor
          </li>
        </ul>
      </header>
      <Suspense fallback={<PanelsLoading />}>
        <Panels />
      </Suspense>
      <footer className="page-foot muted">
        Try it: publish a few orders, cut a tenant&apos;s connection and watch the pill fall back to polling,
        then return to Live with received = published. Open a second tab: it shows the same orders at once,
        rendered by the server, and then stays live with the first on one stream per tenant; close the tab
        that holds the stream and another takes over.
      </footer>
    </main>
  );
}

/**
 * Each tenant's panel, rendered per request with the tenant's orders: the cursor is read
 * first, then the orders, and the client starts from the cursor (see docs/react.md).
 */
async function Panels() {
  await connection();
  const demo = await getDemo();
  const snapshots = await Promise.all(TENANTS.map((tenant) => demo.snapshot(tenant)));
  return (
    <div className="panels">
      {TENANTS.map((tenant, i) => (
        <TenantPanel key={tenant.id} tenant={tenant} snapshot={snapshots[i]!} />
      ))}
    </div>
  );
}

function PanelsLoading() {
  return (
    <div className="panels" aria-busy="true">
      {TENANTS.map((tenant) => (
        <section key={tenant.id} className="panel" aria-label={tenant.name}>
          <div className="panel-body skeleton" />
        </section>
      ))}
    </div>
  );
}
