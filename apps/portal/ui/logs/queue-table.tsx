'use client';
/** Recipients waiting in the queue, with why they wait; filters by state, destination domain and address. */
import { Input, Select, Table, Typography } from 'antd';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useTranslations } from 'next-intl';
import type { QueuePage } from '../../lib/api-client';
import { StatusTag } from '../status-tag';

type Entry = QueuePage['items'][number];

export function QueueTable({ page }: { page: QueuePage }) {
  const t = useTranslations();
  const router = useRouter();
  const path = usePathname();
  const params = useSearchParams();
  const navigate = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params.toString());
    for (const [k, v] of Object.entries(changes)) if (v) next.set(k, v); else next.delete(k);
    router.push(`${path}?${next}`);
  };
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('queue.title')}
      </Typography.Title>
      <div className="page-toolbar">
        <Input.Search
          style={{ maxWidth: 360 }}
          allowClear
          aria-label={t('mailLog.searchPlaceholder')}
          placeholder={t('mailLog.searchPlaceholder')}
          defaultValue={params.get('q') ?? ''}
          onSearch={(q) => navigate({ q: q.trim() || undefined, offset: undefined })}
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
      </div>
      <Table<Entry>
        rowKey="id"
        size="small"
        dataSource={page.items}
        scroll={{ x: 900 }}
        locale={{ emptyText: t('queue.empty') }}
        pagination={{
          current: Math.floor(page.offset / page.limit) + 1,
          pageSize: page.limit,
          total: page.total,
          showSizeChanger: false,
          showTotal: (n) => t('common.total', { count: n }),
          onChange: (p) => navigate({ offset: String((p - 1) * page.limit) }),
        }}
        columns={[
          { title: t('queue.recipient'), dataIndex: 'recipient', ellipsis: true },
          { title: t('queue.sender'), dataIndex: 'sender', ellipsis: true, render: (v: string) => v || t('dashboard.nullSender') },
          { title: t('common.status'), dataIndex: 'status', width: 110, render: (v: string) => <StatusTag tone={v === 'deferred' ? 'bad' : 'info'}>{v === 'deferred' ? t('dashboard.deferred') : t('dashboard.queued')}</StatusTag> },
          { title: t('queue.attempts'), dataIndex: 'attempts', width: 90, align: 'right' },
          { title: t('queue.next'), dataIndex: 'nextAttemptAt', width: 150, render: (v: string) => v.slice(0, 19).replace('T', ' ') },
          { title: t('queue.lastError'), dataIndex: 'lastError', ellipsis: true },
        ]}
      />
    </>
  );
}
