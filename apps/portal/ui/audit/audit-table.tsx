'use client';
/** The audit log: who did what to which object, from where, and the object before and after (expand a row). */
import { Input, Typography } from 'antd';
import { useTranslations } from 'next-intl';
import type { AuditPage } from '../../lib/api-client';
import { PagedTable, useUrlFilters } from '../logs/paged-table';

type Event = AuditPage['items'][number];

export function AuditTable({ page }: { page: AuditPage }) {
  const t = useTranslations();
  const { params, navigate } = useUrlFilters();
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
      <PagedTable<Event>
        page={page}
        navigate={navigate}
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
        columns={[
          { title: t('audit.at'), dataIndex: 'at', width: 160, render: (v: string) => v.slice(0, 19).replace('T', ' ') },
          { title: t('audit.actor'), key: 'actor', ellipsis: true, render: (_, e) => `${e.actor.name} (${t(`roles.${e.actor.role}`)})` },
          { title: t('audit.action'), dataIndex: 'action', width: 200, render: (v: string) => <code>{v}</code> },
          { title: t('audit.object'), key: 'object', ellipsis: true, render: (_, e) => `${e.objectType}${e.objectId ? ` ${e.objectId}` : ''}` },
          { title: t('audit.ip'), dataIndex: 'ip', width: 130, render: (v: string | null) => v ?? '—' },
        ]}
      />
    </>
  );
}
