'use client';
/**
 * The mailboxes of one domain, for domains of 100,000 mailboxes: pages of the API's fast index fetched as
 * the list scrolls, and only the rows in view rendered (@tanstack/react-virtual). Search, initial, status and
 * role filters restart the list. Rows can be selected for bulk suspend, resume, quota and delete.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, App, Button, Checkbox, Form, Input, Modal, Popconfirm, Progress, Select, Space, Typography } from 'antd';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useFormatter, useTranslations } from 'next-intl';
import type { Domain, Mailbox } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { DomainNav } from '../domains/domain-nav';
import { errorText } from '../errors';
import { formatBytes } from '../format';
import { StatusTag } from '../status-tag';
import { BulkBar } from './bulk-bar';
import { SendAsDrawer } from './send-as-drawer';

/** Rows per request: many screenfuls, the API's largest page (few round trips while scrolling fast). */
const PAGE = 500;
const ROW_HEIGHT = 64;
/** On a phone the address takes the whole first line and the status and buttons go under it. */
const PHONE_ROW_HEIGHT = 120;
const PHONE = '(max-width: 600px)';
const INITIALS = [...'abcdefghijklmnopqrstuvwxyz0123456789'];

interface Filters {
  q: string;
  initial: string;
  status: '' | 'active' | 'suspended';
  role: '' | 'user' | 'domain_admin' | 'tenant_admin';
}

export function MailboxDirectory({ domain, backHref }: { domain: Domain; backHref: string }) {
  const t = useTranslations();
  const format = useFormatter();
  const { message } = App.useApp();
  const [filters, setFilters] = useState<Filters>({ q: '', initial: '', status: '', role: '' });
  const [items, setItems] = useState<Mailbox[]>([]);
  const [done, setDone] = useState(false);
  const [total, setTotal] = useState<{ n: number; capped: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ address: string; password: string } | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [sendAs, setSendAs] = useState<Mailbox | null>(null);
  const loading = useRef(false);
  const generation = useRef(0);
  const scroller = useRef<HTMLDivElement>(null);
  const [form] = Form.useForm<{ localPart: string; displayName?: string; password?: string }>();

  const fetchPage = useCallback(
    async (offset: number, gen: number) => {
      loading.current = true;
      try {
        const page = await browserApi.mailboxes.list({
          domain: domain.id,
          offset,
          limit: PAGE,
          q: filters.q || undefined,
          initial: filters.initial || undefined,
          status: filters.status || undefined,
          role: filters.role || undefined,
        });
        if (gen !== generation.current) return; // the filters changed meanwhile
        setItems((prev) => (offset === 0 ? page.items : [...prev, ...page.items]));
        setDone(page.items.length < PAGE);
        if (offset === 0) setTotal({ n: page.total, capped: page.totalCapped });
        setError(null);
      } catch (e) {
        if (gen === generation.current) setError(errorText(e));
      } finally {
        if (gen === generation.current) loading.current = false;
      }
    },
    [domain.id, filters],
  );

  useEffect(() => {
    const gen = ++generation.current;
    setItems([]);
    setSelected(new Set());
    setDone(false);
    scroller.current?.scrollTo({ top: 0 });
    void fetchPage(0, gen);
  }, [fetchPage]);

  const [rowHeight, setRowHeight] = useState(ROW_HEIGHT);
  useEffect(() => {
    const phone = window.matchMedia(PHONE);
    const follow = () => setRowHeight(phone.matches ? PHONE_ROW_HEIGHT : ROW_HEIGHT);
    follow();
    phone.addEventListener('change', follow);
    return () => phone.removeEventListener('change', follow);
  }, []);
  const virtual = useVirtualizer({ count: items.length + (done ? 0 : 1), getScrollElement: () => scroller.current, estimateSize: () => rowHeight, overscan: 12 });
  useEffect(() => virtual.measure(), [rowHeight, virtual]);
  const rows = virtual.getVirtualItems();
  const last = rows[rows.length - 1];
  useEffect(() => {
    if (last && last.index >= items.length - 1 && !done && !loading.current && items.length > 0 && !error) void fetchPage(items.length, generation.current);
  }, [last, items.length, done, fetchPage, error]);

  const replace = (m: Mailbox) => setItems((prev) => prev.map((x) => (x.id === m.id ? m : x)));
  const toggle = (id: string, on: boolean) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const allLoaded = items.length > 0 && items.every((m) => selected.has(m.id));
  const act = async (action: () => Promise<void>) => {
    try {
      await action();
    } catch (e) {
      message.error(t('common.error', { message: errorText(e) }));
    }
  };

  const create = (v: { localPart: string; displayName?: string; password?: string }) =>
    act(async () => {
      const m = await browserApi.mailboxes.create({ domain: domain.id, localPart: v.localPart.trim(), displayName: v.displayName?.trim() || undefined, password: v.password || undefined });
      message.success(t('mailboxes.created', { address: m.address }));
      if (m.password) setSecret({ address: m.address, password: m.password });
      setItems((prev) => [m, ...prev]);
      setCreating(false);
      form.resetFields();
    });

  return (
    <>
      <DomainNav domain={domain} backHref={backHref} />
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('mailboxes.title', { domain: domain.unicodeName })}
      </Typography.Title>
      <div className="page-toolbar">
        <Input.Search
          className="grow"
          style={{ maxWidth: 320 }}
          allowClear
          aria-label={t('mailboxes.searchPlaceholder')}
          placeholder={t('mailboxes.searchPlaceholder')}
          onSearch={(q) => setFilters((f) => ({ ...f, q: q.trim() }))}
          data-testid="mailbox-search"
        />
        <Select
          aria-label={t('mailboxes.initial')}
          value={filters.initial}
          style={{ width: 110 }}
          onChange={(initial: string) => setFilters((f) => ({ ...f, initial }))}
          options={[{ value: '', label: t('mailboxes.initial') }, ...INITIALS.map((c) => ({ value: c, label: c.toUpperCase() }))]}
        />
        <Select
          aria-label={t('common.status')}
          value={filters.status}
          style={{ width: 130 }}
          onChange={(status: Filters['status']) => setFilters((f) => ({ ...f, status }))}
          options={[
            { value: '', label: t('mailboxes.anyStatus') },
            { value: 'active', label: t('common.active') },
            { value: 'suspended', label: t('common.suspended') },
          ]}
        />
        <Select
          aria-label={t('mailboxes.role')}
          value={filters.role}
          style={{ width: 140 }}
          onChange={(role: Filters['role']) => setFilters((f) => ({ ...f, role }))}
          options={[
            { value: '', label: t('mailboxes.anyRole') },
            { value: 'user', label: t('roles.user') },
            { value: 'domain_admin', label: t('roles.domain_admin') },
            { value: 'tenant_admin', label: t('roles.tenant_admin') },
          ]}
        />
        <Button type="primary" onClick={() => setCreating(true)}>
          {t('mailboxes.new')}
        </Button>
      </div>
      <div style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 12, marginBottom: 8 }}>
        <Checkbox
          checked={allLoaded}
          indeterminate={selected.size > 0 && !allLoaded}
          disabled={items.length === 0}
          onChange={(e) => setSelected(e.target.checked ? new Set(items.map((m) => m.id)) : new Set())}
          data-testid="select-all"
        >
          {t('mailboxes.bulk.selectLoaded', { count: items.length })}
        </Checkbox>
      </div>
      {selected.size > 0 && (
        <BulkBar
          selected={items.filter((m) => selected.has(m.id))}
          onChanged={(changed) => setItems((prev) => prev.map((x) => changed.find((c) => c.id === x.id) ?? x))}
          onDeleted={(ids) => {
            setItems((prev) => prev.filter((x) => !ids.includes(x.id)));
            setSelected(new Set());
            setTotal((n) => (n && !n.capped ? { ...n, n: n.n - ids.length } : n));
          }}
          onClear={() => setSelected(new Set())}
        />
      )}
      <Typography.Paragraph type="secondary" aria-live="polite" data-testid="mailbox-count">
        {total === null ? t('common.loading') : total.capped ? t('mailboxes.countCapped') : t('mailboxes.count', { count: total.n })}
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon title={t('common.error', { message: error })} style={{ marginBottom: 8 }} />}
      {secret && (
        <Alert type="success" showIcon closable onClose={() => setSecret(null)} title={t('mailboxes.generatedPassword', secret)} style={{ marginBottom: 8 }} data-testid="generated-password" />
      )}
      <div
        ref={scroller}
        role="list"
        aria-label={t('mailboxes.title', { domain: domain.unicodeName })}
        tabIndex={0}
        style={{ height: 'calc(100vh - 300px)', minHeight: 320, overflow: 'auto', background: '#fff', border: '1px solid #e5e7eb', borderRadius: 6 }}
        data-testid="mailbox-list"
      >
        {items.length === 0 && done && <p style={{ padding: 16 }}>{t('mailboxes.empty')}</p>}
        <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
          {rows.map((row) => {
            const m = items[row.index];
            return (
              <div
                key={row.key}
                role="listitem"
                className="mailbox-row"
                style={{ position: 'absolute', top: 0, left: 0, right: 0, height: rowHeight, transform: `translateY(${row.start}px)`, display: 'flex', flexWrap: 'wrap', alignContent: 'center', alignItems: 'center', columnGap: 12, rowGap: 6, padding: '0 12px', borderBottom: '1px solid #f0f0f0' }}
              >
                {!m ? (
                  <span>{t('common.loading')}</span>
                ) : (
                  <>
                    <Checkbox checked={selected.has(m.id)} onChange={(e) => toggle(m.id, e.target.checked)} aria-label={t('mailboxes.bulk.select', { address: m.address })} />
                    <div style={{ flex: '1 1 220px', minWidth: 0 }} className="who">
                      <div style={{ fontWeight: 500, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} data-testid="mailbox-address">
                        {m.address}
                      </div>
                      <div style={{ fontSize: 12, color: 'rgba(0,0,0,0.65)', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
                        {m.displayName || '\u00a0'} {m.role !== 'user' && <StatusTag tone="neutral">{t(`roles.${m.role}`)}</StatusTag>}
                      </div>
                    </div>
                    <div style={{ flex: '0 1 160px', minWidth: 90 }} className="quota">
                      <Progress percent={m.usedPercent} size="small" showInfo={false} aria-label={`${m.address} ${t('mailboxes.quota')}`} />
                      <div style={{ fontSize: 12 }}>
                        {formatBytes(m.usedBytes, format)} / {formatBytes(m.quotaBytes, format)}
                      </div>
                    </div>
                    <StatusTag tone={m.status === 'active' ? 'good' : 'bad'}>{m.status === 'active' ? t('common.active') : t('common.suspended')}</StatusTag>
                    <Space size={4} wrap>
                      <Button size="small" aria-label={`${t('mailboxes.sendAs.open')} ${m.address}`} onClick={() => setSendAs(m)}>
                        {t('mailboxes.sendAs.open')}
                      </Button>
                      {m.status === 'active' ? (
                        <Popconfirm title={t('mailboxes.suspendConfirm', { address: m.address })} okText={t('mailboxes.suspend')} cancelText={t('common.cancel')} onConfirm={() => act(async () => replace(await browserApi.mailboxes.suspend(m.id)))}>
                          <Button size="small" aria-label={`${t('mailboxes.suspend')} ${m.address}`}>
                            {t('mailboxes.suspend')}
                          </Button>
                        </Popconfirm>
                      ) : (
                        <Button size="small" aria-label={`${t('mailboxes.resume')} ${m.address}`} onClick={() => act(async () => replace(await browserApi.mailboxes.resume(m.id)))}>
                          {t('mailboxes.resume')}
                        </Button>
                      )}
                      <Popconfirm
                        title={t('mailboxes.resetConfirm', { address: m.address })}
                        okText={t('mailboxes.resetPassword')}
                        cancelText={t('common.cancel')}
                        onConfirm={() => act(async () => setSecret({ address: m.address, password: (await browserApi.mailboxes.resetPassword(m.id)).password }))}
                      >
                        <Button size="small" aria-label={`${t('mailboxes.resetPassword')} ${m.address}`}>
                          {t('mailboxes.resetPassword')}
                        </Button>
                      </Popconfirm>
                    </Space>
                  </>
                )}
              </div>
            );
          })}
        </div>
      </div>
      <SendAsDrawer mailbox={sendAs} onClose={() => setSendAs(null)} />
      <Modal title={t('mailboxes.new')} open={creating} onCancel={() => setCreating(false)} onOk={() => form.submit()} okText={t('common.create')} cancelText={t('common.cancel')} forceRender>
        <Form form={form} layout="vertical" name="create-mailbox" onFinish={create}>
          <Form.Item name="localPart" label={t('mailboxes.localPart')} rules={[{ required: true, whitespace: true }]}>
            <Input suffix={`@${domain.name}`} autoComplete="off" />
          </Form.Item>
          <Form.Item name="displayName" label={t('mailboxes.displayName')}>
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item name="password" label={t('mailboxes.password')} extra={t('mailboxes.passwordHint')}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
