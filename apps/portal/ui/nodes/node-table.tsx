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
            // On a phone one column tells it all (the table used to scroll sideways there); wider screens get the full table.
            {
              title: t('name'),
              key: 'phone',
              responsive: ['xs'],
              render: (_: unknown, n: Node) => (
                <div style={{ minWidth: 0, overflowWrap: 'anywhere' }}>
                  <div style={{ fontWeight: 500 }}>
                    {n.name} <StatusTag tone={n.status === 'up' ? 'good' : 'bad'}>{t(`status_${n.status}`)}</StatusTag>
                  </div>
                  <Space size={4} wrap style={{ margin: '4px 0' }}>
                    {n.roles.map((r) => (
                      <StatusTag key={r} tone="info">
                        {t(`role_${r}` as 'role_smtp')}
                      </StatusTag>
                    ))}
                  </Space>
                  <div style={{ fontSize: 12 }}>{PROTOCOLS.map((p) => `${t(`connections_${p}`)}: ${n.connections[p] ?? 0}`).join(' · ')}</div>
                  <div style={{ fontSize: 12 }}>
                    {t('lastSeen')}: {time(n.lastSeenAt)}
                  </div>
                </div>
              ),
            },
            { title: t('name'), dataIndex: 'name', responsive: ['sm'], render: (v: string, n) => <span title={n.id}>{v}</span> },
            { title: t('status'), dataIndex: 'status', width: 100, responsive: ['sm'], render: (s: Node['status']) => <StatusTag tone={s === 'up' ? 'good' : 'bad'}>{t(`status_${s}`)}</StatusTag> },
            {
              title: t('roles'),
              dataIndex: 'roles',
              responsive: ['sm'],
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
              responsive: ['sm' as const],
              align: 'right' as const,
              render: (_: unknown, n: Node) => <span data-testid={`connections-${p}`}>{n.connections[p] ?? 0}</span>,
            })),
            { title: t('started'), dataIndex: 'startedAt', width: 160, responsive: ['md'], render: time },
            { title: t('lastSeen'), dataIndex: 'lastSeenAt', width: 160, responsive: ['sm'], render: time },
          ]}
        />
      </div>
    </>
  );
}
