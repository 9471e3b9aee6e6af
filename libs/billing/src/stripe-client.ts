/** The Stripe SDK client from billing config, or null when no key is configured (manual billing only). */
import Stripe from 'stripe';
import type { StripeConfig } from '@dizi/config/billing.config';

export type StripeClient = Stripe;

export function createStripeClient(config: StripeConfig): Stripe | null {
  if (!config.STRIPE_SECRET_KEY) return null;
  return new Stripe(config.STRIPE_SECRET_KEY, {
    host: config.STRIPE_API_HOST,
    port: config.STRIPE_API_PORT,
    protocol: config.STRIPE_API_PROTOCOL,
    maxNetworkRetries: 2,
    timeout: 20_000,
    appInfo: { name: 'dizi-billing' },
  });
}
