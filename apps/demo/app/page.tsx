import { TenantPanel } from '@/components/tenant-panel';
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
      <div className="panels">
        {TENANTS.map((tenant) => (
          <TenantPanel key={tenant.id} tenant={tenant} />
        ))}
      </div>
      <footer className="page-foot muted">
        Try it: publish a few orders, cut a tenant&apos;s connection and watch the pill fall back to polling,
        then return to Live with received = published. Reload the page: nothing is lost.
      </footer>
    </main>
  );
}
