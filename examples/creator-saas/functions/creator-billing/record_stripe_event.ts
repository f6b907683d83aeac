// Logs a verified Stripe event once and applies it to its creator, in one
// database call (private.record_stripe_event, as the service): the event id is
// the log's primary key, so a redelivery changes nothing; a subscription event
// sets the plan of the creator its metadata names, unless a newer event did.
import { asAdmin } from "../../../../supabase/functions/_shared/db/db.ts";

/** The fields of a Stripe event this recipe reads (the body is signed). */
export interface StripeEvent {
  id: string;
  type: string;
  /** Unix seconds. */
  created: number;
  data: { object: Record<string, unknown> };
}

/** What happened to the event. */
export interface Recorded {
  duplicate: boolean;
  applied: boolean;
}

/** Records `event` (whose id the core took from the signed body). */
export async function recordStripeEvent(event: StripeEvent, ctx: { requestId: string; clientIp?: string }): Promise<Recorded> {
  const [row] = await asAdmin((sql) =>
    sql<Recorded[]>`select duplicate, applied from private.record_stripe_event(
      ${event.id}, ${event.type}, to_timestamp(${event.created}), ${sql.json(event.data.object as never)}, ${ctx.requestId})`, ctx);
  return { duplicate: row.duplicate, applied: row.applied };
}
