/** The demo's tenants. Each one is a channel prefix, `tenant:<id>`, with its own token. */
export interface Tenant {
  id: string;
  name: string;
  tagline: string;
  /** Accent colour of its panel. */
  accent: string;
}

export const TENANTS: readonly Tenant[] = [
  { id: 'acme', name: 'Acme Corp', tagline: 'Rocket skates & anvils', accent: '#4f46e5' },
  { id: 'globex', name: 'Globex', tagline: 'Industrial-grade everything', accent: '#0d9488' },
];

export function findTenant(id: string | null | undefined): Tenant | undefined {
  return TENANTS.find((tenant) => tenant.id === id);
}

/** The channel a tenant's orders go to. */
/** A tenant's channel, `tenant:<id>/<suffix>`: a tenant is a channel prefix. */
export function tenantChannel(tenantId: string, suffix: string): string {
  return `tenant:${tenantId}/${suffix}`;
}

export function ordersChannel(tenantId: string): string {
  return tenantChannel(tenantId, 'orders');
}

/** The channel patterns a tenant's token may read. */
export function tenantPattern(tenantId: string): string {
  return `tenant:${tenantId}/**`;
}
