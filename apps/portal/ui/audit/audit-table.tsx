'use client';
/** The audit log: who did what to which object, from where, and the object before and after (expand a row). */
import { Input, Table, Typography } from 'antd';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useTranslations } from 'next-intl';
import type { AuditPage } from '../../lib/api-client';

type Event = AuditPage['items'][number];

export function AuditTable({ page }: { page: AuditPage }) {
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
        {t('audit.title')}
      </Typography.Title>
      <div className="page-toolbar">
        <Input.Search
          style={{ maxWidth: 280 }}
          allowClear
          aria-label={t('audit.actionFilter')}
          placeholder={t('audit.actionHint')}
          defaultValue={params.get('action') ?? ''}
          onSearch={(v) => navigate({ action: v.trim() || undefined, offset: undefined })}
        />
        <Input.Search
          style={{ maxWidth: 280 }}
          allowClear
          aria-label={t('audit.actorFilter')}
          placeholder={t('audit.actorFilter')}
          defaultValue={params.get('actor') ?? ''}
          onSearch={(v) => navigate({ actor: v.trim() || undefined, offset: undefined })}
        />
      </div>
      {/* Wide tables scroll in this box: antd's own scroll.x adds an aria-hidden row holding focusable checkboxes. */}
      <div style={{ overflowX: 'auto' }}>
      <Table<Event>
        rowKey="id"
        size="small"
        dataSource={page.items}
        locale={{ emptyText: t('audit.empty') }}
        onRow={(e) => ({ 'data-action': e.action }) as React.HTMLAttributes<HTMLElement>}
        expandable={{
          rowExpandable: (e) => !!(e.before || e.after),
          expandedRowRender: (e) => (
            <div className="audit-change">
              <div>
                <strong>{t('audit.before')}</strong>
                <pre>{e.before ? JSON.stringify(e.before, null, 2) : '—'}</pre>
              </div>
              <div>
                <strong>{t('audit.after')}</strong>
                <pre>{e.after ? JSON.stringify(e.after, null, 2) : '—'}</pre>
              </div>
            </div>
          ),
        }}
        pagination={{
          current: Math.floor(page.offset / page.limit) + 1,
          pageSize: page.limit,
          total: page.total,
          showSizeChanger: false,
          showTotal: (n) => t('common.total', { count: n }),
          onChange: (p) => navigate({ offset: String((p - 1) * page.limit) }),
        }}
        columns={[
          { title: t('audit.at'), dataIndex: 'at', width: 160, render: (v: string) => v.slice(0, 19).replace('T', ' ') },
          { title: t('audit.actor'), key: 'actor', ellipsis: true, render: (_, e) => `${e.actor.name} (${t(`roles.${e.actor.role}`)})` },
          { title: t('audit.action'), dataIndex: 'action', width: 200, render: (v: string) => <code>{v}</code> },
          { title: t('audit.object'), key: 'object', ellipsis: true, render: (_, e) => `${e.objectType}${e.objectId ? ` ${e.objectId}` : ''}` },
          { title: t('audit.ip'), dataIndex: 'ip', width: 130, render: (v: string | null) => v ?? '—' },
        ]}
      />
      </div>
    </>
  );
}
