// The order as the API shows it.

/** A row of public.orders as selected by the verbs. */
export interface OrderRow {
  id: string;
  tenant_id: string;
  customer_id: string;
  assigned_agent_id: string | null;
  status: string;
  total_cents: string | number;
  currency: string;
  note: string;
  created_at: Date;
  updated_at: Date;
}

/** JSON shape: numbers as numbers, times as ISO strings. */
export function toOrder(r: OrderRow) {
  return {
    ...r,
    total_cents: Number(r.total_cents),
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
  };
}
