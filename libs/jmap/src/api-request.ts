/**
 * The JMAP API endpoint (RFC 8620 §3): parses a Request object, checks `using` and the limits, runs each method call
 * in order with its result references resolved, and answers a Response object. Whatever a method throws becomes its
 * error response; nothing becomes an HTTP 500.
 */
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import { KNOWN_CAPABILITIES } from './capabilities';
import { JmapRequestError, MethodError } from './errors';
import { evaluatePointer, PointerError } from './json-pointer';
import type { JmapLimits } from './limits';
import type { JmapIdentities } from './identities';
import type { JmapSender } from './submissions';
import type { JmapUploads } from './uploads';
import type { JmapVacation } from './vacation';
import type { Args, JmapAccount, JmapMethod, MethodContext } from './method';

export interface JmapApiOptions {
  store: MessageStore;
  limits: () => JmapLimits;
  methods: readonly JmapMethod[];
  /** Uploaded blobs (Email/import, attachments); without it no method can use an upload. */
  uploads?: JmapUploads;
  identities?: JmapIdentities;
  sender?: JmapSender;
  vacation?: JmapVacation;
  /** The session resource's state (RFC 8620 §2), given back with every response. */
  sessionState: (account: JmapAccount) => string;
  /** A method that failed unexpectedly (answered serverFail). */
  onMethodFailure?: (method: string, err: unknown) => void;
}

type Invocation = [string, Args, string];

export interface JmapResponse {
  methodResponses: Invocation[];
  createdIds?: Record<string, string>;
  sessionState: string;
}

export class JmapApi {
  private readonly methods: Map<string, JmapMethod>;
  /** Requests being processed per account, for maxConcurrentRequests. */
  private readonly running = new Map<string, number>();

  constructor(private readonly options: JmapApiOptions) {
    this.methods = new Map(options.methods.map((m) => [m.name, m]));
  }

  /** The body as received (the HTTP layer stops reading past maxSizeRequest and says so itself). JmapRequestError. */
  async handle(account: JmapAccount, body: Buffer | string): Promise<JmapResponse> {
    const limits = this.options.limits();
    const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    if (size > limits.maxSizeRequest) {
      throw new JmapRequestError('limit', `the request is larger than ${limits.maxSizeRequest} bytes`, 400, 'maxSizeRequest');
    }
    const request = parseRequest(body);
    const unknown = request.using.filter((c) => !KNOWN_CAPABILITIES.includes(c));
    if (unknown.length > 0) throw new JmapRequestError('unknownCapability', `this server does not support ${unknown.join(', ')}`);
    if (request.methodCalls.length > limits.maxCallsInRequest) {
      throw new JmapRequestError('limit', `at most ${limits.maxCallsInRequest} method calls in one request`, 400, 'maxCallsInRequest');
    }
    const running = this.running.get(account.accountId) ?? 0;
    if (running >= limits.maxConcurrentRequests) {
      throw new JmapRequestError('limit', `at most ${limits.maxConcurrentRequests} requests at once per account`, 400, 'maxConcurrentRequests');
    }
    this.running.set(account.accountId, running + 1);
    try {
      return await this.run(account, request, limits);
    } finally {
      const left = (this.running.get(account.accountId) ?? 1) - 1;
      if (left === 0) this.running.delete(account.accountId);
      else this.running.set(account.accountId, left);
    }
  }

  private async run(account: JmapAccount, request: ParsedRequest, limits: JmapLimits): Promise<JmapResponse> {
    const ctx: MethodContext = { account, store: this.options.store, limits, createdIds: new Map(Object.entries(request.createdIds ?? {})), uploads: this.options.uploads, identities: this.options.identities, sender: this.options.sender, vacation: this.options.vacation };
    const responses: Invocation[] = [];
    for (const [name, args, callId] of request.methodCalls) {
      const method = this.methods.get(name);
      if (!method || !request.using.includes(method.capability)) {
        responses.push(['error', new MethodError('unknownMethod', `${name} is not a method of the capabilities in "using"`).response(), callId]);
        continue;
      }
      try {
        const resolved = resolveReferences(args, responses);
        const followUps: Array<[string, Args]> = [];
        ctx.followUps = followUps;
        responses.push([name, await method.run(resolved, ctx), callId]);
        for (const [implicit, result] of followUps) responses.push([implicit, result, callId]);
      } catch (err) {
        if (err instanceof MethodError) {
          responses.push(['error', err.response(), callId]);
        } else {
          this.options.onMethodFailure?.(name, err);
          responses.push(['error', new MethodError('serverFail', 'the server failed to run this method; try again later').response(), callId]);
        }
      }
    }
    const out: JmapResponse = { methodResponses: responses, sessionState: this.options.sessionState(account) };
    if (request.createdIds) out.createdIds = Object.fromEntries(ctx.createdIds);
    return out;
  }
}

interface ParsedRequest {
  using: string[];
  methodCalls: Invocation[];
  createdIds?: Record<string, string>;
}

function parseRequest(body: Buffer | string): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    throw new JmapRequestError('notJSON', 'the request body is not JSON (send application/json in UTF-8)');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new JmapRequestError('notRequest', 'the request must be a JSON object with "using" and "methodCalls"');
  }
  const r = value as Record<string, unknown>;
  if (!Array.isArray(r.using) || r.using.some((c) => typeof c !== 'string')) {
    throw new JmapRequestError('notRequest', '"using" must be a list of capability URIs');
  }
  if (!Array.isArray(r.methodCalls)) throw new JmapRequestError('notRequest', '"methodCalls" must be a list of [name, arguments, call id]');
  r.methodCalls.forEach((call, i) => {
    if (!Array.isArray(call) || call.length !== 3 || typeof call[0] !== 'string' || typeof call[2] !== 'string'
      || call[1] === null || typeof call[1] !== 'object' || Array.isArray(call[1])) {
      throw new JmapRequestError('notRequest', `methodCalls[${i}] must be [name (string), arguments (object), call id (string)]`);
    }
  });
  let createdIds: Record<string, string> | undefined;
  if (r.createdIds !== undefined) {
    if (r.createdIds === null || typeof r.createdIds !== 'object' || Array.isArray(r.createdIds)
      || Object.values(r.createdIds).some((v) => typeof v !== 'string')) {
      throw new JmapRequestError('notRequest', '"createdIds" must map creation ids to ids');
    }
    createdIds = r.createdIds as Record<string, string>;
  }
  return { using: r.using as string[], methodCalls: r.methodCalls as Invocation[], createdIds };
}

/** Arguments named `#x` hold a ResultReference (RFC 8620 §3.7) to an earlier response of this request. */
function resolveReferences(args: Args, responses: Invocation[]): Args {
  const out: Args = {};
  for (const [key, value] of Object.entries(args)) {
    if (!key.startsWith('#')) {
      out[key] = value;
      continue;
    }
    const name = key.slice(1);
    if (Object.prototype.hasOwnProperty.call(args, name)) {
      throw new MethodError('invalidArguments', `both ${name} and #${name} are given`, { arguments: [name] });
    }
    const ref = value as Record<string, unknown> | null;
    if (ref === null || typeof ref !== 'object' || typeof ref.resultOf !== 'string' || typeof ref.name !== 'string' || typeof ref.path !== 'string') {
      throw new MethodError('invalidResultReference', `#${name} must be {resultOf, name, path}`);
    }
    const source = responses.find(([n, , id]) => id === ref.resultOf && n === ref.name);
    if (!source) throw new MethodError('invalidResultReference', `no ${ref.name} response with call id ${ref.resultOf} before this call`);
    try {
      out[name] = evaluatePointer(source[1], ref.path);
    } catch (err) {
      if (err instanceof PointerError) throw new MethodError('invalidResultReference', err.message);
      throw err;
    }
  }
  return out;
}
