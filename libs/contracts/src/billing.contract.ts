/** Plans, a tenant's billing state and usage (issue 17). */
import { z } from 'zod';
import { byteLimit, countLimit, isoDate } from './common.contract';

export const planProtocol = z.enum(['smtp', 'imap', 'pop3', 'jmap']);
const cents = z.number().int().min(0).max(100_000_000).nullable();

/** Without defaults: what a PATCH leaves out stays as it is. */
const planFieldsBare = z.object({
  code: z.string().trim().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'the plan code is lowercase letters, digits, - and _ (what tenant.plan names)'),
  name: z.string().trim().min(1, 'the plan name is empty').max(200),
  currency: z.string().trim().regex(/^[a-z]{3}$/, 'an ISO 4217 currency code in lowercase, e.g. usd, cny'),
  priceMonthCents: cents.describe('price per month in the currency\'s smallest unit; null: not sold monthly'),
  priceYearCents: cents,
  includedMailboxes: countLimit,
  includedStorageBytes: byteLimit,
  pricePerMailboxCents: cents.describe('per mailbox above the included ones, per month'),
  pricePerStorageGbCents: cents.describe('per GB above the included storage, per month'),
  maxDomains: countLimit.describe('null: no limit'),
  maxMailboxes: countLimit,
  maxStorageBytes: byteLimit,
  maxDailySends: countLimit,
  protocols: z.array(planProtocol),
  trialDays: z.number().int().min(0).max(730),
  billing: z.enum(['stripe', 'manual']).describe('manual: billed outside Stripe (bank transfer), never synced'),
});

export const planFields = z.object({
  code: z.string().trim().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'the plan code is lowercase letters, digits, - and _ (what tenant.plan names)'),
  name: z.string().trim().min(1, 'the plan name is empty').max(200),
  currency: z.string().trim().regex(/^[a-z]{3}$/, 'an ISO 4217 currency code in lowercase, e.g. usd, cny').default('usd'),
  priceMonthCents: cents.default(null).describe('price per month in the currency\'s smallest unit; null: not sold monthly'),
  priceYearCents: cents.default(null),
  includedMailboxes: countLimit.default(null),
  includedStorageBytes: byteLimit.default(null),
  pricePerMailboxCents: cents.default(null).describe('per mailbox above the included ones, per month'),
  pricePerStorageGbCents: cents.default(null).describe('per GB above the included storage, per month'),
  maxDomains: countLimit.default(null).describe('null: no limit'),
  maxMailboxes: countLimit.default(null),
  maxStorageBytes: byteLimit.default(null),
  maxDailySends: countLimit.default(null),
  protocols: z.array(planProtocol).default(['smtp', 'imap', 'pop3', 'jmap']),
  trialDays: z.number().int().min(0).max(730).default(0),
  billing: z.enum(['stripe', 'manual']).default('stripe').describe('manual: billed outside Stripe (bank transfer), never synced'),
});

export const createPlanRequest = planFields;
export const updatePlanRequest = planFieldsBare.omit({ code: true }).partial().strict();

export const planView = planFields.extend({
  id: z.string(),
  stripeProductId: z.string().nullable(),
  stripePriceMonthId: z.string().nullable(),
  stripePriceYearId: z.string().nullable(),
  stripeSyncedAt: isoDate.nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});
export const planList = z.object({ items: z.array(planView) });

export const changePlanRequest = z.object({ plan: z.string().trim().min(1).max(64).describe('the code of the new plan') }).strict();

export const billingStatus = z.enum(['none', 'trialing', 'active', 'past_due', 'suspended', 'canceled']);

export const tenantBillingView = z.object({
  tenantId: z.string(),
  plan: z.string(),
  mode: z.enum(['stripe', 'manual']),
  status: billingStatus,
  stripeCustomerId: z.string().nullable(),
  stripeSubscriptionId: z.string().nullable(),
  currentPeriodEnd: isoDate.nullable(),
  trialEnd: isoDate.nullable(),
  pastDueSince: isoDate.nullable(),
  stripeEnabled: z.boolean(),
});

export const setBillingRequest = z
  .object({
    mode: z.enum(['stripe', 'manual']),
    status: billingStatus.describe('manual billing: the operator sets it (suspended refuses mail with a temporary code, active restores it)'),
  })
  .partial()
  .strict();

export const checkoutRequest = z.object({
  plan: z.string().trim().min(1).max(64),
  interval: z.enum(['month', 'year']).default('month'),
}).strict();
export const linkView = z.object({ url: z.string() });

export const invoiceList = z.object({
  items: z.array(z.object({ id: z.string(), number: z.string().nullable(), status: z.string().nullable(), amountDue: z.number().int(), amountPaid: z.number().int(), currency: z.string(), created: isoDate, hostedInvoiceUrl: z.string().nullable() })),
});

export const usageQuery = z.object({
  tenantId: z.string().optional().describe('operators: one tenant (default: all); tenant admins: always their own'),
  from: z.iso.date().optional().describe('first day (UTC), default 30 days ago'),
  to: z.iso.date().optional().describe('last day (UTC), default today'),
  period: z.enum(['day', 'month']).default('day'),
  format: z.enum(['json', 'csv']).default('json'),
});

export const usageRow = z.object({
  tenantId: z.string(),
  period: z.string().describe('YYYY-MM-DD or YYYY-MM'),
  mailboxesPeak: z.number().int(),
  storageGbDays: z.number(),
  sentOutside: z.number().int(),
  received: z.number().int(),
  closed: z.boolean().describe('false while the day (or a day of the month) is still being measured'),
});
export const usageList = z.object({ items: z.array(usageRow) });
