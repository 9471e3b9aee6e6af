'use client';
/**
 * Recipients waiting in the queue, with why they wait; filters by state, held, age, destination domain and
 * address; details of one entry (envelope, attempts, last error); retry, hold, release and delete, for one
 * entry or the selected ones (delete is confirmed first).
 */
import { useCallback, useState } from 'react';
import { App, Button, Descriptions, Drawer, Input, Popconfirm, Select, Space, Typography } from 'antd';
import { useRouter } from 'next/navigation';
import { useTranslations } from 'next-intl';
import type { QueueEntry, QueuePage } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { errorText } from '../errors';
import { StatusTag } from '../status-tag';
import { PagedTable, useUrlFilters } from './paged-table';

type Action = 'retry' | 'hold' | 'release' | 'delete';

const time = (v: string | null) => (v ? v.slice(0, 19).replace('T', ' ') : '—');

export function QueueTable({ page }: { page: QueuePage }) {
  const t = useTranslations();
  const { message } = App.useApp();
  const router = useRouter();
  const [selected, setSelected] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [detail, setDetail] = useState<QueueEntry | null>(null);
  const clearSelection = useCallback(() => setSelected([]), []);
  const { params, navigate } = useUrlFilters(clearSelection);

  const act = async (action: Action, ids: string[]) => {
    setBusy(true);
    try {
      const r = await browserApi.queueAction({ action, ids });
      const refused = r.results.filter((x) => x.outcome !== 'done');
      if (refused.length) message.warning(t('queue.partly', { done: r.done, refused: refused.length, reason: refused[0].message ?? refused[0].outcome }));
      else message.success(t(`queue.did_${action}`, { count: r.done }));
      setSelected([]);
      if (detail && ids.includes(detail.id)) setDetail(action === 'delete' ? null : await browserApi.queueEntry(detail.id));
      router.refresh();
    } catch (e) {
      message.error(t('common.error', { message: errorText(e) }));
    } finally {
      setBusy(false);
    }
  };

  const buttons = (ids: string[], suffix: string) => (
    <Space wrap>
      <Button disabled={!ids.length} loading={busy} onClick={() => act('retry', ids)}>
        {t('queue.retry')}
        {suffix}
      </Button>
      <Button disabled={!ids.length} loading={busy} onClick={() => act('hold', ids)}>
        {t('queue.hold')}
        {suffix}
      </Button>
      <Button disabled={!ids.length} loading={busy} onClick={() => act('release', ids)}>
        {t('queue.release')}
        {suffix}
      </Button>
      <Popconfirm title={t('queue.deleteConfirm', { count: ids.length })} okText={t('common.delete')} cancelText={t('common.cancel')} okButtonProps={{ danger: true }} onConfirm={() => act('delete', ids)} disabled={!ids.length}>
        <Button danger disabled={!ids.length} loading={busy}>
          {t('common.delete')}
          {suffix}
        </Button>
      </Popconfirm>
    </Space>
  );

  const state = (e: QueueEntry) =>
    e.heldAt ? (
      <StatusTag tone="neutral">{t('queue.held')}</StatusTag>
    ) : (
      <StatusTag tone={e.status === 'deferred' ? 'bad' : 'info'}>{e.status === 'deferred' ? t('dashboard.deferred') : t('dashboard.queued')}</StatusTag>
    );

  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('queue.title')}
      </Typography.Title>
      <div className="page-toolbar">
        <Input.Search
          style={{ maxWidth: 320 }}
          allowClear
          aria-label={t('mailLog.searchPlaceholder')}
          placeholder={t('mailLog.searchPlaceholder')}
          defaultValue={params.get('q') ?? ''}
          onSearch={(q) => navigate({ q: q.trim() || undefined, offset: undefined })}
        />
        <Input.Search
          style={{ maxWidth: 220 }}
          allowClear
          aria-label={t('queue.domain')}
          placeholder={t('queue.domain')}
          defaultValue={params.get('domain') ?? ''}
          onSearch={(d) => navigate({ domain: d.trim() || undefined, offset: undefined })}
        />
        <Select
          aria-label={t('common.status')}
          style={{ width: 180 }}
          value={params.get('status') ?? ''}
          onChange={(status: string) => navigate({ status: status || undefined, offset: undefined })}
          options={[
            { value: '', label: t('common.all') },
            { value: 'queued', label: t('dashboard.queued') },
            { value: 'deferred', label: t('dashboard.deferred') },
          ]}
        />
        <Select
          aria-label={t('queue.heldFilter')}
          style={{ width: 150 }}
          value={params.get('held') ?? ''}
          onChange={(held: string) => navigate({ held: held || undefined, offset: undefined })}
          options={[
            { value: '', label: t('queue.heldAny') },
            { value: 'true', label: t('queue.heldOnly') },
            { value: 'false', label: t('queue.notHeld') },
          ]}
        />
        <Select
          aria-label={t('queue.age')}
          style={{ width: 170 }}
          value={params.get('older') ?? ''}
          onChange={(older: string) => navigate({ older: older || undefined, offset: undefined })}
          options={[
            { value: '', label: t('queue.anyAge') },
            { value: '60', label: t('queue.olderHour') },
            { value: '1440', label: t('queue.olderDay') },
          ]}
        />
      </div>
      <div className="page-toolbar" data-testid="queue-bulk">
        <span>{t('queue.selected', { count: selected.length })}</span>
        {buttons(selected, '')}
      </div>
      <PagedTable<QueueEntry>
        page={page}
        navigate={navigate}
        locale={{ emptyText: t('queue.empty') }}
        rowSelection={{ selectedRowKeys: selected, onChange: (keys) => setSelected(keys.map(String)), getCheckboxProps: (e) => ({ 'aria-label': t('queue.select', { recipient: e.recipient }) }) }}
        onRow={(e) => ({ 'data-entry': e.recipient }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: t('queue.recipient'),
            dataIndex: 'recipient',
            ellipsis: true,
            render: (v: string, e) => (
              <Button type="link" style={{ padding: 0, height: 'auto', textDecoration: 'underline' }} onClick={() => setDetail(e)} aria-label={t('queue.details', { recipient: v })}>
                {v}
              </Button>
            ),
          },
          { title: t('queue.sender'), dataIndex: 'sender', ellipsis: true, render: (v: string) => v || t('dashboard.nullSender') },
          { title: t('common.status'), key: 'status', width: 110, render: (_, e) => state(e) },
          { title: t('queue.attempts'), dataIndex: 'attempts', width: 90, align: 'right', sorter: (a, b) => a.attempts - b.attempts },
          { title: t('queue.next'), dataIndex: 'nextAttemptAt', width: 150, render: (v: string, e) => (e.heldAt ? t('queue.whenReleased') : time(v)) },
          { title: t('queue.lastError'), dataIndex: 'lastError', ellipsis: true },
        ]}
      />
      <Drawer open={!!detail} onClose={() => setDetail(null)} title={detail ? t('queue.detailTitle', { recipient: detail.recipient }) : ''} size="large" destroyOnHidden>
        {detail && (
          <>
            <Descriptions column={1} size="small" bordered data-testid="queue-detail">
              <Descriptions.Item label={t('common.status')}>{state(detail)}</Descriptions.Item>
              <Descriptions.Item label={t('queue.sender')}>{detail.sender || t('dashboard.nullSender')}</Descriptions.Item>
              <Descriptions.Item label={t('queue.recipient')}>{detail.recipient}</Descriptions.Item>
              {detail.originalRecipient && <Descriptions.Item label={t('queue.originalRecipient')}>{detail.originalRecipient}</Descriptions.Item>}
              <Descriptions.Item label={t('queue.messageId')}>
                <code>{detail.messageId}</code>
              </Descriptions.Item>
              <Descriptions.Item label={t('queue.size')}>{detail.size}</Descriptions.Item>
              <Descriptions.Item label={t('queue.source')}>{detail.source}</Descriptions.Item>
              <Descriptions.Item label={t('queue.received')}>{time(detail.receivedAt)}</Descriptions.Item>
              <Descriptions.Item label={t('queue.attempts')}>{detail.attempts}</Descriptions.Item>
              <Descriptions.Item label={t('queue.lastAttempt')}>{time(detail.lastAttemptAt)}</Descriptions.Item>
              <Descriptions.Item label={t('queue.next')}>{detail.heldAt ? t('queue.whenReleased') : time(detail.nextAttemptAt)}</Descriptions.Item>
              {detail.heldAt && <Descriptions.Item label={t('queue.heldSince')}>{time(detail.heldAt)}</Descriptions.Item>}
              <Descriptions.Item label={t('queue.lastError')}>{detail.lastError ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('queue.lastReply')}>{detail.lastReply ?? '—'}</Descriptions.Item>
            </Descriptions>
            <div style={{ marginTop: 16 }}>{buttons([detail.id], '')}</div>
          </>
        )}
      </Drawer>
    </>
  );
}
