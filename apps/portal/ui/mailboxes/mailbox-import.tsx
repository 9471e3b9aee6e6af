'use client';
/**
 * CSV import of a domain's mailboxes: choose a file, see its first lines, start the import job, watch its
 * progress (the job's own count of rows read), then the per-row report of what failed and why, downloadable.
 */
import { useEffect, useRef, useState } from 'react';
import { Alert, Button, Progress, Segmented, Table, Typography } from 'antd';
import { useTranslations } from 'next-intl';
import type { Domain, ImportJob, ImportRowPage } from '../../lib/api-client';
import { browserApi, startMailboxImport } from '../../lib/browser-api';
import { DomainNav } from '../domains/domain-nav';
import { errorText } from '../errors';
import { StatusTag } from '../status-tag';

type Row = ImportRowPage['items'][number];
type Outcome = '' | Row['outcome'];

const PREVIEW_LINES = 8;
const POLL_MS = 300;
const REPORT_PAGE = 500;

/** Data lines of the file: blank lines and a header row (`address,…`) do not count, as the API reads it. */
function dataLines(text: string): string[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.length && /^\s*"?address"?\s*(,|$)/i.test(lines[0]) ? lines.slice(1) : lines;
}

/** A CSV field, quoted when it must be (RFC 4180); formula-looking cells are neutralised for spreadsheets. */
function csvField(v: string | number): string {
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function MailboxImport({ domain }: { domain: Domain }) {
  const t = useTranslations('import');
  const [file, setFile] = useState<{ name: string; text: string } | null>(null);
  const [job, setJob] = useState<ImportJob | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>('failed');
  const [report, setReport] = useState<ImportRowPage | null>(null);
  const [reportOffset, setReportOffset] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const lines = file ? dataLines(file.text) : [];
  const total = lines.length;
  const finished = job !== null && job.status !== 'running';

  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);

  const follow = (jobId: string) => {
    const tick = async () => {
      try {
        const j = await browserApi.imports.get(jobId);
        setJob(j);
        if (j.status === 'running') timer.current = setTimeout(tick, POLL_MS);
      } catch (e) {
        setError(errorText(e));
      }
    };
    void tick();
  };

  useEffect(() => {
    if (!job || job.status !== 'done') return;
    let stale = false;
    browserApi.imports
      .rows(job.id, { outcome: outcome || undefined, offset: reportOffset, limit: 50 })
      .then((page) => !stale && setReport(page))
      .catch((e) => !stale && setError(errorText(e)));
    return () => void (stale = true);
  }, [job, outcome, reportOffset]);

  const start = async () => {
    if (!file) return;
    setStarting(true);
    setError(null);
    setReport(null);
    setJob(null);
    try {
      follow(await startMailboxImport(domain.name, file.text));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setStarting(false);
    }
  };

  const download = async () => {
    if (!job) return;
    const out = ['line,address,outcome,reason'];
    for (let offset = 0; ; offset += REPORT_PAGE) {
      const page = await browserApi.imports.rows(job.id, { offset, limit: REPORT_PAGE });
      for (const r of page.items) out.push([r.line, r.address, r.outcome, r.reason].map(csvField).join(','));
      if (offset + REPORT_PAGE >= page.total) break;
    }
    const url = URL.createObjectURL(new Blob([`${out.join('\r\n')}\r\n`], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `import-report-${domain.name}-${job.id.slice(0, 8)}.csv`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    URL.revokeObjectURL(url);
  };

  const processed = job?.processed ?? 0;
  const percent = total ? Math.min(100, Math.floor((processed / total) * 100)) : 0;

  return (
    <>
      <DomainNav domain={domain} />
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('title', { domain: domain.unicodeName })}
      </Typography.Title>
      <Typography.Paragraph style={{ maxWidth: 820 }}>{t('format')}</Typography.Paragraph>
      <div className="page-toolbar">
        <label className="file-button">
          {t('choose')}
          <input
            type="file"
            accept=".csv,text/csv"
            className="visually-hidden"
            data-testid="import-file"
            onChange={async (e) => {
              const f = e.target.files?.[0];
              setJob(null);
              setReport(null);
              setError(null);
              setFile(f ? { name: f.name, text: await f.text() } : null);
            }}
          />
        </label>
        {file && <span data-testid="import-file-name">{t('chosen', { name: file.name, rows: total })}</span>}
        <Button type="primary" disabled={!file || !total || job?.status === 'running'} loading={starting} onClick={start} data-testid="import-start">
          {t('start')}
        </Button>
      </div>
      {error && <Alert type="error" showIcon title={t('failed', { message: error })} style={{ marginBottom: 16 }} role="alert" />}
      {file && !job && (
        <section aria-label={t('preview')}>
          <Typography.Title level={2} style={{ fontSize: 16 }}>
            {t('previewOf', { shown: Math.min(PREVIEW_LINES, total), rows: total })}
          </Typography.Title>
          <pre className="csv-preview" data-testid="import-preview">
            {lines.slice(0, PREVIEW_LINES).join('\n')}
          </pre>
        </section>
      )}
      {job && (
        <section aria-label={t('progress')} style={{ marginBottom: 16 }}>
          <Progress
            percent={finished && job.status === 'done' ? 100 : percent}
            status={job.status === 'done' ? 'success' : job.status === 'running' ? 'active' : 'exception'}
            aria-label={t('progress')}
            data-testid="import-progress"
            data-processed={processed}
            data-total={total}
            data-status={job.status}
          />
          <div data-testid="import-counts" role="status">
            {job.status === 'running'
              ? t('running', { processed, total })
              : job.status === 'done'
                ? t('done', { created: job.created, skipped: job.skipped, failed: job.failed })
                : t('stopped', { error: job.error ?? job.status })}
          </div>
        </section>
      )}
      {job?.status === 'done' && (
        <section aria-label={t('report')}>
          <div className="page-toolbar">
            <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
              {t('report')}
            </Typography.Title>
            <Segmented
              aria-label={t('show')}
              value={outcome}
              onChange={(v) => {
                setOutcome(v as Outcome);
                setReportOffset(0);
              }}
              options={[
                { value: 'failed', label: t('outcome_failed') },
                { value: 'skipped', label: t('outcome_skipped') },
                { value: 'created', label: t('outcome_created') },
                { value: '', label: t('allRows') },
              ]}
            />
            <Button onClick={download} data-testid="import-download">
              {t('download')}
            </Button>
          </div>
          <Table<Row>
            rowKey="line"
            size="small"
            dataSource={report?.items ?? []}
            loading={!report}
            locale={{ emptyText: t('noRows') }}
            scroll={{ x: 640 }}
            onRow={(r) => ({ 'data-line': r.line }) as React.HTMLAttributes<HTMLElement>}
            pagination={{
              current: Math.floor(reportOffset / 50) + 1,
              pageSize: 50,
              total: report?.total ?? 0,
              showSizeChanger: false,
              onChange: (p) => setReportOffset((p - 1) * 50),
            }}
            columns={[
              { title: t('line'), dataIndex: 'line', width: 80, align: 'right' },
              { title: t('address'), dataIndex: 'address', ellipsis: true },
              {
                title: t('outcome'),
                dataIndex: 'outcome',
                width: 120,
                render: (o: Row['outcome']) => <StatusTag tone={o === 'created' ? 'good' : o === 'failed' ? 'bad' : 'neutral'}>{t(`outcome_${o}`)}</StatusTag>,
              },
              { title: t('reason'), dataIndex: 'reason' },
            ]}
          />
        </section>
      )}
    </>
  );
}
