'use client';
/** The mail log, newest first, with the API's text and kind filters; a message id follows one message through. */
import { Input, Select, Typography } from 'antd';
import { useTranslations } from 'next-intl';
import type { MailLogPage } from '../../lib/api-client';
import { StatusTag } from '../status-tag';
import { PagedTable, useUrlFilters } from './paged-table';

type Entry = MailLogPage['items'][number];

export function MailLogTable({ page }: { page: MailLogPage }) {
  const t = useTranslations();
  const { params, navigate } = useUrlFilters();
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('mailLog.title')}
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
          aria-label={t('mailLog.kind')}
          style={{ width: 140 }}
          value={params.get('kind') ?? ''}
          onChange={(kind: string) => navigate({ kind: kind || undefined, offset: undefined })}
          options={[{ value: '', label: t('common.all') }, ...['session', 'delivery', 'outbound', 'bounce'].map((k) => ({ value: k, label: k }))]}
        />
      </div>
      <PagedTable<Entry>
        page={page}
        navigate={navigate}
        minWidth={900}
        columns={[
          { title: t('mailLog.at'), dataIndex: 'at', width: 150, render: (v: string) => v.slice(0, 19).replace('T', ' ') },
          { title: t('mailLog.kind'), dataIndex: 'kind', width: 90 },
          { title: t('mailLog.from'), dataIndex: 'mailFrom', ellipsis: true },
          { title: t('mailLog.to'), dataIndex: 'recipients', ellipsis: true, render: (r: string[]) => r.join(', ') },
          {
            title: t('mailLog.result'),
            dataIndex: 'result',
            width: 110,
            render: (v: string, e) => <StatusTag tone={e.level === 'error' ? 'bad' : e.level === 'warn' ? 'neutral' : 'good'}>{v}</StatusTag>,
          },
          { title: t('mailLog.reason'), dataIndex: 'reason', ellipsis: true },
          { title: t('mailLog.node'), dataIndex: 'node', width: 80 },
        ]}
      />
    </>
  );
}
