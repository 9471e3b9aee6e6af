/** The Stripe SDK client of the API (null without STRIPE_SECRET_KEY: manual billing only). */
import type { Provider } from '@nestjs/common';
import type { ApiConfig } from '@dizi/config/api.config';
import { createStripeClient } from '@dizi/billing/stripe-client';
import { API_CONFIG } from '../../common/tokens';

export const STRIPE = Symbol('STRIPE');

export const stripeProvider: Provider = { provide: STRIPE, inject: [API_CONFIG], useFactory: (config: ApiConfig) => createStripeClient(config) };
