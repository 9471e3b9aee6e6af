/**
 * ENVELOPE and BODYSTRUCTURE rendered once, when a message is stored, so FETCH sends stored text instead of parsing
 * and printing the summary of every message again. A change to libs/mime imap-format.ts that alters its output needs
 * a migration that sets message.imap_envelope and imap_bodystructure to NULL: FETCH then renders from the summary.
 */
import { formatBodyStructure, formatEnvelope } from '@dizi/mime/imap-format';
import type { BodyStructure, Envelope } from '@dizi/mime/message-summary';
import type { ImapFormat } from './ports/message-store';

/** Null when the summary has no envelope or structure, or when its text holds NUL (stored summaries have NULs removed). */
export function renderImapFormat(summary: unknown): ImapFormat | null {
  const s = summary as { envelope?: Envelope; bodyStructure?: BodyStructure } | null | undefined;
  if (!s || typeof s !== 'object' || !s.envelope || !s.bodyStructure) return null;
  try {
    const envelope = formatEnvelope(s.envelope);
    const bodyStructure = formatBodyStructure(s.bodyStructure, true);
    // Rendered from the stored summary instead, so literal lengths agree with the NUL-free text.
    if (envelope.includes('\0') || bodyStructure.includes('\0')) return null;
    return { envelope, bodyStructure };
  } catch {
    return null;
  }
}
