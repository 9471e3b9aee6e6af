'use client';
/** The domains the signed-in admin may manage (the API scopes the list), each leading to its mailboxes. */
import { Input, Table, Typography } from 'antd';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useFormatter, useTranslations } from 'next-intl';
import type { Domain, DomainPage } from '../../lib/api-client';
import { formatBytes } from '../format';
import { StatusTag } from '../status-tag';

export function DomainList({ page }: { page: DomainPage }) {
  const t = useTranslations();
  const format = useFormatter();
  const router = useRouter();
  const path = usePathname();
  const params = useSearchParams();
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('domains.title')}
      </Typography.Title>
      <div className="page-toolbar">
        <Input.Search
          style={{ maxWidth: 360 }}
          aria-label={t('common.search')}
          placeholder={t('domains.nameHint')}
          defaultValue={params.get('q') ?? ''}
          allowClear
          onSearch={(q) => router.push(q ? `${path}?q=${encodeURIComponent(q)}` : path)}
        />
      </div>
      <Table<Domain>
        rowKey="id"
        dataSource={page.items}
        scroll={{ x: 560 }}
        locale={{ emptyText: t('domains.none') }}
        pagination={{
          current: Math.floor(page.offset / page.limit) + 1,
          pageSize: page.limit,
          total: page.total,
          showTotal: (n) => t('common.total', { count: n }),
          onChange: (p, size) => {
            const next = new URLSearchParams(params.toString());
            next.set('offset', String((p - 1) * size));
            next.set('limit', String(size));
            router.push(`${path}?${next}`);
          },
        }}
        columns={[
          {
            title: t('domains.name'),
            dataIndex: 'unicodeName',
            sorter: (a, b) => a.name.localeCompare(b.name),
            render: (n: string, d) => (
              <>
                <Link href={`/admin/domains/${encodeURIComponent(d.name)}`}>{n}</Link> {d.isDefault && <StatusTag tone="neutral">{t('domains.default')}</StatusTag>}
              </>
            ),
          },
          { title: t('common.status'), dataIndex: 'status', render: (s: string) => <StatusTag tone={s === 'active' ? 'good' : 'bad'}>{s === 'active' ? t('common.active') : t('common.disabled')}</StatusTag> },
          { title: t('domains.mailboxes'), key: 'm', sorter: (a, b) => a.usage.mailboxes - b.usage.mailboxes, render: (_, d) => `${d.usage.mailboxes}${d.maxMailboxes !== null ? ` / ${d.maxMailboxes}` : ''}` },
          { title: t('domains.storage'), key: 's', sorter: (a, b) => a.usage.usedBytes - b.usage.usedBytes, render: (_, d) => formatBytes(d.usage.usedBytes, format) },
        ]}
      />
    </>
  );
}
