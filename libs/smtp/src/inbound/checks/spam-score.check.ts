/**
 * DATA (content): the message's spam score — SpamAssassin's, plus what the reputation checks of the session found
 * (DNS lists, HELO, reverse DNS, the sender domain's lists) — against the operators' thresholds, the recipient domain's
 * own when every recipient is in one domain that has them (antispamDomainOverrides). At or above the reject score the
 * message is refused with 550 5.7.1 before it is ever accepted; at or above the Junk score it is flagged and delivered
 * to the Junk folder (from the quarantine score, the seed's "delete", it is held in quarantine instead); at or above the tag score it is flagged (X-Spam-Flag: YES) and delivered as usual; X-Spam-*
 * headers go on every copy from the header score up. A scanner that is down or too slow defers with 451 4.7.1 unless
 * the settings say to accept it unscored (then said in a header, and the reputation score alone decides). Senders every
 * recipient wrote to before (automatic whitelist) are never tagged or put in Junk; the reject score still applies.
 */
import type { SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { formatScore, spamHeaders, spamNotScannedHeader } from '../content/filter-headers';
import type { Check, ContentInput } from '../pipeline';
import type { InboundSession } from '../session';
import { CONTINUE, defer, reject } from '../verdict';

export interface SpamThresholds {
  tag: number;
  junk: number;
  quarantine: number;
  reject: number;
}

/** The thresholds for a message to these recipient domains. */
export function spamThresholds(settings: SmtpSettings, domains: readonly string[]): SpamThresholds {
  const base = {
    tag: settings.antispamTagScore, junk: settings.antispamJunkScore, quarantine: settings.antispamQuarantineScore, reject: settings.antispamRejectScore,
  };
  const unique = [...new Set(domains)];
  const own = unique.length === 1 ? settings.antispamDomainOverrides[unique[0]] : undefined;
  if (!own) return base;
  return {
    tag: own.tagScore ?? base.tag, junk: own.junkScore ?? base.junk, quarantine: own.quarantineScore ?? base.quarantine, reject: own.rejectScore ?? base.reject,
  };
}

/** The reputation checks' score and findings for this session's current sender. */
export function reputationOf(session: InboundSession): { score: number; findings: string[]; problems: string[] } {
  const rep = session.reputation;
  const sender = session.transaction?.mailFrom ?? '';
  const domain = rep.domainScores.get(sender.slice(sender.lastIndexOf('@') + 1));
  const all = [...rep.findings, ...(domain?.findings ?? [])];
  return { score: rep.score + (domain?.score ?? 0), findings: all.filter((f) => !f.includes('unavailable')), problems: all.filter((f) => f.includes('unavailable')) };
}

/** Every local recipient wrote to the sender before (automatic whitelist); a store that fails trusts nobody. */
async function trustedByAll(session: InboundSession, settings: SmtpSettings, deps: ContentInput['deps']): Promise<boolean> {
  const sender = session.transaction?.mailFrom ?? '';
  const locals = (session.transaction?.recipients ?? []).filter((r) => r.kind === 'local').map((r) => r.address);
  if (!settings.autoWhitelistEnabled || !deps.trust || !sender || session.listener !== 'mx' || locals.length === 0) return false;
  try {
    return (await deps.trust.trustedBy(sender, locals)).length === new Set(locals).size;
  } catch {
    return false;
  }
}

export const spamScoreCheck: Check<ContentInput> = {
  name: 'spam-score',
  async run({ report, settings, marks, session, deps }) {
    const finding = report.spam;
    const own = reputationOf(session);
    marks.notes.push(...own.problems);
    let score: number | null = own.findings.length ? own.score : null;
    let symbols: string[] = [];
    switch (finding?.status) {
      case undefined:
        break;
      case 'skipped':
        marks.headers.push(spamNotScannedHeader(finding.reason));
        marks.notes.push(`spam: not scanned, ${finding.reason}`);
        break;
      case 'failed':
        marks.notes.push(`spam: scanner failed, ${finding.error}`);
        if (settings.scannerFailureAction === 'defer') return defer(451, '4.7.1', 'Spam scanner temporarily unavailable, try again later');
        marks.headers.push(spamNotScannedHeader('scanner unavailable'));
        break;
      case 'scanned':
        score = finding.score + own.score;
        symbols = finding.symbols;
        break;
    }
    if (score === null) return CONTINUE;
    marks.spamScore = score;
    const ownSymbols = own.findings.map((f) => `DIZI_${f.replace(/\(.*\)$/, '').replace(/[^A-Za-z0-9_.:-]/g, '_')}`);
    const all = [...symbols, ...ownSymbols];
    const tests = all.length ? ` (${[...symbols.slice(0, 20), ...own.findings].join(',')})` : '';
    const recipients = session.transaction?.recipients ?? [];
    const limits = spamThresholds(settings, recipients.filter((r) => r.kind === 'local').map((r) => r.domain));
    if (score >= limits.reject) {
      marks.notes.push(`spam: score ${formatScore(score)}${tests}, rejected`);
      return reject(550, '5.7.1', 'Message rejected as spam');
    }
    const trusted = score >= limits.tag && (await trustedByAll(session, settings, deps));
    const held = !trusted && score >= limits.quarantine;
    const junk = !trusted && !held && score >= limits.junk;
    const flagged = held || junk || (!trusted && score >= limits.tag);
    const outcome = held ? ', quarantined' : junk ? ', Junk' : flagged ? ', tagged' : trusted ? ', trusted sender (automatic whitelist)' : '';
    marks.notes.push(`spam: score ${formatScore(score)}${tests}${outcome}`);
    if (held) marks.quarantine ??= { reason: 'spam', detail: `score ${formatScore(score)}` };
    if (junk) marks.folder ??= 'junk';
    if (flagged || score >= settings.antispamHeaderScore) {
      // A message not scanned already carries X-Spam-Status: Unknown; the reputation score then goes in X-Spam-Score only.
      const lines = spamHeaders({ score, required: limits.tag, flagged, symbols: all });
      marks.headers.push(...(finding?.status === 'scanned' || !finding ? lines : lines.filter((l) => !l.startsWith('X-Spam-Status:'))));
    }
    return CONTINUE;
  },
};
