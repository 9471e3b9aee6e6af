'use client';
/** Folder management: create, rename, nest (move under another folder), delete, subscribe — all JMAP Mailbox/set. */
import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Checkbox, Input, Popconfirm, Select } from 'antd';
import { useTranslations } from 'next-intl';
import { jmap, jmapSession, type Mailbox } from '../../../lib/mail/jmap-browser';
import { sortedTree, useFolderName } from '../folder-tree';

type Folder = Mailbox & { isSubscribed: boolean };

export function FolderSettings() {
  const t = useTranslations('mailRead.folders');
  const folderName = useFolderName();
  const [accountId, setAccountId] = useState<string | null>(null);
  const [folders, setFolders] = useState<Folder[]>([]);
  const [create, setCreate] = useState({ name: '', parentId: '' });
  const [editing, setEditing] = useState<{ id: string; name: string; parentId: string } | null>(null);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);

  const load = useCallback(async (account: string) => {
    const r = await jmap([['Mailbox/get', { accountId: account, ids: null, properties: ['id', 'name', 'parentId', 'role', 'sortOrder', 'totalEmails', 'unreadEmails', 'isSubscribed'] }, 'm']]);
    setFolders(r.m.list as Folder[]);
  }, []);

  useEffect(() => {
    (async () => {
      const s = await jmapSession();
      setAccountId(s.accountId);
      await load(s.accountId);
    })().catch(() => setStatus({ ok: false, text: t('loadFailed') }));
  }, [load, t]);

  /** One Mailbox/set; a refusal is shown in the server's words (the name is taken, the folder is not empty). */
  const change = async (args: Record<string, unknown>, done: string) => {
    if (!accountId) return;
    try {
      const r = await jmap([['Mailbox/set', { accountId, ...args }, 's']]);
      const refused = [r.s.notCreated, r.s.notUpdated, r.s.notDestroyed].flatMap((x) => Object.values((x as Record<string, { type: string; description?: string }> | null) ?? {}));
      if (refused.length) throw new Error(refused[0].type === 'mailboxHasEmail' ? t('notEmpty') : refused[0].description ?? refused[0].type);
      setStatus({ ok: true, text: done });
      await load(accountId);
      return true;
    } catch (e) {
      setStatus({ ok: false, text: t('refused', { message: (e as Error).message }) });
      return false;
    }
  };

  const tree = sortedTree(folders) as { mailbox: Folder; depth: number }[];
  const parentOptions = (except?: string) => [
    { value: '', label: t('top') },
    ...tree.filter(({ mailbox }) => mailbox.id !== except).map(({ mailbox, depth }) => ({ value: mailbox.id, label: `${'  '.repeat(depth)}${folderName(mailbox)}` })),
  ];

  return (
    <section aria-labelledby="ws-folders">
      <h1 id="ws-folders">{t('title')}</h1>
      <form
        className="ws-row"
        style={{ marginBottom: 16 }}
        onSubmit={(e) => {
          e.preventDefault();
          if (!create.name.trim()) return;
          void change({ create: { n: { name: create.name.trim(), parentId: create.parentId || null } } }, t('created')).then((ok) => ok && setCreate({ name: '', parentId: '' }));
        }}
      >
        <div className="ws-field">
          <label htmlFor="ws-new-folder">{t('newName')}</label>
          <Input id="ws-new-folder" value={create.name} onChange={(e) => setCreate({ ...create, name: e.target.value })} />
        </div>
        <div className="ws-field">
          <label htmlFor="ws-new-parent">{t('inside')}</label>
          <Select id="ws-new-parent" style={{ minWidth: 180 }} value={create.parentId} onChange={(v: string) => setCreate({ ...create, parentId: v })} options={parentOptions()} />
        </div>
        <div className="ws-field">
          <Button htmlType="submit" type="primary">
            {t('create')}
          </Button>
        </div>
      </form>
      <ul className="ws-list" aria-label={t('title')}>
        {tree.map(({ mailbox: f, depth }) => (
          <li key={f.id} data-testid={`folder-${f.name}`} style={{ paddingLeft: depth * 20 }}>
            {editing?.id === f.id ? (
              <form
                className="ws-row ws-grow"
                onSubmit={(e) => {
                  e.preventDefault();
                  void change({ update: { [f.id]: { name: editing.name.trim(), parentId: editing.parentId || null } } }, t('saved')).then((ok) => ok && setEditing(null));
                }}
              >
                <Input aria-label={t('newName')} value={editing.name} onChange={(e) => setEditing({ ...editing, name: e.target.value })} style={{ maxWidth: 200 }} />
                <Select aria-label={t('inside')} style={{ minWidth: 160 }} value={editing.parentId} onChange={(v: string) => setEditing({ ...editing, parentId: v })} options={parentOptions(f.id)} />
                <Button htmlType="submit" size="small" type="primary">
                  {t('save')}
                </Button>
                <Button size="small" onClick={() => setEditing(null)}>
                  {t('cancel')}
                </Button>
              </form>
            ) : (
              <>
                <span className="ws-grow">
                  {folderName(f)} <span className="ws-hint">({f.totalEmails})</span>
                </span>
                <Checkbox checked={f.isSubscribed} onChange={(e) => void change({ update: { [f.id]: { isSubscribed: e.target.checked } } }, t('saved'))}>
                  {t('subscribed')}
                </Checkbox>
                {!f.role && (
                  <>
                    <Button size="small" onClick={() => setEditing({ id: f.id, name: f.name, parentId: f.parentId ?? '' })} aria-label={t('editOf', { folder: f.name })}>
                      {t('edit')}
                    </Button>
                    <Popconfirm title={t('confirmDelete', { folder: f.name })} okText={t('delete')} cancelText={t('cancel')} onConfirm={() => void change({ destroy: [f.id] }, t('deleted'))}>
                      <Button size="small" danger aria-label={t('deleteOf', { folder: f.name })}>
                        {t('delete')}
                      </Button>
                    </Popconfirm>
                  </>
                )}
              </>
            )}
          </li>
        ))}
      </ul>
      {status && <Alert role="status" type={status.ok ? 'success' : 'error'} showIcon title={status.text} />}
    </section>
  );
}
