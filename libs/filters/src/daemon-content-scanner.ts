/**
 * The ContentScanner port (libs/smtp/src/inbound/content) on clamd and spamd (or rspamd): both read the spooled copy from
 * the blob store at once, each within the settings' timeout. Whatever goes wrong becomes that scanner's `failed`
 * finding; the content checks decide what it means (451 by default).
 */
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type {
  ContentScanner, ContentScanReport, ContentScanRequest, SpamFinding, VirusFinding,
} from '@dizi/smtp/inbound/content/content-scanner';
import { clamdScan } from './clamd-client';
import { rspamdCheck } from './rspamd-client';
import { spamdSymbols } from './spamd-client';

export interface DaemonContentScannerOptions {
  /** Opens a spooled message by content hash (the blob store's `get`). */
  openMessage(hash: string): Promise<Readable>;
}

export class DaemonContentScanner implements ContentScanner {
  constructor(private readonly o: DaemonContentScannerOptions) {}

  async scan(request: ContentScanRequest): Promise<ContentScanReport> {
    const started = performance.now();
    const [virus, spam] = await Promise.all([
      request.virus ? this.virus(request, request.virus) : null,
      request.spam ? this.spam(request, request.spam) : null,
    ]);
    return { virus, spam, elapsedMs: performance.now() - started };
  }

  private async virus(r: ContentScanRequest, v: NonNullable<ContentScanRequest['virus']>): Promise<VirusFinding> {
    if (r.message.size > v.maxBytes) return { status: 'skipped', reason: `larger than ${v.maxBytes} bytes` };
    try {
      const verdict = await clamdScan(v.address, await this.o.openMessage(r.message.hash), { timeoutMs: r.timeoutMs });
      return verdict.infected ? { status: 'infected', signature: verdict.signature } : { status: 'clean' };
    } catch (err) {
      return { status: 'failed', error: errorText(err) };
    }
  }

  private async spam(r: ContentScanRequest, s: NonNullable<ContentScanRequest['spam']>): Promise<SpamFinding> {
    if (r.message.size > s.maxBytes) return { status: 'skipped', reason: `larger than ${s.maxBytes} bytes` };
    try {
      const source = await this.o.openMessage(r.message.hash);
      const verdict = s.engine === 'rspamd'
        ? await rspamdCheck(s.address, source, r.message.size, { timeoutMs: r.timeoutMs, envelope: r.envelope })
        : await spamdSymbols(s.address, source, r.message.size, { timeoutMs: r.timeoutMs });
      return { status: 'scanned', score: verdict.score, symbols: verdict.symbols };
    } catch (err) {
      return { status: 'failed', error: errorText(err) };
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
