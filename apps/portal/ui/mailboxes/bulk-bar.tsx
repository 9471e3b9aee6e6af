'use client';
/**
 * Actions on the selected mailboxes: suspend, resume, set the quota (one request per mailbox, a few at a time,
 * with progress and a report of what failed), and delete (one all-or-nothing request, after confirming).
 */
import { useState } from 'react';
import { Alert, App, Button, InputNumber, Modal, Popconfirm, Progress, Space, Typography } from 'antd';
import { useTranslations } from 'next-intl';
import type { Mailbox } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { errorText } from '../errors';
import { GB } from '../format';

/** Requests in flight at once: quick for a few hundred mailboxes without flooding the API. */
const PARALLEL = 6;

interface Failure {
  address: string;
  message: string;
}

/** Runs `work` over `list` with at most PARALLEL at once; reports each finished item. */
async function forEach<T>(list: T[], work: (item: T) => Promise<void>, onDone: () => void): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < list.length) {
      const item = list[next++];
      await work(item);
      onDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, list.length) }, lane));
}

export function BulkBar({
  selected,
  onChanged,
  onDeleted,
  onClear,
}: {
  selected: Mailbox[];
  onChanged: (changed: Mailbox[]) => void;
  onDeleted: (ids: string[]) => void;
  onClear: () => void;
}) {
  const t = useTranslations('mailboxes.bulk');
  const tc = useTranslations('common');
  const { message } = App.useApp();
  const [progress, setProgress] = useState<{ done: number; of: number } | null>(null);
  const [failures, setFailures] = useState<Failure[]>([]);
  const [quotaOpen, setQuotaOpen] = useState(false);
  const [quotaGb, setQuotaGb] = useState<number | null>(null);

  const run = async (targets: Mailbox[], change: (m: Mailbox) => Promise<Mailbox>) => {
    if (targets.length === 0) return message.info(t('nothingToDo'));
    const changed: Mailbox[] = [];
    const failed: Failure[] = [];
    setFailures([]);
    setProgress({ done: 0, of: targets.length });
    await forEach(
      targets,
      async (m) => {
        try {
          changed.push(await change(m));
        } catch (e) {
          failed.push({ address: m.address, message: errorText(e) });
        }
      },
      () => setProgress((p) => p && { ...p, done: p.done + 1 }),
    );
    onChanged(changed);
    setFailures(failed);
    setProgress(null);
    if (failed.length === 0) message.success(t('done', { count: changed.length }));
  };

  const busy = progress !== null;
  const active = selected.filter((m) => m.status === 'active');
  const suspended = selected.filter((m) => m.status === 'suspended');

  const remove = async () => {
    try {
      const result = await browserApi.mailboxes.removeMany(selected.map((m) => m.id));
      onDeleted(result.ids);
      message.success(t('deleted', { count: result.deleted }));
    } catch (e) {
      setFailures([{ address: t('all'), message: errorText(e) }]);
    }
  };

  return (
    <section className="bulk-bar" aria-label={t('label')} data-testid="bulk-bar">
      <Typography.Text strong aria-live="polite">
        {t('selected', { count: selected.length })}
      </Typography.Text>
      <Space wrap size={6}>
        <Popconfirm title={t('suspendConfirm', { count: active.length })} okText={t('suspend')} cancelText={tc('cancel')} onConfirm={() => run(active, (m) => browserApi.mailboxes.suspend(m.id))} disabled={busy}>
          <Button size="small" disabled={busy}>
            {t('suspend')}
          </Button>
        </Popconfirm>
        <Button size="small" disabled={busy} onClick={() => run(suspended, (m) => browserApi.mailboxes.resume(m.id))}>
          {t('resume')}
        </Button>
        <Button size="small" disabled={busy} onClick={() => setQuotaOpen(true)}>
          {t('quota')}
        </Button>
        <Popconfirm title={t('deleteConfirm', { count: selected.length })} description={t('deleteWarning')} okText={tc('delete')} cancelText={tc('cancel')} okButtonProps={{ danger: true }} onConfirm={remove} disabled={busy}>
          <Button size="small" danger disabled={busy}>
            {tc('delete')}
          </Button>
        </Popconfirm>
        <Button size="small" type="link" onClick={onClear} disabled={busy}>
          {t('clear')}
        </Button>
      </Space>
      {progress && (
        <Progress
          style={{ flex: '1 1 200px', margin: 0 }}
          percent={Math.round((progress.done / progress.of) * 100)}
          format={() => `${progress.done} / ${progress.of}`}
          aria-label={t('progress')}
          data-testid="bulk-progress"
        />
      )}
      {failures.length > 0 && (
        <Alert
          style={{ flex: '1 1 100%' }}
          type="error"
          showIcon
          closable
          onClose={() => setFailures([])}
          title={t('failed', { count: failures.length })}
          description={
            <ul style={{ margin: 0, paddingInlineStart: 18 }}>
              {failures.slice(0, 20).map((f) => (
                <li key={f.address}>
                  {f.address}: {f.message}
                </li>
              ))}
            </ul>
          }
          data-testid="bulk-failures"
        />
      )}
      <Modal
        title={t('quotaTitle', { count: selected.length })}
        open={quotaOpen}
        okText={tc('save')}
        cancelText={tc('cancel')}
        okButtonProps={{ disabled: quotaGb === null }}
        onCancel={() => setQuotaOpen(false)}
        onOk={() => {
          setQuotaOpen(false);
          const bytes = Math.round((quotaGb ?? 0) * GB);
          void run(selected, (m) => browserApi.mailboxes.update(m.id, { quotaBytes: bytes }));
        }}
      >
        <label htmlFor="bulk-quota" style={{ display: 'block', marginBottom: 4 }}>
          {t('quotaGb')}
        </label>
        <InputNumber id="bulk-quota" min={0} max={100_000} step={0.5} value={quotaGb} onChange={(v) => setQuotaGb(v)} style={{ width: 200 }} />
      </Modal>
    </section>
  );
}
