'use client';
/** The mail nodes from their heartbeats: up or silent, roles, open connections per protocol; refreshes itself. */
import { useEffect } from 'react';
import { Space, Table, Typography } from 'antd';
import { useRouter } from 'next/navigation';
import { useTranslations } from 'next-intl';
import type { NodeList } from '../../lib/api-client';
import { StatusTag } from '../status-tag';

type Node = NodeList['items'][number];
const PROTOCOLS = ['smtp', 'imap', 'pop3'] as const;
const time = (v: string) => v.slice(0, 19).replace('T', ' ');

export function NodeTable({ list }: { list: NodeList }) {
  const t = useTranslations('nodes');
  const router = useRouter();
  // The page follows the heartbeats: re-read them as often as nodes write them.
  useEffect(() => {
    const timer = setInterval(() => router.refresh(), list.heartbeatSeconds * 1000);
    return () => clearInterval(timer);
  }, [router, list.heartbeatSeconds]);
  const up = list.items.filter((n) => n.status === 'up').length;
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('title')}
      </Typography.Title>
      <Typography.Paragraph data-testid="nodes-summary">{t('summary', { up, total: list.items.length, seconds: list.heartbeatSeconds })}</Typography.Paragraph>
      <div style={{ overflowX: 'auto' }}>
        <Table<Node>
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={list.items}
          locale={{ emptyText: t('none') }}
          onRow={(n) => ({ 'data-node': n.name, 'data-status': n.status }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            { title: t('name'), dataIndex: 'name', render: (v: string, n) => <span title={n.id}>{v}</span> },
            { title: t('status'), dataIndex: 'status', width: 100, render: (s: Node['status']) => <StatusTag tone={s === 'up' ? 'good' : 'bad'}>{t(`status_${s}`)}</StatusTag> },
            {
              title: t('roles'),
              dataIndex: 'roles',
              render: (roles: string[]) => (
                <Space size={4} wrap>
                  {roles.map((r) => (
                    <StatusTag key={r} tone="info">
                      {t(`role_${r}` as 'role_smtp')}
                    </StatusTag>
                  ))}
                </Space>
              ),
            },
            ...PROTOCOLS.map((p) => ({
              title: t(`connections_${p}`),
              key: p,
              width: 110,
              align: 'right' as const,
              render: (_: unknown, n: Node) => <span data-testid={`connections-${p}`}>{n.connections[p] ?? 0}</span>,
            })),
            { title: t('started'), dataIndex: 'startedAt', width: 160, render: time },
            { title: t('lastSeen'), dataIndex: 'lastSeenAt', width: 160, render: time },
          ]}
        />
      </div>
    </>
  );
}
