'use client';
/** The folder tree with unread counts; messages dragged from the list are moved onto the folder they are dropped on. */
import { useState } from 'react';
import { App, Button, Dropdown, Input, Modal, Select } from 'antd';
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

export interface FolderChanges {
  create(name: string, parentId: string | null): Promise<void>;
  rename(id: string, name: string): Promise<void>;
  remove(id: string): Promise<void>;
}

interface Props {
  mailboxes: Mailbox[];
  current: string | null;
  onPick(id: string): void;
  onDropEmails(ids: string[], folderId: string): void;
  changes: FolderChanges;
}

export function FolderTree({ mailboxes, current, onPick, onDropEmails, changes }: Props) {
  const t = useTranslations('mail');
  const name = useFolderName();
  const { modal } = App.useApp();
  const [over, setOver] = useState<string | null>(null);
  /** The folder form: a new folder (id null) or a rename. */
  const [editing, setEditing] = useState<{ id: string | null; name: string; parentId: string | null } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const save = async () => {
    if (!editing || !editing.name.trim()) return;
    try {
      if (editing.id) await changes.rename(editing.id, editing.name.trim());
      else await changes.create(editing.name.trim(), editing.parentId);
      setEditing(null);
      setProblem(null);
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    }
  };
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
            {!m.role && (
              <Dropdown
                trigger={['click']}
                menu={{
                  items: [
                    { key: 'rename', label: t('folders.rename') },
                    { key: 'delete', label: t('folders.delete'), danger: true },
                  ],
                  onClick: ({ key }) => {
                    if (key === 'rename') setEditing({ id: m.id, name: m.name, parentId: m.parentId });
                    else
                      modal.confirm({
                        title: t('folders.confirmDelete', { folder: m.name }),
                        okText: t('folders.delete'),
                        okButtonProps: { danger: true },
                        cancelText: t('cancel'),
                        onOk: () =>
                          changes.remove(m.id).catch((e: Error) => {
                            modal.error({ title: t('folders.deleteFailed'), content: e.message });
                          }),
                      });
                  },
                }}
              >
                <Button type="text" size="small" className="wm-folder-menu" aria-label={t('folders.menu', { folder: m.name })}>
                  ⋯
                </Button>
              </Dropdown>
            )}
          </li>
        ))}
      </ul>
      <Button size="small" className="wm-new-folder" onClick={() => setEditing({ id: null, name: '', parentId: null })}>
        {t('folders.new')}
      </Button>
      <Modal open={!!editing} title={editing?.id ? t('folders.rename') : t('folders.new')} okText={t('folders.save')} cancelText={t('cancel')} onOk={save} onCancel={() => setEditing(null)} destroyOnHidden>
        {problem && (
          <p role="alert" className="wm-list-error">
            {problem}
          </p>
        )}
        <label htmlFor="wm-folder-name">{t('folders.name')}</label>
        <Input id="wm-folder-name" value={editing?.name ?? ''} onChange={(e) => setEditing((x) => (x ? { ...x, name: e.target.value } : x))} onPressEnter={save} autoFocus />
        {!editing?.id && (
          <>
            <label htmlFor="wm-folder-parent" style={{ display: 'block', marginTop: 12 }}>
              {t('folders.parent')}
            </label>
            <Select
              id="wm-folder-parent"
              style={{ width: '100%' }}
              value={editing?.parentId ?? ''}
              onChange={(v: string) => setEditing((x) => (x ? { ...x, parentId: v || null } : x))}
              options={[{ value: '', label: t('folders.top') }, ...sortedTree(mailboxes).map(({ mailbox, depth }) => ({ value: mailbox.id, label: `${'  '.repeat(depth)}${name(mailbox)}` }))]}
            />
          </>
        )}
      </Modal>
    </nav>
  );
}
