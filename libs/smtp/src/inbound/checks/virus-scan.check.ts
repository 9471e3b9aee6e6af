/**
 * DATA (content): ClamAV's finding. An infected message is refused with 554 5.7.1 naming the signature (so the
 * sender's MTA bounces it and we never send backscatter), filed to the Virus folder, held in quarantine, or silently dropped — as the
 * operators chose. A scanner that is down or too slow defers with 451 4.7.1 (the sender retries) unless the
 * settings say to accept unscanned mail, which then says so in X-Virus-Status.
 */
import { headerSafe, virusHeaders } from '../content/filter-headers';
import type { Check, ContentInput } from '../pipeline';
import { ACCEPT, CONTINUE, defer, reject } from '../verdict';

export const virusScanCheck: Check<ContentInput> = {
  name: 'virus-scan',
  run({ report, settings, deps, marks }) {
    const finding = report.virus;
    if (!finding) return CONTINUE;
    const headers = (status: string) => marks.headers.push(...virusHeaders(deps.hostname, status));
    switch (finding.status) {
      case 'clean':
        headers('Clean');
        marks.notes.push('virus: clean');
        return CONTINUE;
      case 'skipped':
        headers(`Not scanned (${headerSafe(finding.reason)})`);
        marks.notes.push(`virus: not scanned, ${finding.reason}`);
        return CONTINUE;
      case 'failed':
        marks.notes.push(`virus: scanner failed, ${finding.error}`);
        if (settings.scannerFailureAction === 'defer') return defer(451, '4.7.1', 'Virus scanner temporarily unavailable, try again later');
        headers('Not scanned (scanner unavailable)');
        return CONTINUE;
      case 'infected': {
        const signature = headerSafe(finding.signature, 120);
        marks.notes.push(`virus: ${signature} found, ${settings.antivirusAction}`);
        if (settings.antivirusAction === 'reject') return reject(554, '5.7.1', `Message rejected: virus found (${signature})`);
        if (settings.antivirusAction === 'discard') {
          marks.discard = signature;
          return ACCEPT;
        }
        headers(`Infected (${signature})`);
        if (settings.antivirusAction === 'quarantine') {
          marks.quarantine = { reason: 'virus', detail: signature };
          return ACCEPT;
        }
        marks.folder = 'virus';
        // Filed as a virus: no spam verdict can change where it goes.
        return ACCEPT;
      }
    }
  },
};
