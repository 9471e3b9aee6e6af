/**
 * A small stateful stand-in for the Stripe API on loopback, for the real `stripe` SDK (its host/port/protocol
 * options): customers, products, prices (lookup keys), Checkout Sessions, Customer Portal sessions, subscriptions,
 * invoices and Billing Meter events — only what Dizi calls, shaped as Stripe's API reference documents. What a
 * customer does in Stripe (completing Checkout, a card declined, paying an invoice) is driven by methods here,
 * which return the events Stripe would send; tests deliver them signed with the SDK's test-header helper.
 */
import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The API version the SDK asks for (stripe 23.1.0). */
const STRIPE_API_VERSION = '2026-10-28.endive';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface StripeEventRecord {
  id: string;
  object: 'event';
  type: string;
  created: number;
  api_version: string;
  livemode: false;
  data: { object: Obj };
}

class StripeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

/** `a[b][0][c]=v` (Stripe's form encoding) into nested objects and arrays. */
export function parseStripeForm(body: string): Obj {
  const out: Obj = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const parts = rawKey.replace(/\]/g, '').split('[');
    let node: Obj = out;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const key = part === '' && Array.isArray(node) ? String(node.length) : part;
      if (last) node[key] = value;
      else {
        const nextIsIndex = /^\d*$/.test(parts[i + 1]);
        node[key] ??= nextIsIndex ? [] : {};
        node = node[key];
      }
    });
  }
  return out;
}

const now = () => Math.floor(Date.now() / 1000);
const newId = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;
const int = (v: unknown) => (v === undefined || v === null || v === '' ? null : Number(v));

export class StripeStandIn {
  readonly customers = new Map<string, Obj>();
  readonly products = new Map<string, Obj>();
  readonly prices = new Map<string, Obj>();
  readonly checkoutSessions = new Map<string, Obj>();
  readonly subscriptions = new Map<string, Obj>();
  readonly invoices = new Map<string, Obj>();
  /** Every accepted meter event, in order; a repeated identifier is refused, as Stripe does. */
  readonly meterEvents: Obj[] = [];
  /** Every request the SDK made, for tests to count calls. */
  readonly requests: Array<{ method: string; path: string }> = [];
  private server?: Server;
  url = '';
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The customer completes a Checkout Session: a subscription starts (trialing when the session asked for a trial) and its first invoice is paid. */
  completeCheckout(sessionId: string): StripeEventRecord[] {
    const session = this.mustGet(this.checkoutSessions, sessionId, 'checkout.session');
    const customerId = session.customer ?? this.createCustomer({ email: session.customer_email, metadata: {} }).id;
    const sub = this.createSubscription({
      customer: customerId,
      items: session.line_items,
      metadata: session.subscription_data?.metadata ?? {},
      trial_period_days: session.subscription_data?.trial_period_days,
    });
    Object.assign(session, { status: 'complete', payment_status: 'paid', customer: customerId, subscription: sub.id });
    const invoice = this.createInvoice(sub, 'paid');
    return [
      this.event('customer.subscription.created', sub),
      this.event('invoice.paid', invoice),
      this.event('checkout.session.completed', session),
    ];
  }

  /** The renewal's charge is declined: a new open invoice and the subscription `past_due`. */
  failPayment(subscriptionId: string): StripeEventRecord[] {
    const sub = this.mustGet(this.subscriptions, subscriptionId, 'subscription');
    const invoice = this.createInvoice(sub, 'open');
    invoice.attempt_count = 1;
    sub.status = 'past_due';
    sub.latest_invoice = invoice.id;
    return [this.event('invoice.payment_failed', invoice), this.event('customer.subscription.updated', sub)];
  }

  /** The open invoice is paid (a new card, a retry that works): the subscription is `active` again. */
  payInvoice(invoiceId: string): StripeEventRecord[] {
    const invoice = this.mustGet(this.invoices, invoiceId, 'invoice');
    invoice.status = 'paid';
    invoice.amount_paid = invoice.amount_due;
    invoice.status_transitions.paid_at = now();
    const sub = this.mustGet(this.subscriptions, invoice.parent.subscription_details.subscription, 'subscription');
    sub.status = 'active';
    return [this.event('invoice.paid', invoice), this.event('customer.subscription.updated', sub)];
  }

  trialWillEnd(subscriptionId: string): StripeEventRecord[] {
    return [this.event('customer.subscription.trial_will_end', this.mustGet(this.subscriptions, subscriptionId, 'subscription'))];
  }

  event(type: string, object: Obj): StripeEventRecord {
    return { id: newId('evt'), object: 'event', type, created: now(), api_version: STRIPE_API_VERSION, livemode: false, data: { object: structuredClone(object) } };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname });
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'request-id': newId('req') });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    try {
      if (!url.pathname.startsWith('/v1/')) return this.page(url, send);
      if (!/^Bearer sk_/.test(req.headers.authorization ?? '')) throw new StripeError(401, 'Invalid API Key provided');
      const params = method === 'GET' || method === 'DELETE' ? parseStripeForm(url.search.slice(1)) : parseStripeForm(Buffer.concat(chunks).toString());
      send(200, this.route(method, url.pathname.slice(4).split('/'), params));
    } catch (err) {
      const e = err instanceof StripeError ? err : new StripeError(500, String(err));
      send(e.status, { error: { type: e.status === 401 ? 'authentication_error' : 'invalid_request_error', message: e.message, code: e.code, param: e.param } });
    }
  }

  /** What a browser sees at a Checkout or Customer Portal URL. */
  private page(url: URL, send: (status: number, body: unknown, type?: string) => void): void {
    const [, kind, id] = url.pathname.split('/');
    if (kind === 'checkout' && this.checkoutSessions.has(id)) {
      return send(200, `<!doctype html><title>Stripe Checkout (stand-in)</title><h1>Checkout ${id}</h1>`, 'text/html; charset=utf-8');
    }
    if (kind === 'portal') return send(200, `<!doctype html><title>Customer Portal (stand-in)</title><h1>Portal ${id}</h1>`, 'text/html; charset=utf-8');
    send(404, 'not found', 'text/plain');
  }

  private route(method: string, path: string[], p: Obj): unknown {
    const [a, b, c] = path;
    const key = `${method} ${a}${b !== undefined ? (a === 'checkout' || a === 'billing_portal' || a === 'billing' ? `/${b}` : '/:id') : ''}${c !== undefined ? '/:id' : ''}`;
    switch (key) {
      case 'POST customers':
        return this.createCustomer(p);
      case 'GET customers/:id':
        return this.mustGet(this.customers, b, 'customer');
      case 'POST customers/:id':
        return this.update(this.mustGet(this.customers, b, 'customer'), p);
      case 'POST products': {
        const id = p.id ?? newId('prod');
        if (this.products.has(id)) throw new StripeError(400, `Product already exists.`, 'resource_already_exists', 'id');
        const product = { id, object: 'product', active: p.active !== 'false', name: p.name, description: p.description ?? null, metadata: p.metadata ?? {}, created: now(), updated: now() };
        this.products.set(id, product);
        return product;
      }
      case 'GET products/:id':
        return this.mustGet(this.products, b, 'product');
      case 'POST products/:id':
        return this.update(this.mustGet(this.products, b, 'product'), { ...p, updated: now() });
      case 'POST prices':
        return this.createPrice(p);
      case 'GET prices': {
        let list = [...this.prices.values()];
        if (p.lookup_keys) list = list.filter((x) => (p.lookup_keys as string[]).includes(x.lookup_key));
        if (p.product) list = list.filter((x) => x.product === p.product);
        if (p.active !== undefined) list = list.filter((x) => String(x.active) === p.active);
        return this.list('/v1/prices', list);
      }
      case 'GET prices/:id':
        return this.mustGet(this.prices, b, 'price');
      case 'POST prices/:id': {
        const price = this.mustGet(this.prices, b, 'price');
        if (p.active !== undefined) price.active = p.active === 'true';
        if (p.metadata) price.metadata = { ...price.metadata, ...p.metadata };
        if (p.lookup_key !== undefined) this.takeLookupKey(p.lookup_key, p.transfer_lookup_key === 'true', price);
        return price;
      }
      case 'POST checkout/sessions':
        return this.createCheckoutSession(p);
      case 'GET checkout/sessions/:id':
        return this.mustGet(this.checkoutSessions, c, 'checkout.session');
      case 'POST billing_portal/sessions': {
        this.mustGet(this.customers, p.customer, 'customer');
        const id = newId('bps');
        return { id, object: 'billing_portal.session', customer: p.customer, return_url: p.return_url ?? null, url: `${this.url}/portal/${id}`, created: now(), livemode: false };
      }
      case 'POST subscriptions':
        return this.createSubscription(p);
      case 'GET subscriptions/:id':
        return this.mustGet(this.subscriptions, b, 'subscription');
      case 'POST subscriptions/:id':
        return this.updateSubscription(this.mustGet(this.subscriptions, b, 'subscription'), p);
      case 'DELETE subscriptions/:id': {
        const sub = this.mustGet(this.subscriptions, b, 'subscription');
        Object.assign(sub, { status: 'canceled', canceled_at: now(), ended_at: now() });
        return sub;
      }
      case 'GET invoices': {
        let list = [...this.invoices.values()].sort((x, y) => y.created - x.created);
        if (p.customer) list = list.filter((x) => x.customer === p.customer);
        if (p.subscription) list = list.filter((x) => x.parent.subscription_details.subscription === p.subscription);
        return this.list('/v1/invoices', list.slice(0, int(p.limit) ?? 10));
      }
      case 'GET invoices/:id':
        return this.mustGet(this.invoices, b, 'invoice');
      case 'POST billing/meter_events': {
        if (!p.event_name) throw new StripeError(400, 'Missing required param: event_name.', 'parameter_missing', 'event_name');
        if (!p.payload?.stripe_customer_id) throw new StripeError(400, 'Missing required param: payload[stripe_customer_id].', 'parameter_missing', 'payload');
        const identifier = p.identifier ?? newId('mev');
        if (this.meterEvents.some((e) => e.identifier === identifier)) {
          throw new StripeError(400, `An event already exists with identifier ${identifier}.`, 'resource_already_exists', 'identifier');
        }
        const event = { object: 'billing.meter_event', event_name: p.event_name, identifier, payload: p.payload, timestamp: int(p.timestamp) ?? now(), created: now(), livemode: false };
        this.meterEvents.push(event);
        return event;
      }
    }
    throw new StripeError(404, `Unrecognized request URL (${method}: /v1/${path.join('/')}).`);
  }

  private list(url: string, data: Obj[]): Obj {
    return { object: 'list', url, has_more: false, data };
  }

  private mustGet(map: Map<string, Obj>, id: string | undefined, what: string): Obj {
    const found = id ? map.get(id) : undefined;
    if (!found) throw new StripeError(404, `No such ${what}: '${id}'`, 'resource_missing', 'id');
    return found;
  }

  private update(o: Obj, p: Obj): Obj {
    const { metadata, ...rest } = p;
    Object.assign(o, rest);
    if (metadata) o.metadata = { ...o.metadata, ...metadata };
    return o;
  }

  private createCustomer(p: Obj): Obj {
    const c = { id: newId('cus'), object: 'customer', email: p.email ?? null, name: p.name ?? null, metadata: p.metadata ?? {}, created: now(), livemode: false };
    this.customers.set(c.id, c);
    return c;
  }

  private createPrice(p: Obj): Obj {
    this.mustGet(this.products, p.product, 'product');
    if (!p.currency) throw new StripeError(400, 'Missing required param: currency.', 'parameter_missing', 'currency');
    const price: Obj = {
      id: newId('price'), object: 'price', active: true, product: p.product, currency: p.currency, unit_amount: int(p.unit_amount),
      recurring: p.recurring ? { interval: p.recurring.interval, interval_count: int(p.recurring.interval_count) ?? 1, usage_type: p.recurring.usage_type ?? 'licensed', meter: p.recurring.meter ?? null } : null,
      type: p.recurring ? 'recurring' : 'one_time', lookup_key: null, metadata: p.metadata ?? {}, created: now(), livemode: false,
    };
    if (p.lookup_key) this.takeLookupKey(p.lookup_key, p.transfer_lookup_key === 'true', price);
    this.prices.set(price.id, price);
    return price;
  }

  /** A lookup key names one price; taking it from another needs transfer_lookup_key. */
  private takeLookupKey(key: string, transfer: boolean, price: Obj): void {
    const holder = [...this.prices.values()].find((x) => x.lookup_key === key && x.id !== price.id);
    if (holder && !transfer) throw new StripeError(400, `A price (${holder.id}) already uses that lookup key.`, 'lookup_key_exists', 'lookup_key');
    if (holder) holder.lookup_key = null;
    price.lookup_key = key;
  }

  private items(items: Obj[] | undefined, subscriptionId: string): Obj {
    if (!items?.length) throw new StripeError(400, 'Missing required param: items.', 'parameter_missing', 'items');
    return this.list(`/v1/subscription_items?subscription=${subscriptionId}`, items.map((i) => ({
      id: newId('si'), object: 'subscription_item', price: this.mustGet(this.prices, i.price, 'price'), quantity: int(i.quantity) ?? 1, subscription: subscriptionId,
      current_period_start: now(), current_period_end: now() + 30 * 86_400,
    })));
  }

  private createCheckoutSession(p: Obj): Obj {
    if (p.mode !== 'subscription' && p.mode !== 'payment' && p.mode !== 'setup') throw new StripeError(400, 'Missing required param: mode.', 'parameter_missing', 'mode');
    if (!p.success_url && p.ui_mode !== 'embedded') throw new StripeError(400, 'Missing required param: success_url.', 'parameter_missing', 'success_url');
    if (p.customer) this.mustGet(this.customers, p.customer, 'customer');
    for (const li of p.line_items ?? []) this.mustGet(this.prices, li.price, 'price');
    const id = newId('cs_test');
    const session = {
      id, object: 'checkout.session', mode: p.mode, status: 'open', payment_status: 'unpaid', customer: p.customer ?? null, customer_email: p.customer_email ?? null,
      client_reference_id: p.client_reference_id ?? null, metadata: p.metadata ?? {}, success_url: p.success_url, cancel_url: p.cancel_url ?? null,
      subscription: null, url: `${this.url}/checkout/${id}`, line_items: p.line_items ?? [], subscription_data: p.subscription_data ?? null, created: now(), livemode: false,
    };
    this.checkoutSessions.set(id, session);
    return session;
  }

  private createSubscription(p: Obj): Obj {
    this.mustGet(this.customers, p.customer, 'customer');
    const id = newId('sub');
    const trialDays = int(p.trial_period_days) ?? 0;
    const start = now();
    const sub: Obj = {
      id, object: 'subscription', customer: p.customer, status: trialDays > 0 ? 'trialing' : 'active', metadata: p.metadata ?? {},
      items: this.items(p.items, id), cancel_at_period_end: false, canceled_at: null, ended_at: null, created: start, start_date: start,
      trial_start: trialDays ? start : null, trial_end: trialDays ? start + trialDays * 86_400 : null,
      latest_invoice: null, livemode: false,
    };
    this.subscriptions.set(id, sub);
    return sub;
  }

  private updateSubscription(sub: Obj, p: Obj): Obj {
    if (p.items) {
      for (const change of p.items as Obj[]) {
        const item = sub.items.data.find((i: Obj) => i.id === change.id);
        if (!item) throw new StripeError(400, `No such subscription item: '${change.id}'`, 'resource_missing', 'items');
        if (change.price) item.price = this.mustGet(this.prices, change.price, 'price');
        if (change.quantity) item.quantity = Number(change.quantity);
      }
    }
    if (p.metadata) sub.metadata = { ...sub.metadata, ...p.metadata };
    if (p.cancel_at_period_end !== undefined) sub.cancel_at_period_end = p.cancel_at_period_end === 'true';
    return sub;
  }

  private createInvoice(sub: Obj, status: 'paid' | 'open'): Obj {
    const amount = sub.items.data.reduce((n: number, i: Obj) => n + (i.price.unit_amount ?? 0) * i.quantity, 0);
    const id = newId('in');
    const invoice = {
      id, object: 'invoice', customer: sub.customer, status,
      parent: { type: 'subscription_details', quote_details: null, subscription_details: { subscription: sub.id, metadata: sub.metadata } }, amount_due: amount, amount_paid: status === 'paid' ? amount : 0,
      currency: sub.items.data[0].price.currency, attempt_count: status === 'paid' ? 1 : 0, created: now(), period_start: sub.items.data[0].current_period_start,
      period_end: sub.items.data[0].current_period_end, hosted_invoice_url: `${this.url}/invoice/${id}`, number: `DIZI-${this.invoices.size + 1}`,
      status_transitions: { paid_at: status === 'paid' ? now() : null }, livemode: false,
    };
    this.invoices.set(id, invoice);
    sub.latest_invoice = id;
    return invoice;
  }
}
