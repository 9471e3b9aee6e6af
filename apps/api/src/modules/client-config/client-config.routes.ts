/**
 * Client and server self-configuration over HTTP(S), answered for active hosted domains only (404 otherwise):
 * - Thunderbird autoconfig: `GET /.well-known/autoconfig/mail/config-v1.1.xml` (on the domain) and
 *   `GET /mail/config-v1.1.xml` (on `autoconfig.<domain>`), the domain from `?emailaddress=` or the Host header;
 * - Outlook autodiscover: `POST /autodiscover/autodiscover.xml` (any case; on `autodiscover.<domain>` or where the
 *   `_autodiscover._tcp` SRV record points), the address from the request body;
 * - MTA-STS: `GET /.well-known/mta-sts.txt` on `mta-sts.<domain>` (RFC 8461 §3.3).
 * Plain handlers ahead of Nest's routes, as for JMAP: the answers are XML and text, not the API's JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { autodiscoverAddress, domainUnderLabel, mtaStsPolicy, outlookAutodiscover, thunderbirdAutoconfig } from '@dizi/domain/client-config';
import type { ClientConfigService } from './client-config.service';

type Next = (err?: unknown) => void;

const AUTOCONFIG_PATHS = new Set(['/.well-known/autoconfig/mail/config-v1.1.xml', '/mail/config-v1.1.xml']);
const AUTODISCOVER_PATH = '/autodiscover/autodiscover.xml';
const MTA_STS_PATH = '/.well-known/mta-sts.txt';
/** An autodiscover request is a few hundred bytes. */
const MAX_AUTODISCOVER_BODY = 16 * 1024;

export function clientConfigRoutes(service: ClientConfigService, logger: Logger) {
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const handler = AUTOCONFIG_PATHS.has(path)
      ? autoconfig
      : path.toLowerCase() === AUTODISCOVER_PATH
        ? autodiscover
        : path === MTA_STS_PATH
          ? mtaSts
          : null;
    if (!handler) return next();
    handler(service, req, res, url).catch((err: unknown) => {
      logger.error({ err, path }, 'client configuration request failed');
      if (!res.headersSent) text(res, 500, 'text/plain', 'the server failed; try again later\n');
      else res.end();
    });
  };
}

async function autoconfig(service: ClientConfigService, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res, 'GET');
  const address = url.searchParams.get('emailaddress');
  const name = address?.includes('@') ? address.slice(address.lastIndexOf('@') + 1) : domainUnderLabel(req.headers.host, 'autoconfig') ?? hostName(req);
  const facts = name ? await service.domain(name) : null;
  if (!facts) return text(res, 404, 'text/plain', 'no mail domain of that name is hosted here\n');
  text(res, 200, 'application/xml; charset=utf-8', thunderbirdAutoconfig(facts), req.method === 'HEAD');
}

async function autodiscover(service: ClientConfigService, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') return notAllowed(res, 'POST');
  const body = await readBody(req, MAX_AUTODISCOVER_BODY);
  if (body === null) return text(res, 413, 'text/plain', `the request is larger than ${MAX_AUTODISCOVER_BODY} bytes\n`);
  const address = autodiscoverAddress(body);
  if (!address) return text(res, 400, 'text/plain', 'the request names no <EMailAddress>\n');
  const facts = await service.domain(address.slice(address.lastIndexOf('@') + 1));
  if (!facts) return text(res, 404, 'text/plain', 'no mail domain of that name is hosted here\n');
  text(res, 200, 'application/xml; charset=utf-8', outlookAutodiscover(facts, address));
}

async function mtaSts(service: ClientConfigService, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res, 'GET');
  const name = domainUnderLabel(req.headers.host, 'mta-sts');
  const facts = name ? await service.domain(name) : null;
  if (!facts) return text(res, 404, 'text/plain', 'no mail domain of that name is hosted here\n');
  const { mode, maxAgeSeconds } = await service.mtaSts();
  // RFC 8461 §3.3: text/plain; a policy fetched over a redirect is not valid, so none is sent.
  text(res, 200, 'text/plain; charset=utf-8', mtaStsPolicy(mode, [facts.mailHost], maxAgeSeconds), req.method === 'HEAD');
}

const hostName = (req: IncomingMessage) => (req.headers.host ?? '').replace(/:\d+$/, '') || null;

function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        resolve(null);
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function notAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  text(res, 405, 'text/plain', `use ${allow}\n`);
}

function text(res: ServerResponse, status: number, type: string, body: string, headOnly = false): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': status === 200 ? 'public, max-age=3600' : 'no-store' });
  res.end(headOnly ? undefined : body);
}
