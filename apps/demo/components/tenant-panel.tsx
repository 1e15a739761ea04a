'use client';

import { type CSSProperties, type FormEvent, useEffect, useState, useSyncExternalStore } from 'react';
import { createLiveClient, type LiveClient } from 'tandem/client';
import type { PresenceView } from 'tandem/protocol';
import { createLiveHooks, LiveProvider } from 'tandem/react';
import { cutConnection, fetchSnapshot, fetchStats, publishOrder, setGenerator } from '@/lib/api';
import { FeedStore, latencySummary } from '@/lib/feed-store';
import type { TenantSnapshot } from '@/lib/hub';
import { type DemoEvents, formatMoney, ORDER_CREATED } from '@/lib/orders';
import { ordersChannel, type Tenant } from '@/lib/tenants';
import { TokenSource, viewerName } from '@/lib/token-source';
import { OrderFeed } from './order-feed';
import { ConnectionDetails, ShareBadge, StatusPill } from './status-pill';

const { useLiveClient, useLiveEvent, useLiveQuery } = createLiveHooks<DemoEvents>();

interface Session {
  client: LiveClient<DemoEvents>;
  store: FeedStore;
  tokens: TokenSource;
}

/**
 * One tenant: its own token, its own client, its own channel. Rendered by the server with the
 * tenant's orders and the cursor read before them; the client starts from that cursor, so the
 * page goes live without a gap and without showing an order twice.
 */
export function TenantPanel({ tenant, snapshot }: { tenant: Tenant; snapshot: TenantSnapshot }) {
  // Made once, on the server for the render and again in the browser: nothing opens until
  // the providers below mount the client.
  const [session] = useState<Session>(() => {
    const tokens = new TokenSource(tenant.id);
    const client = createLiveClient<DemoEvents>({
      url: '/api/live',
      channels: [ordersChannel(tenant.id)],
      // Called on connect, before expiry and after a 401: only the first may reuse a token.
      token: ({ reason }) => tokens.get(reason !== 'connect'),
      cursor: snapshot.cursor,
      // A reload renders the page anew: positions need not outlive it.
      storage: null,
    });
    return { client, store: new FeedStore(snapshot), tokens };
  });

  const style = { '--accent': tenant.accent } as CSSProperties;
  return (
    <section className="panel" data-tenant={tenant.id} style={style} aria-label={tenant.name}>
      <LiveProvider client={session.client}>
        <header className="panel-head">
          <span className="logo" aria-hidden="true">
            {tenant.name.slice(0, 1)}
          </span>
          <div className="panel-title">
            <h2>{tenant.name}</h2>
            <p className="muted">
              {tenant.tagline} · <code>{ordersChannel(tenant.id)}</code>
            </p>
          </div>
          <StatusPill />
        </header>
        <TenantDashboard store={session.store} tokens={session.tokens} />
      </LiveProvider>
    </section>
  );
}

function TenantDashboard({ store, tokens }: { store: FeedStore; tokens: TokenSource }) {
  const client = useLiveClient();
  const feed = useSyncExternalStore(store.subscribe, store.getState, store.getState);
  const [notice, setNotice] = useState<{ text: string; tone: 'info' | 'warn' } | null>(null);

  useLiveEvent(ORDER_CREATED, (order, meta) => store.add(order, meta));
  // Continuity lost (a restart on the memory broker, retention passed): reload the tenant's
  // orders, as the docs tell apps to, instead of keeping a list that may miss some.
  useEffect(
    () =>
      client.onResync(() => {
        const ticket = store.resync();
        reloadOrders(tokens)
          .then((snapshot) => store.reload(snapshot, ticket))
          .catch((error: unknown) =>
            setNotice({ text: `could not reload the orders: ${String(error)}`, tone: 'warn' }),
          );
      }),
    [client, store, tokens],
  );

  // "Published" comes from the server, refreshed by the very events it counts: one refetch
  // per burst, on resync, and every 2 s (so "viewing" follows tabs and browsers coming and
  // going; 3 s while the stream is down).
  const stats = useLiveQuery((signal) => fetchStats(tokens, signal), {
    refetchOn: [ORDER_CREATED],
    connectedIntervalMs: 2_000,
  });
  const { data } = stats;
  useEffect(() => {
    if (data && !store.getState().baseline) store.setBaseline({ epoch: data.epoch, head: data.head });
  }, [data, store]);

  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice(null), 5_000);
    return () => clearTimeout(timer);
  }, [notice]);

  const { baseline } = feed;
  // What the server says, or what the page has if that is more: every order received proves
  // it was published, and the count refreshes a moment after the orders that change it.
  const fromStats = data && baseline && data.epoch === baseline.epoch ? data.head - baseline.head : null;
  const published = baseline ? Math.max(fromStats ?? 0, feed.received) : null;
  const latency = latencySummary(feed.entries);
  const revenue = feed.entries.reduce((sum, entry) => sum + entry.order.amount, 0);
  const inSync = published !== null && published === feed.received;

  const run = (action: () => Promise<unknown>) => {
    action().catch((error: unknown) =>
      setNotice({ text: error instanceof Error ? error.message : String(error), tone: 'warn' }),
    );
  };

  return (
    <div className="panel-body">
      <Viewers viewers={data?.viewers} />
      <dl className="tiles">
        <div className="tile" title="Orders this page has: rendered by the server, then received live">
          <dt>Received</dt>
          <dd data-testid="received">{feed.received}</dd>
        </div>
        <div
          className={`tile ${published === null ? '' : inSync ? 'tile-ok' : 'tile-pending'}`}
          title="Orders the server has published on this channel"
        >
          <dt>Published</dt>
          <dd data-testid="published">{published ?? '–'}</dd>
        </div>
        <div className="tile" title="Publish on the server → row on screen, over the orders listed">
          <dt>Latency p50 / p99</dt>
          <dd data-testid="latency">
            {latency ? (
              <>
                {Math.round(latency.p50)}
                <small> / {Math.round(latency.p99)} ms</small>
              </>
            ) : (
              '–'
            )}
          </dd>
        </div>
        <div className="tile" title="Sum of the orders listed">
          <dt>Revenue shown</dt>
          <dd data-testid="revenue">{formatMoney(revenue)}</dd>
        </div>
      </dl>

      <PublishForm tokens={tokens} onError={(text) => setNotice({ text, tone: 'warn' })} />

      <div className="controls">
        <button
          type="button"
          role="switch"
          aria-checked={data?.generator ?? false}
          className="switch"
          data-testid="generator"
          disabled={!data}
          onClick={() =>
            run(async () => {
              await setGenerator(tokens, !data?.generator);
              stats.refetch();
            })
          }
        >
          <span className="switch-track" aria-hidden="true">
            <span className="switch-thumb" />
          </span>
          Order generator
        </button>
        <button
          type="button"
          className="button button-danger"
          data-testid="cut"
          onClick={() =>
            run(async () => {
              const { dropped, refusingStreamsForMs } = await cutConnection(tokens);
              setNotice({
                text: `Cut ${dropped} stream${dropped === 1 ? '' : 's'}; new streams refused for ${refusingStreamsForMs / 1000} s. Orders keep coming by polling.`,
                tone: 'info',
              });
            })
          }
        >
          Cut connection
        </button>
      </div>

      {notice && (
        <p className={`notice notice-${notice.tone}`} role="status">
          {notice.text}
        </p>
      )}

      <div className="feed-head">
        <h3>Orders</h3>
        <span className="muted">
          newest first · duplicates <span data-testid="duplicates">{feed.duplicates}</span>
          {feed.resyncs > 0 && ` · resyncs ${feed.resyncs}`}
        </span>
      </div>
      <OrderFeed entries={feed.entries} store={store} />
      <footer className="panel-foot">
        <ConnectionDetails />
        <ShareBadge />
        <span className="muted nowrap">broker: {data?.broker ?? '…'}</span>
      </footer>
    </div>
  );
}

/** The tenant's orders after a resync, tried again a few times while the server restarts. */
async function reloadOrders(tokens: TokenSource): Promise<TenantSnapshot> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchSnapshot(tokens);
    } catch (error) {
      if (attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
    }
  }
}

function PublishForm({ tokens, onError }: { tokens: TokenSource; onError: (text: string) => void }) {
  const [customer, setCustomer] = useState('');
  const [amount, setAmount] = useState('');
  const [busy, setBusy] = useState(false);

  const publish = async (count: number) => {
    setBusy(true);
    try {
      const cents = amount.trim() === '' ? undefined : Math.round(Number.parseFloat(amount) * 100);
      if (cents !== undefined && !(cents >= 0)) throw new Error('amount must be a positive number');
      for (let i = 0; i < count; i++) {
        await publishOrder(tokens, {
          ...(customer.trim() ? { customer: customer.trim() } : {}),
          ...(cents !== undefined ? { amount: cents } : {}),
        });
      }
    } catch (error) {
      onError(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void publish(1);
  };

  return (
    <form className="publish" onSubmit={onSubmit}>
      <label>
        <span>Customer</span>
        <input
          value={customer}
          onChange={(e) => setCustomer(e.target.value)}
          placeholder="random"
          maxLength={80}
        />
      </label>
      <label className="publish-amount">
        <span>Amount ($)</span>
        <input
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          placeholder="random"
          inputMode="decimal"
        />
      </label>
      <button type="submit" className="button button-primary" disabled={busy} data-testid="publish">
        Publish order
      </button>
      <button type="button" className="button" disabled={busy} onClick={() => void publish(10)}>
        ×10
      </button>
    </form>
  );
}

/** Who is viewing the tenant: a count and the first few names (this browser marked). */
function Viewers({ viewers }: { viewers: PresenceView | undefined }) {
  if (!viewers) return <p className="viewers muted">Viewing: –</p>;
  const me = viewerName();
  const names = (viewers.members ?? [])
    .slice(0, 3)
    .map((member) => (member.subject === me ? `${me} (you)` : member.subject));
  const more = viewers.users - names.length;
  return (
    <p className="viewers muted" data-testid="viewers" title={`${viewers.connections} streams`}>
      {viewers.users} viewing{names.length > 0 ? `: ${names.join(', ')}` : ''}
      {more > 0 ? ` and ${more} more` : ''}
    </p>
  );
}
