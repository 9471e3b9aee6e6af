/**
 * The content filter of one message (ARCHITECTURE.md "Inbound mail" 5): once the spooled copy is durable and
 * before anything is committed, ask the scanners about it and run the content checks on their report. The
 * outcome is delivered (with header lines and a folder for local delivery), refused with the checks' reply, or
 * — infected mail under the `discard` action — accepted and dropped.
 */
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { CONTENT_CHECKS, ContentMarks, HeaderFacts, PolicyDeps, runStage } from '../pipeline';
import type { MessageAuthReport } from './message-auth';
import type { SpoolMarks } from '../ports';
import type { InboundSession } from '../session';
import { isRefusal, Refusal } from '../verdict';
import type { ContentScanner, ContentScanReport, ContentScanRequest, SpooledContent } from './content-scanner';

/** Thrown from SpoolRequest.screen: commit nothing, and answer 250 all the same. */
export class DiscardedMessage extends Error {
  constructor(readonly signature: string) {
    super(`infected message discarded (${signature})`);
    this.name = 'DiscardedMessage';
  }
}

export type ScreenOutcome =
  | { kind: 'deliver'; marks: SpoolMarks; log: string }
  | { kind: 'refuse'; refusal: Refusal; log: string }
  | { kind: 'discard'; signature: string; log: string };

/**
 * Which scanners look at a message: every enabled one for mail from the MX port; for a signed-in user's mail
 * (submission ports) those the settings extend to it (viruses yes, spam no, by default). null: none.
 */
export function scanPlan(settings: SmtpSettings, submission: boolean, message: SpooledContent): ContentScanRequest | null {
  const virus = settings.antivirusEnabled && (!submission || settings.antivirusOnSubmission);
  const spam = settings.antispamEnabled && (!submission || settings.antispamOnSubmission);
  if (!virus && !spam) return null;
  return {
    message,
    virus: virus ? { address: settings.antivirusAddress, maxBytes: settings.antivirusMaxBytes } : null,
    spam: spam
      ? settings.antispamScanner === 'rspamd'
        ? { address: settings.rspamdAddress, maxBytes: settings.antispamMaxBytes, engine: 'rspamd' }
        : { address: settings.antispamAddress, maxBytes: settings.antispamMaxBytes, engine: 'spamassassin' }
      : null,
    timeoutMs: settings.scannerTimeoutSeconds * 1000,
  };
}

export interface ScreenInput {
  /** Absent: no scanning here (the other content checks still run). */
  scanner?: ContentScanner;
  session: InboundSession;
  settings: SmtpSettings;
  deps: PolicyDeps;
  message: SpooledContent;
  /** Absent: nothing was learnt of the header (no From: check). */
  header?: HeaderFacts;
  /** The SPF/DKIM/DMARC/ARC report of MX mail, when checked. */
  auth?: Promise<MessageAuthReport> | null;
  random?: () => number;
}

const NO_SCAN: ContentScanReport = { virus: null, spam: null, elapsedMs: 0 };

/** null when no content check had anything to say (no scanner, no authentication report, From: fine). */
export async function screenMessage(i: ScreenInput): Promise<ScreenOutcome | null> {
  const plan = i.scanner ? scanPlan(i.settings, i.session.listener !== 'mx', i.message) : null;
  const tx = i.session.transaction;
  const request = plan && tx
    ? { ...plan, envelope: { ip: i.session.clientIp, helo: i.session.helo, from: tx.mailFrom, rcpt: tx.recipients.map((r) => r.address) } }
    : plan;
  const [report, auth] = await Promise.all([request ? i.scanner!.scan(request) : NO_SCAN, i.auth ?? null]);
  const marks: ContentMarks = { headers: [], folder: null, spamScore: null, discard: null, quarantine: null, notes: [] };
  const verdict = await runStage(CONTENT_CHECKS, {
    session: i.session, settings: i.settings, deps: i.deps, report, marks, auth,
    header: i.header ?? { from: [], fromTruncated: false }, random: i.random ?? Math.random,
  });
  if (!request && !isRefusal(verdict) && marks.headers.length === 0 && marks.folder === null && marks.notes.length === 0) return null;
  const log = `${marks.notes.join('; ')}${request ? ` (scanned in ${Math.round(report.elapsedMs)} ms)` : ''}`;
  if (isRefusal(verdict)) return { kind: 'refuse', refusal: verdict, log };
  if (marks.discard !== null) return { kind: 'discard', signature: marks.discard, log };
  return { kind: 'deliver', marks: { headers: marks.headers.join(''), folder: marks.folder, spamScore: marks.spamScore, quarantine: marks.quarantine }, log };
}
