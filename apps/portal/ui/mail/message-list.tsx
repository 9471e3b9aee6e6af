'use client';
/**
 * The message list of one folder (or a search): a virtual list over the whole result, whose rows are fetched a page
 * at a time by position (Email/query position+limit with Email/get in the same request), so a folder of 100,000
 * messages costs no more than the rows on screen. Click opens, Ctrl/⌘-click adds, Shift-click selects a range.
 */
import { forwardRef, useCallback, useEffect, useImperativeHandle, useReducer, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Checkbox, Empty, Spin } from 'antd';
import { useFormatter, useTranslations } from 'next-intl';
import { EmailSummary, jmap, SUMMARY_PROPERTIES, type Invocation, type Snippet } from '../../lib/mail/jmap-browser';
import { browserTimeZone } from '../../lib/mail/time-zone';
import { Marked } from './marked';

const PAGE = 50;
const ROW_HEIGHT = 68;
/** Pause before a page that failed (server busy, network) is asked for again. */
const RETRY_MS = 2_000;

export interface ListQuery {
  filter: Record<string, unknown>;
  sort: { property: string; isAscending: boolean }[];
  collapseThreads: boolean;
  /** A search: each row's subject and an excerpt come with the searched words marked (SearchSnippet/get). */
  highlight?: boolean;
}

export interface MessageListHandle {
  /** Opens the next (+1) or previous (-1) message of the list. */
  step(delta: 1 | -1): void;
}

interface Props {
  accountId: string;
  query: ListQuery;
  /** Bumped when the messages may have changed (an action, new mail): rows are fetched again, the scroll position kept. */
  version: number;
  openId: string | null;
  selected: Set<string>;
  onOpen(email: EmailSummary): void;
  onSelect(ids: Set<string>): void;
  onTotal(total: number): void;
  label: string;
  /** Compact density draws lower rows (no preview line). */
  rowHeight?: number;
}

export const MessageList = forwardRef<MessageListHandle, Props>(function MessageList({ accountId, query, version, openId, selected, onOpen, onSelect, onTotal, label, rowHeight = ROW_HEIGHT }, ref) {
  const t = useTranslations('mail');
  const format = useFormatter();
  const scrollRef = useRef<HTMLDivElement>(null);
  const pages = useRef(new Map<number, EmailSummary[]>());
  const stale = useRef(new Map<number, EmailSummary[]>());
  /** Pages being fetched, with the generation that asked: one request per page at a time, whatever changes meanwhile. */
  const loading = useRef(new Map<number, number>());
  /** When a page last failed: it is asked for again after a pause, not in a tight loop. */
  const failedAt = useRef(new Map<number, number>());
  const generation = useRef(0);
  const anchor = useRef<number | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const totalRef = useRef<number | null>(null);
  totalRef.current = total;
  const [failed, setFailed] = useState(false);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const queryKey = JSON.stringify(query);
  /** The list on screen (a late answer for another folder or search is dropped). */
  const shownQuery = useRef(queryKey);
  shownQuery.current = queryKey;

  const virtualizer = useVirtualizer({ count: total ?? 0, getScrollElement: () => scrollRef.current, estimateSize: () => rowHeight, overscan: 12 });
  // The density arrives with the preferences, after the first rows: every row is measured again.
  useEffect(() => virtualizer.measure(), [rowHeight, virtualizer]);

  const load = useCallback(
    async (page: number) => {
      if (loading.current.has(page) || pages.current.has(page)) return;
      if (Date.now() - (failedAt.current.get(page) ?? 0) < RETRY_MS) return;
      const g = generation.current;
      loading.current.set(page, g);
      try {
        const { highlight, ...listQuery } = query;
        const ids = { resultOf: 'q', name: 'Email/query', path: '/ids' };
        const r = await jmap([
          ['Email/query', { accountId, ...listQuery, position: page * PAGE, limit: PAGE, calculateTotal: true }, 'q'],
          ['Email/get', { accountId, '#ids': ids, properties: SUMMARY_PROPERTIES }, 'g'],
          ...(highlight ? [['SearchSnippet/get', { accountId, filter: listQuery.filter, '#emailIds': ids }, 's'] as Invocation] : []),
        ]);
        failedAt.current.delete(page);
        const snippets = new Map(((r.s?.list ?? []) as Snippet[]).map((x) => [x.emailId, x]));
        const byId = new Map((r.g.list as EmailSummary[]).map((e): [string, EmailSummary] => [e.id, { ...e, snippet: snippets.get(e.id) }]));
        const rows = (r.q.ids as string[]).map((id) => byId.get(id)).filter((e): e is EmailSummary => !!e);
        // Answered after the list changed again: shown until the newer copy comes (asked for on the next render).
        if (g !== generation.current) {
          if (shownQuery.current === queryKey && r.q.total === totalRef.current && !pages.current.has(page)) stale.current.set(page, rows);
          return;
        }
        pages.current.set(page, rows);
        stale.current.delete(page);
        setFailed(false);
        setTotal(r.q.total as number);
        onTotal(r.q.total as number);
      } catch {
        failedAt.current.set(page, Date.now());
        setTimeout(redraw, RETRY_MS);
        if (g === generation.current) setFailed(true);
      } finally {
        if (loading.current.get(page) === g) loading.current.delete(page);
        redraw();
      }
    },
    // queryKey stands for query: a new object with the same content is the same list.
    [accountId, queryKey, onTotal],
  );

  // Another folder, sort, filter or search: start again at the top.
  useEffect(() => {
    generation.current++;
    pages.current = new Map();
    stale.current = new Map();
    loading.current = new Map();
    failedAt.current = new Map();
    anchor.current = null;
    setTotal(null);
    scrollRef.current?.scrollTo({ top: 0 });
    void load(0);
  }, [load]);

  // The same list changed: keep showing the old rows until their pages come back.
  const firstVersion = useRef(version);
  useEffect(() => {
    if (version === firstVersion.current) return;
    generation.current++;
    stale.current = new Map([...stale.current, ...pages.current]);
    pages.current = new Map();
    redraw();
  }, [version]);

  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  useEffect(() => {
    if (total === null) {
      void load(0);
      return;
    }
    for (let p = Math.floor(first / PAGE); p <= Math.floor(last / PAGE); p++) void load(p);
  });

  const at = (index: number): EmailSummary | undefined => {
    const p = Math.floor(index / PAGE);
    return (pages.current.get(p) ?? stale.current.get(p))?.[index % PAGE];
  };
  const indexOf = (id: string | null): number => {
    if (!id) return -1;
    for (const [p, list] of pages.current) {
      const i = list.findIndex((e) => e.id === id);
      if (i >= 0) return p * PAGE + i;
    }
    return -1;
  };

  useImperativeHandle(ref, () => ({
    step(delta) {
      const i = indexOf(openId);
      const next = at(Math.max(0, Math.min((total ?? 1) - 1, i + delta)));
      if (next) {
        onOpen(next);
        onSelect(new Set([next.id]));
        virtualizer.scrollToIndex(i + delta, { align: 'auto' });
      }
    },
  }));

  const click = (e: MouseEvent, index: number, email: EmailSummary) => {
    if (e.shiftKey && anchor.current !== null) {
      const [a, b] = [Math.min(anchor.current, index), Math.max(anchor.current, index)];
      const ids = new Set(selected);
      for (let i = a; i <= b; i++) {
        const m = at(i);
        if (m) ids.add(m.id);
      }
      onSelect(ids);
      return;
    }
    anchor.current = index;
    if (e.ctrlKey || e.metaKey) {
      const ids = new Set(selected);
      if (ids.has(email.id)) ids.delete(email.id);
      else ids.add(email.id);
      onSelect(ids);
      return;
    }
    onSelect(new Set([email.id]));
    onOpen(email);
  };

  const toggle = (index: number, email: EmailSummary, shift: boolean) => {
    const ids = new Set(selected);
    if (shift && anchor.current !== null) {
      for (let i = Math.min(anchor.current, index); i <= Math.max(anchor.current, index); i++) {
        const m = at(i);
        if (m) ids.add(m.id);
      }
    } else if (ids.has(email.id)) ids.delete(email.id);
    else ids.add(email.id);
    anchor.current = index;
    onSelect(ids);
  };

  const keys = (e: KeyboardEvent, index: number, email: EmailSummary) => {
    if (e.key === ' ' && e.target === e.currentTarget) {
      e.preventDefault();
      toggle(index, email, e.shiftKey);
    }
  };

  if (total === 0) return <Empty className="wm-empty" description={t('list.empty')} />;
  return (
    <div ref={scrollRef} className="wm-list-scroll" data-testid="message-list" aria-busy={total === null}>
      {total === null && !failed && <Spin className="wm-list-spin" description={t('list.loading')} />}
      {failed && <p role="alert" className="wm-list-error">{t('errors.network')}</p>}
      <div role="list" aria-label={label} style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {items.map((v) => {
          const email = at(v.index);
          const style = { position: 'absolute' as const, top: 0, left: 0, right: 0, height: v.size, transform: `translateY(${v.start}px)` };
          if (!email) {
            return (
              <div role="listitem" key={v.key} style={style} className="wm-row wm-row-placeholder" aria-label={t('list.loading')}>
                <span className="wm-skeleton" />
              </div>
            );
          }
          const unread = !email.keywords.$seen;
          const flagged = !!email.keywords.$flagged;
          const who = email.from?.[0]?.name || email.from?.[0]?.email || t('list.noSender');
          return (
            <div
              role="listitem"
              key={email.id}
              style={style}
              className={`wm-row${unread ? ' wm-unread' : ''}${selected.has(email.id) ? ' wm-selected' : ''}${openId === email.id ? ' wm-open' : ''}`}
              data-email-id={email.id}
              draggable
              onDragStart={(e) => {
                const ids = selected.has(email.id) ? [...selected] : [email.id];
                e.dataTransfer.setData('application/x-dizi-emails', JSON.stringify(ids));
                e.dataTransfer.effectAllowed = 'move';
              }}
            >
              <Checkbox
                className="wm-row-check"
                checked={selected.has(email.id)}
                aria-label={t('list.select', { subject: email.subject || t('list.noSubject') })}
                onClick={(e) => {
                  e.stopPropagation();
                  toggle(v.index, email, e.shiftKey);
                }}
              />
              <button type="button" className="wm-row-main" onClick={(e) => click(e, v.index, email)} onKeyDown={(e) => keys(e, v.index, email)} aria-current={openId === email.id ? 'true' : undefined}>
                <span className="wm-row-top">
                  <span className="wm-row-from">
                    {unread && <span className="visually-hidden">{t('list.unread')} </span>}
                    {who}
                  </span>
                  <span className="wm-row-date">{format.dateTime(new Date(email.receivedAt), sameDay(email.receivedAt) ? { timeStyle: 'short', timeZone: browserTimeZone() } : { dateStyle: 'short', timeZone: browserTimeZone() })}</span>
                </span>
                <span className="wm-row-subject">
                  {flagged && (
                    <span className="wm-flag" aria-label={t('list.flagged')} role="img">
                      ★
                    </span>
                  )}
                  {email.hasAttachment && (
                    <span className="wm-clip" aria-label={t('list.attachment')} role="img">
                      📎
                    </span>
                  )}
                  {email.snippet?.subject ? <Marked html={email.snippet.subject} /> : email.subject || t('list.noSubject')}
                </span>
                <span className="wm-row-preview">{email.snippet?.preview ? <Marked html={email.snippet.preview} /> : email.preview}</span>
              </button>
            </div>
          );
        })}
      </div>
    </div>
  );
});

function sameDay(iso: string): boolean {
  return new Date(iso).toDateString() === new Date().toDateString();
}
