'use client';
/**
 * The webmail: folders, the message list and the open message side by side (one column on a phone), compose, search,
 * actions on one or many messages, keyboard shortcuts, and new mail pushed over JMAP's EventSource.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { App, Button, Checkbox, Drawer, Dropdown, Input, Modal, Segmented, Select, Space } from 'antd';
import { useTranslations } from 'next-intl';
import { EmailDetail, EmailSummary, Identity, jmap, jmapSession, type Mailbox } from '../../lib/mail/jmap-browser';
import { dayStart, nextDayStart } from '../../lib/mail/days';
import { usePreferences } from '../../lib/mail/preferences';
import { isEmptySearch, searchConditions, searchSummary, type SearchCriteria } from '../../lib/mail/search-criteria';
import { LanguageSwitch } from '../shell/language-switch';
import { Compose, ComposeSeed } from './compose';
import { FolderChanges, FolderTree, useFolderName } from './folder-tree';
import { ListQuery, MessageList, MessageListHandle } from './message-list';
import { addressList, ReadingPane, ReplyMode } from './reading-pane';
import { SearchPanel } from './search-panel';

type Filter = 'all' | 'unread' | 'flagged';
type Sort = 'receivedAt' | 'from' | 'subject' | 'size';

const MAILBOX_PROPERTIES = ['id', 'name', 'parentId', 'role', 'sortOrder', 'totalEmails', 'unreadEmails'];

function quote(email: EmailDetail, text: string, intro: string): string {
  return `\n\n${intro}\n${text.split('\n').map((l) => `> ${l}`).join('\n')}`;
}

/** `initialOpen`: the message of a deep link to its full-page view (/mail/message/<id>). */
export function Webmail({ name, initialOpen }: { name: string; initialOpen?: string }) {
  const t = useTranslations('mail');
  const tr = useTranslations('mailRead');
  const preferences = usePreferences();
  const { message, modal } = App.useApp();
  const folderName = useFolderName();
  const [accountId, setAccountId] = useState<string | null>(null);
  const [mailboxes, setMailboxes] = useState<Mailbox[]>([]);
  const [identities, setIdentities] = useState<Identity[]>([]);
  const [folderId, setFolderId] = useState<string | null>(null);
  const [filter, setFilter] = useState<Filter>('all');
  const [sort, setSort] = useState<Sort>('receivedAt');
  const [ascending, setAscending] = useState(false);
  const [threads, setThreads] = useState(false);
  const [search, setSearch] = useState('');
  const [searchInput, setSearchInput] = useState('');
  /** The advanced search, when used (it then holds the box's words too). */
  const [advanced, setAdvanced] = useState<SearchCriteria | null>(null);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const [version, setVersion] = useState(0);
  const [openId, setOpenId] = useState<string | null>(initialOpen ?? null);
  // The full-page view keeps the list mounted (hidden), so going back finds it where it was.
  const [full, setFull] = useState(!!initialOpen);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [compose, setCompose] = useState<ComposeSeed | null>(null);
  const [folderDrawer, setFolderDrawer] = useState(false);
  const [help, setHelp] = useState(false);
  const [total, setTotal] = useState(0);
  const [loadError, setLoadError] = useState(false);
  const listRef = useRef<MessageListHandle>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  /** What the last move did, with its undo; stays until the next one or a while later. */
  const [notice, setNotice] = useState<{ text: string; undo?: () => void } | null>(null);
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice(null), 20_000);
    return () => clearTimeout(timer);
  }, [notice]);

  const loadMailboxes = useCallback(async (account: string) => {
    const r = await jmap([['Mailbox/get', { accountId: account, ids: null, properties: MAILBOX_PROPERTIES }, 'm']]);
    const list = r.m.list as Mailbox[];
    setMailboxes(list);
    return list;
  }, []);

  useEffect(() => {
    (async () => {
      const s = await jmapSession();
      setAccountId(s.accountId);
      const [list, ids] = await Promise.all([loadMailboxes(s.accountId), jmap([['Identity/get', { accountId: s.accountId, ids: null }, 'i']])]);
      setIdentities(ids.i.list as Identity[]);
      setFolderId((f) => f ?? list.find((m) => m.role === 'inbox')?.id ?? list[0]?.id ?? null);
    })().catch(() => setLoadError(true));
  }, [loadMailboxes]);

  const refresh = useCallback(() => {
    setVersion((v) => v + 1);
    if (accountId) void loadMailboxes(accountId).catch(() => undefined);
  }, [accountId, loadMailboxes]);

  // New mail and changes made elsewhere (IMAP, another tab) arrive over JMAP push.
  useEffect(() => {
    if (!accountId) return;
    const source = new EventSource('/bff/jmap/eventsource?types=*&closeafter=no&ping=60');
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The same states announced twice (a reconnection, a split burst) are one change.
    let last: string | null = null;
    source.addEventListener('state', (e) => {
      let states = (e as MessageEvent<string>).data;
      try {
        const changed = (JSON.parse(states) as { changed?: Record<string, Record<string, string>> }).changed?.[accountId] ?? {};
        states = JSON.stringify([changed.Email, changed.Mailbox, changed.Thread]);
      } catch {
        /* not JSON: compare the raw text */
      }
      if (states === last) return;
      last = states;
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    });
    return () => {
      clearTimeout(timer);
      source.close();
    };
  }, [accountId, refresh]);

  useEffect(() => {
    const onPop = () => {
      const m = /^\/mail\/message\/([^/]+)$/.exec(window.location.pathname);
      setFull(!!m);
      if (m) setOpenId(decodeURIComponent(m[1]));
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const openFull = useCallback((id: string) => {
    window.history.pushState({ fullPage: id }, '', `/mail/message/${encodeURIComponent(id)}`);
    setFull(true);
  }, []);
  const closeFull = useCallback(() => {
    // Back where the user came from when that was the list; a deep link goes to the list instead.
    if ((window.history.state as { fullPage?: string } | null)?.fullPage) window.history.back();
    else {
      window.history.replaceState(null, '', '/mail');
      setFull(false);
    }
  }, []);

  const inbox = mailboxes.find((m) => m.role === 'inbox');
  const folder = mailboxes.find((m) => m.id === folderId);
  useEffect(() => {
    const unread = inbox?.unreadEmails ?? 0;
    document.title = `${unread > 0 ? `(${unread}) ` : ''}${folder ? folderName(folder) : t('title')} · ${t('title')}`;
  }, [inbox?.unreadEmails, folder, folderName, t]);

  const query: ListQuery = useMemo(() => {
    const where = advanced?.folder === 'all' ? [] : [{ inMailbox: advanced && advanced.folder !== 'current' ? advanced.folder : folderId }];
    const conditions: Record<string, unknown>[] = [...where];
    if (filter === 'unread') conditions.push({ notKeyword: '$seen' });
    if (filter === 'flagged') conditions.push({ hasKeyword: '$flagged' });
    if (search && !advanced) conditions.push({ text: search });
    if (advanced) conditions.push(...searchConditions(advanced, dayStart, nextDayStart));
    const combined = conditions.length === 0 ? {} : conditions.length === 1 ? conditions[0] : { operator: 'AND', conditions };
    return { filter: combined, sort: [{ property: sort, isAscending: ascending }], collapseThreads: threads, highlight: !!search || !!advanced };
  }, [folderId, filter, search, advanced, sort, ascending, threads]);

  const failed = useCallback(() => message.error(t('errors.action')), [message, t]);

  const setKeyword = useCallback(
    async (ids: string[], keyword: string, on: boolean) => {
      if (!accountId || ids.length === 0) return;
      await jmap([['Email/set', { accountId, update: Object.fromEntries(ids.map((id) => [id, { [`keywords/${keyword}`]: on ? true : null }])) }, 'k']]).catch(failed);
      refresh();
    },
    [accountId, refresh, failed],
  );

  const move = useCallback(
    async (ids: string[], target: string, undoable = true) => {
      if (!accountId || ids.length === 0) return;
      const from = folderId!;
      try {
        const r = await jmap([['Email/set', { accountId, update: Object.fromEntries(ids.map((id) => [id, { mailboxIds: { [target]: true } }])) }, 'm']]);
        // notUpdated is null or {} when every update went through.
        if (Object.keys(r.m.notUpdated ?? {}).length > 0) throw new Error('notUpdated');
      } catch {
        failed();
        return;
      }
      setSelected(new Set());
      if (openId && ids.includes(openId)) setOpenId(null);
      refresh();
      const to = mailboxes.find((m) => m.id === target);
      setNotice({ text: t('moved', { count: ids.length, folder: to ? folderName(to) : '' }), undo: undoable ? () => void move(ids, from, false) : undefined });
    },
    [accountId, folderId, openId, mailboxes, refresh, failed, t, folderName],
  );

  const remove = useCallback(
    async (ids: string[]) => {
      if (!accountId || ids.length === 0) return;
      const trash = mailboxes.find((m) => m.role === 'trash');
      if (trash && folder?.role !== 'trash') return move(ids, trash.id);
      modal.confirm({
        title: t('confirmDestroy', { count: ids.length }),
        okText: t('actions.deleteForever'),
        okButtonProps: { danger: true },
        cancelText: t('cancel'),
        onOk: async () => {
          await jmap([['Email/set', { accountId, destroy: ids }, 'd']]).catch(failed);
          setSelected(new Set());
          setOpenId(null);
          refresh();
        },
      });
    },
    [accountId, mailboxes, folder, move, modal, t, failed, refresh],
  );

  const emptyFolder = useCallback(() => {
    if (!accountId || !folderId) return;
    modal.confirm({
      title: t('confirmEmpty', { folder: folder ? folderName(folder) : '' }),
      okText: t('actions.empty'),
      okButtonProps: { danger: true },
      cancelText: t('cancel'),
      onOk: async () => {
        // In pages of at most 500 ids: the server caps objects per call.
        for (;;) {
          const r = await jmap([['Email/query', { accountId, filter: { inMailbox: folderId }, limit: 500 }, 'q']]);
          const ids = r.q.ids as string[];
          if (ids.length === 0) break;
          await jmap([['Email/set', { accountId, destroy: ids }, 'd']]);
        }
        setOpenId(null);
        refresh();
      },
    });
  }, [accountId, folderId, folder, folderName, modal, t, refresh]);

  const reply = useCallback(
    (mode: ReplyMode, email: EmailDetail) => {
      const me = new Set(identities.map((i) => i.email.toLowerCase()));
      const subject = email.subject ?? '';
      const when = new Date(email.sentAt ?? email.receivedAt).toLocaleString();
      const from = addressList(email.from);
      const refs = [...(email.references ?? []), ...(email.messageId ?? [])];
      void (async () => {
        // The original's text for the quote, from the same server-side body the reader shows.
        const res = await fetch(`/bff/mail/body/${encodeURIComponent(email.id)}?account=${encodeURIComponent(accountId!)}&text=1`, { credentials: 'same-origin' }).catch(() => null);
        const body = res?.ok ? ((await res.json()) as { text?: string; plain?: string }) : {};
        const text = body.plain ?? body.text ?? email.preview;
        if (mode === 'forward') {
          setCompose({
            to: '',
            cc: '',
            subject: /^(fwd?|转发):/i.test(subject) ? subject : `Fwd: ${subject}`,
            text: `\n\n---------- ${t('compose.forwarded')} ----------\n${t('reader.from')}: ${from}\n${t('reader.date')}: ${when}\n${t('compose.subject')}: ${subject}\n\n${text}`,
            attachments: email.attachments.map((a) => ({ blobId: a.blobId, name: a.name || 'attachment', type: a.type, size: a.size })),
          });
          return;
        }
        const replyTo = email.replyTo?.length ? email.replyTo : email.from ?? [];
        const others = mode === 'replyAll' ? [...(email.to ?? []), ...(email.cc ?? [])].filter((a) => !me.has(a.email.toLowerCase()) && !replyTo.some((r) => r.email === a.email)) : [];
        setCompose({
          to: addressList(replyTo),
          cc: addressList(others),
          subject: /^(re|回复):/i.test(subject) ? subject : `Re: ${subject}`,
          text: quote(email, text, t('compose.wrote', { when, who: from })),
          inReplyTo: email.messageId ?? undefined,
          references: refs.length ? refs : undefined,
          answering: email.id,
          attachments: [],
        });
      })();
    },
    [identities, accountId, t],
  );

  const forwardAsAttachment = useCallback((email: EmailDetail) => {
    setCompose({ to: '', cc: '', subject: `Fwd: ${email.subject ?? ''}`, text: '', attachments: [{ blobId: email.blobId, name: `${(email.subject || 'message').slice(0, 60)}.eml`, type: 'message/rfc822', size: email.size }] });
  }, []);

  const openDetail = useCallback(
    async (id: string, action: (e: EmailDetail) => void) => {
      const r = await jmap([['Email/get', { accountId, ids: [id], properties: ['id', 'blobId', 'subject', 'from', 'to', 'cc', 'replyTo', 'sentAt', 'receivedAt', 'messageId', 'references', 'attachments', 'preview', 'size', 'keywords', 'mailboxIds', 'threadId'] }, 'g']]);
      const e = (r.g.list as EmailDetail[])[0];
      if (e) action(e);
    },
    [accountId],
  );

  const onOpen = useCallback(
    (email: EmailSummary) => {
      if (folder?.role === 'drafts') {
        void openDetail(email.id, (d) =>
          fetch(`/bff/mail/body/${encodeURIComponent(d.id)}?account=${encodeURIComponent(accountId!)}&text=1`)
            .then((r) => r.json())
            .then((b: { plain?: string; text?: string }) =>
              setCompose({ to: addressList(d.to), cc: addressList(d.cc), subject: d.subject ?? '', text: b.plain ?? b.text ?? '', attachments: d.attachments.map((a) => ({ blobId: a.blobId, name: a.name || 'attachment', type: a.type, size: a.size })), draftId: d.id }),
            ),
        );
        return;
      }
      setOpenId(email.id);
      if (!email.keywords.$seen) void setKeyword([email.id], '$seen', true);
    },
    [folder, openDetail, accountId, setKeyword],
  );

  const targets = useCallback(() => (selected.size > 0 ? [...selected] : openId ? [openId] : []), [selected, openId]);

  // Keyboard shortcuts, as mail programs have them; never while typing.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement;
      if (e.ctrlKey || e.metaKey || e.altKey || el.closest('input, textarea, select, [contenteditable="true"], .ant-select, .ant-modal')) return;
      if (compose && e.key !== 'Escape') return;
      const hit = () => e.preventDefault();
      switch (e.key) {
        case 'j': hit(); listRef.current?.step(1); break;
        case 'k': hit(); listRef.current?.step(-1); break;
        case '/': hit(); searchRef.current?.focus(); break;
        case 'c': hit(); setCompose({ to: '', cc: '', subject: '', text: '', attachments: [] }); break;
        case 'r': if (openId) { hit(); void openDetail(openId, (d) => reply('reply', d)); } break;
        case 'a': if (openId) { hit(); void openDetail(openId, (d) => reply('replyAll', d)); } break;
        case 'f': if (openId) { hit(); void openDetail(openId, (d) => reply('forward', d)); } break;
        case '#': case 'Delete': hit(); void remove(targets()); break;
        case '?': hit(); setHelp(true); break;
        case 'Escape': if (help) setHelp(false); break;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [compose, openId, help, openDetail, reply, remove, targets]);

  /** A Mailbox/set; a refusal is thrown with the server's words (e.g. the folder is not empty, the name is taken). */
  const mailboxSet = async (args: Record<string, unknown>) => {
    const r = await jmap([['Mailbox/set', { accountId, ...args }, 's']]);
    const refused = [r.s.notCreated, r.s.notUpdated, r.s.notDestroyed].flatMap((x) => Object.values((x as Record<string, { type: string; description?: string }> | null) ?? {}));
    if (refused.length) throw new Error(refused[0].type === 'mailboxHasEmail' ? t('folders.notEmpty') : refused[0].description ?? refused[0].type);
    await loadMailboxes(accountId!);
  };

  const pickFolder = (id: string) => {
    setFolderId(id);
    setOpenId(null);
    setSelected(new Set());
    setSearch('');
    setSearchInput('');
    setAdvanced(null);
    setFolderDrawer(false);
  };

  const junk = mailboxes.find((m) => m.role === 'junk');
  const inJunk = folder?.role === 'junk';
  const many = targets();
  const folderChanges: FolderChanges = {
    create: (folderName, parentId) => mailboxSet({ create: { f: { name: folderName, parentId } } }),
    rename: (id, folderName) => mailboxSet({ update: { [id]: { name: folderName } } }),
    remove: async (id) => {
      await mailboxSet({ destroy: [id] });
      if (id === folderId && inbox) pickFolder(inbox.id);
    },
  };
  const folders = <FolderTree mailboxes={mailboxes} current={folderId} onPick={pickFolder} onDropEmails={(ids, to) => void move(ids, to)} changes={folderChanges} />;

  if (loadError) {
    return (
      <main className="wm-fatal" role="alert">
        <p>{t('errors.load')}</p>
        <Button onClick={() => window.location.reload()}>{t('retry')}</Button>
      </main>
    );
  }

  return (
    <div className={`wm${openId || compose ? ' wm-reading' : ''}${full && openId && !compose ? ' wm-full' : ''}${preferences?.density === 'compact' ? ' wm-compact' : ''}`}>
      <a className="skip-link" href="#wm-list">
        {t('skip')}
      </a>
      <header className="wm-top">
        <Button className="wm-menu-button" onClick={() => setFolderDrawer(true)} aria-label={t('folders.open')}>
          ☰
        </Button>
        <span className="wm-brand">{t('title')}</span>
        <form
          role="search"
          className="wm-search"
          onSubmit={(e) => {
            e.preventDefault();
            setSearch(searchInput.trim());
            setAdvanced(null);
            setOpenId(null);
          }}
        >
          <Input.Search
            ref={(r) => {
              searchRef.current = r?.input ?? null;
            }}
            value={searchInput}
            onChange={(e) => {
              setSearchInput(e.target.value);
              if (!e.target.value) {
                setSearch('');
                setAdvanced(null);
              }
            }}
            onSearch={(v) => {
              setSearch(v.trim());
              setAdvanced(null);
              setOpenId(null);
            }}
            placeholder={t('search.placeholder')}
            aria-label={t('search.label')}
            allowClear
            enterButton={t('search.button')}
          />
        </form>
        <Button className="wm-advanced-button" onClick={() => setAdvancedOpen(true)} data-testid="advanced-search-open">
          {tr('search.advanced')}
        </Button>
        <Space size={8} className="wm-top-right">
          <Button type="primary" onClick={() => setCompose({ to: '', cc: '', subject: '', text: '', attachments: [] })}>
            {t('actions.compose')}
          </Button>
          <LanguageSwitch />
          <a className="wm-settings-link" href="/mail/settings" data-testid="settings-link">
            {tr('settings.open')}
          </a>
          <span className="wm-user" data-testid="signed-in-as">
            {name}
          </span>
          <form method="post" action="/auth/sign-out">
            <Button htmlType="submit" size="small">
              {t('signOut')}
            </Button>
          </form>
        </Space>
      </header>
      <main className="wm-body-grid">
        <aside className="wm-side">
          {folders}
          {(folder?.role === 'trash' || folder?.role === 'junk') && (
            <Button size="small" danger className="wm-empty-folder" onClick={emptyFolder}>
              {t('actions.emptyFolder', { folder: folderName(folder) })}
            </Button>
          )}
          <Button size="small" type="text" className="wm-help-button" onClick={() => setHelp(true)}>
            {t('shortcuts.open')}
          </Button>
        </aside>
        <Drawer open={folderDrawer} onClose={() => setFolderDrawer(false)} placement="left" size={260} title={t('folders.label')}>
          {folders}
        </Drawer>
        <section className="wm-list" id="wm-list" aria-labelledby="wm-folder-title">
          <div className="wm-list-head">
            <h1 id="wm-folder-title" className="wm-folder-title">
              {advanced ? t('search.results', { query: searchSummary(advanced) || tr('search.filtered') }) : search ? t('search.results', { query: search }) : folder ? folderName(folder) : t('title')}
              <span className="wm-total"> {t('list.total', { count: total })}</span>
            </h1>
            <div className="wm-list-tools">
              <Segmented
                size="small"
                value={filter}
                onChange={(v) => setFilter(v as Filter)}
                options={[
                  { value: 'all', label: t('filter.all') },
                  { value: 'unread', label: t('filter.unread') },
                  { value: 'flagged', label: t('filter.flagged') },
                ]}
                aria-label={t('filter.label')}
              />
              <Select
                size="small"
                value={`${sort}:${ascending ? 'asc' : 'desc'}`}
                onChange={(v: string) => {
                  const [s, d] = v.split(':');
                  setSort(s as Sort);
                  setAscending(d === 'asc');
                }}
                aria-label={t('sort.label')}
                style={{ width: 150 }}
                options={(['receivedAt', 'from', 'subject', 'size'] as Sort[]).flatMap((s) => [
                  { value: `${s}:desc`, label: t(`sort.${s}Desc`) },
                  { value: `${s}:asc`, label: t(`sort.${s}Asc`) },
                ])}
              />
              <Checkbox checked={threads} onChange={(e) => setThreads(e.target.checked)}>
                {t('list.threads')}
              </Checkbox>
            </div>
            {notice && (
              <div className="wm-notice" role="status">
                <span>{notice.text}</span>
                {notice.undo && (
                  <Button
                    size="small"
                    type="link"
                    onClick={() => {
                      notice.undo?.();
                      setNotice(null);
                    }}
                  >
                    {t('undo')}
                  </Button>
                )}
                <Button size="small" type="text" aria-label={t('dismiss')} onClick={() => setNotice(null)}>
                  ×
                </Button>
              </div>
            )}
            {selected.size > 1 && (
              <div className="wm-bulk" role="toolbar" aria-label={t('bulk.label')}>
                <span role="status">{t('bulk.selected', { count: selected.size })}</span>
                <Button size="small" onClick={() => void setKeyword(many, '$seen', true)}>
                  {t('actions.markRead')}
                </Button>
                <Button size="small" onClick={() => void setKeyword(many, '$seen', false)}>
                  {t('actions.markUnread')}
                </Button>
                <Button size="small" onClick={() => void setKeyword(many, '$flagged', true)}>
                  {t('actions.flag')}
                </Button>
                <Dropdown trigger={['click']} menu={{ items: mailboxes.filter((m) => m.id !== folderId).map((m) => ({ key: m.id, label: folderName(m) })), onClick: ({ key }) => void move(many, key) }}>
                  <Button size="small">{t('actions.move')}</Button>
                </Dropdown>
                {junk && (
                  <Button size="small" onClick={() => void move(many, inJunk ? inbox!.id : junk.id)}>
                    {inJunk ? t('actions.notSpam') : t('actions.spam')}
                  </Button>
                )}
                <Button size="small" danger onClick={() => void remove(many)}>
                  {t('actions.delete')}
                </Button>
                <Button size="small" type="text" onClick={() => setSelected(new Set())}>
                  {t('bulk.clear')}
                </Button>
              </div>
            )}
          </div>
          {accountId && folderId && (
            <MessageList
              ref={listRef}
              accountId={accountId}
              query={query}
              version={version}
              openId={openId}
              selected={selected}
              onOpen={onOpen}
              onSelect={setSelected}
              onTotal={setTotal}
              rowHeight={preferences?.density === 'compact' ? 48 : undefined}
              label={t('list.label')}
            />
          )}
        </section>
        <section className="wm-reader-col" aria-label={t('reader.label')}>
          {compose && accountId ? (
            <Compose
              key={JSON.stringify(compose).slice(0, 200)}
              accountId={accountId}
              identities={identities}
              mailboxes={mailboxes}
              seed={compose}
              onClose={(result) => {
                setCompose(null);
                if (result === 'sent') message.success(t('compose.sent'));
                if (result === 'saved') message.info(t('compose.saved'));
                refresh();
              }}
            />
          ) : openId && accountId ? (
            <>
              <ReadingPane
                accountId={accountId}
                emailId={openId}
                mailboxes={mailboxes}
                version={version}
                onReply={reply}
                onMove={(ids, to) => void move(ids, to)}
                onDelete={(ids) => void remove(ids)}
                onKeywords={(ids, k, on) => void setKeyword(ids, k, on)}
                onBack={() => (full ? closeFull() : setOpenId(null))}
                fullPage={full}
                onFullPage={() => openFull(openId)}
              />
              <div className="wm-reader-extra">
                <Button size="small" type="link" onClick={() => void openDetail(openId, forwardAsAttachment)}>
                  {t('actions.forwardAsAttachment')}
                </Button>
                {junk && (
                  <Button size="small" type="link" onClick={() => void move([openId], inJunk ? inbox!.id : junk.id)}>
                    {inJunk ? t('actions.notSpam') : t('actions.spam')}
                  </Button>
                )}
              </div>
            </>
          ) : (
            <p className="wm-nothing">{t('reader.nothing')}</p>
          )}
        </section>
      </main>
      {advancedOpen && (
        <SearchPanel
          open
          initial={advanced}
          text={searchInput}
          mailboxes={mailboxes}
          onClose={() => setAdvancedOpen(false)}
          onSearch={(c) => {
            setAdvancedOpen(false);
            setOpenId(null);
            if (isEmptySearch(c)) {
              setAdvanced(null);
              setSearch('');
              setSearchInput('');
              return;
            }
            setAdvanced(c);
            setSearch('');
            setSearchInput(c.text);
          }}
        />
      )}
      <Modal open={help} onCancel={() => setHelp(false)} footer={null} title={t('shortcuts.title')}>
        <dl className="wm-shortcuts">
          {(['j', 'k', 'r', 'a', 'f', '#', '/', 'c', '?'] as const).map((k) => (
            <div key={k}>
              <dt>
                <kbd>{k}</kbd>
              </dt>
              <dd>{t(`shortcuts.${k === '#' ? 'hash' : k === '/' ? 'slash' : k === '?' ? 'help' : k}`)}</dd>
            </div>
          ))}
        </dl>
      </Modal>
    </div>
  );
}
