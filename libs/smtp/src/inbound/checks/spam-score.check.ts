/**
 * DATA (content): SpamAssassin's score against the operators' thresholds — at or above the reject score the
 * message is refused with 550 5.7.1 before it is ever accepted, at or above the Junk score it is flagged and
 * delivered to the Junk folder, and X-Spam-* headers go on every copy from the header score up. A scanner that
 * is down or too slow defers with 451 4.7.1 unless the settings say to accept it unscored (then said in a header).
 */
import { formatScore, spamHeaders, spamNotScannedHeader } from '../content/filter-headers';
import type { Check, ContentInput } from '../pipeline';
import { CONTINUE, defer, reject } from '../verdict';

export const spamScoreCheck: Check<ContentInput> = {
  name: 'spam-score',
  run({ report, settings, marks }) {
    const finding = report.spam;
    if (!finding) return CONTINUE;
    switch (finding.status) {
      case 'skipped':
        marks.headers.push(spamNotScannedHeader(finding.reason));
        marks.notes.push(`spam: not scanned, ${finding.reason}`);
        return CONTINUE;
      case 'failed':
        marks.notes.push(`spam: scanner failed, ${finding.error}`);
        if (settings.scannerFailureAction === 'defer') return defer(451, '4.7.1', 'Spam scanner temporarily unavailable, try again later');
        marks.headers.push(spamNotScannedHeader('scanner unavailable'));
        return CONTINUE;
      case 'scanned': {
        const { score, symbols } = finding;
        marks.spamScore = score;
        const tests = symbols.length ? ` (${symbols.slice(0, 20).join(',')})` : '';
        if (score >= settings.antispamRejectScore) {
          marks.notes.push(`spam: score ${formatScore(score)}${tests}, rejected`);
          return reject(550, '5.7.1', 'Message rejected as spam');
        }
        const flagged = score >= settings.antispamJunkScore;
        marks.notes.push(`spam: score ${formatScore(score)}${tests}${flagged ? ', Junk' : ''}`);
        if (flagged) marks.folder ??= 'junk';
        if (flagged || score >= settings.antispamHeaderScore) {
          marks.headers.push(...spamHeaders({ score, required: settings.antispamJunkScore, flagged, symbols }));
        }
        return CONTINUE;
      }
    }
  },
};
