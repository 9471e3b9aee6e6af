'use client';
/** The folder tree with unread counts; messages dragged from the list are moved onto the folder they are dropped on. */
import { useState } from 'react';
import { useTranslations } from 'next-intl';
import type { Mailbox } from '../../lib/mail/jmap-browser';

const ROLE_ORDER = ['inbox', 'drafts', 'sent', 'archive', 'junk', 'trash'];

/** A folder's name for people: the special folders in the user's language, the others as named. */
export function useFolderName() {
  const t = useTranslations('mail.folders');
  return (m: Mailbox) => (m.role && ROLE_ORDER.includes(m.role) ? t(m.role) : m.name);
}

export function sortedTree(mailboxes: Mailbox[]): { mailbox: Mailbox; depth: number }[] {
  const out: { mailbox: Mailbox; depth: number }[] = [];
  const rank = (m: Mailbox) => (m.role && ROLE_ORDER.includes(m.role) ? ROLE_ORDER.indexOf(m.role) : 100 + m.sortOrder);
  const walk = (parentId: string | null, depth: number) => {
    mailboxes
      .filter((m) => m.parentId === parentId)
      .sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name))
      .forEach((m) => {
        out.push({ mailbox: m, depth });
        walk(m.id, depth + 1);
      });
  };
  walk(null, 0);
  return out;
}

export function FolderTree({ mailboxes, current, onPick, onDropEmails }: { mailboxes: Mailbox[]; current: string | null; onPick(id: string): void; onDropEmails(ids: string[], folderId: string): void }) {
  const t = useTranslations('mail');
  const name = useFolderName();
  const [over, setOver] = useState<string | null>(null);
  return (
    <nav aria-label={t('folders.label')} className="wm-folders">
      <ul>
        {sortedTree(mailboxes).map(({ mailbox: m, depth }) => (
          <li key={m.id}>
            <button
              type="button"
              className={`wm-folder${m.id === current ? ' wm-folder-current' : ''}${over === m.id ? ' wm-folder-over' : ''}`}
              style={{ paddingLeft: 12 + depth * 14 }}
              aria-current={m.id === current ? 'page' : undefined}
              data-folder-role={m.role ?? undefined}
              onClick={() => onPick(m.id)}
              onDragOver={(e) => {
                if (e.dataTransfer.types.includes('application/x-dizi-emails')) {
                  e.preventDefault();
                  setOver(m.id);
                }
              }}
              onDragLeave={() => setOver(null)}
              onDrop={(e) => {
                e.preventDefault();
                setOver(null);
                const ids = JSON.parse(e.dataTransfer.getData('application/x-dizi-emails') || '[]') as string[];
                if (ids.length) onDropEmails(ids, m.id);
              }}
            >
              <span className="wm-folder-name">{name(m)}</span>
              {m.unreadEmails > 0 && (
                <span className="wm-count" aria-label={t('folders.unread', { count: m.unreadEmails })}>
                  {m.unreadEmails}
                </span>
              )}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
