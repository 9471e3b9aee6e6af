'use client';
/**
 * Import of contacts into a public address book from a CSV or vCard (3.0/4.0) file: choose the file, say what to do
 * with contacts already in the book, and read the per-row report the API returns (downloadable as CSV).
 */
import { useState } from 'react';
import { Alert, Button, Modal, Radio, Space, Table, Typography } from 'antd';
import { useTranslations } from 'next-intl';
import type { ContactImportReport } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { errorText } from '../errors';
import { StatusTag } from '../status-tag';

type Row = ContactImportReport['rows'][number];

const csvField = (v: string | number | null) => {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** vCard by its extension or its first line, CSV otherwise. */
export const contactFileFormat = (name: string, text: string): 'csv' | 'vcard' =>
  /\.(vcf|vcard)$/i.test(name) || /^\uFEFF?\s*BEGIN:VCARD/i.test(text) ? 'vcard' : 'csv';

export function ContactImport({ bookId, open, onClose, onImported }: { bookId: string; open: boolean; onClose: () => void; onImported: () => void }) {
  const t = useTranslations('domains.addressBook.import');
  const tc = useTranslations('common');
  const [file, setFile] = useState<{ name: string; text: string; format: 'csv' | 'vcard' } | null>(null);
  const [existing, setExisting] = useState<'skip' | 'update'>('skip');
  const [report, setReport] = useState<ContactImportReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const close = () => {
    setFile(null);
    setReport(null);
    setError(null);
    onClose();
  };

  const start = async () => {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const r = await browserApi.addressBooks.importContacts(bookId, { format: file.format, content: file.text, existing });
      setReport(r);
      onImported();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const download = () => {
    if (!report || !file) return;
    const out = ['line,email,name,outcome,reason', ...report.rows.map((r) => [r.line, r.email, r.displayName, r.status, r.message].map(csvField).join(','))];
    const url = URL.createObjectURL(new Blob([`\ufeff${out.join('\r\n')}\r\n`], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${file.name.replace(/\.[^.]*$/, '')}-import-report.csv`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    URL.revokeObjectURL(url);
  };

  return (
    <Modal
      title={t('title')}
      open={open}
      onCancel={close}
      width={760}
      footer={
        report ? (
          <Space>
            <Button onClick={download} data-testid="contact-import-download">
              {t('download')}
            </Button>
            <Button type="primary" onClick={close} data-testid="contact-import-close">
              {tc('close')}
            </Button>
          </Space>
        ) : (
          <Space>
            <Button onClick={close}>{tc('cancel')}</Button>
            <Button type="primary" disabled={!file} loading={busy} onClick={start} data-testid="contact-import-start">
              {t('start')}
            </Button>
          </Space>
        )
      }
    >
      {!report && (
        <>
          <Typography.Paragraph>{t('format')}</Typography.Paragraph>
          <Space wrap style={{ marginBottom: 12 }}>
            <label className="file-button">
              {t('choose')}
              <input
                type="file"
                accept=".csv,.vcf,.vcard,text/csv,text/vcard"
                className="visually-hidden"
                data-testid="contact-import-file"
                onChange={async (e) => {
                  const f = e.target.files?.[0];
                  setError(null);
                  if (!f) return setFile(null);
                  const text = await f.text();
                  setFile({ name: f.name, text, format: contactFileFormat(f.name, text) });
                }}
              />
            </label>
            {file && <span data-testid="contact-import-file-name">{t('chosen', { name: file.name, format: file.format === 'csv' ? 'CSV' : 'vCard' })}</span>}
          </Space>
          <Radio.Group value={existing} onChange={(e) => setExisting(e.target.value)} aria-label={t('existing')}>
            <Space direction="vertical">
              <Radio value="skip">{t('existingSkip')}</Radio>
              <Radio value="update">{t('existingUpdate')}</Radio>
            </Space>
          </Radio.Group>
        </>
      )}
      {error && <Alert type="error" showIcon title={tc('error', { message: error })} style={{ marginTop: 12 }} role="alert" />}
      {report && (
        <>
          <Alert
            type={report.failed > 0 ? 'warning' : 'success'}
            showIcon
            data-testid="contact-import-summary"
            title={t('summary', { created: report.created, updated: report.updated, skipped: report.skipped, failed: report.failed })}
            style={{ marginBottom: 12 }}
          />
          <Table<Row>
            rowKey="line"
            size="small"
            dataSource={report.rows}
            scroll={{ x: 600 }}
            pagination={{ pageSize: 20, hideOnSinglePage: true, showSizeChanger: false }}
            onRow={(r) => ({ 'data-line': r.line, 'data-testid': 'contact-import-row' }) as React.HTMLAttributes<HTMLElement>}
            columns={[
              { title: t('line'), dataIndex: 'line', width: 70, align: 'right', sorter: (a, b) => a.line - b.line },
              { title: t('contact'), key: 'contact', render: (_, r) => [r.displayName, r.email].filter(Boolean).join(' · ') || '—' },
              {
                title: t('outcome'),
                dataIndex: 'status',
                width: 110,
                filters: (['created', 'updated', 'skipped', 'failed'] as const).map((s) => ({ text: t(`outcome_${s}`), value: s })),
                onFilter: (v, r) => r.status === v,
                render: (s: Row['status']) => <StatusTag tone={s === 'failed' ? 'bad' : s === 'skipped' ? 'neutral' : 'good'}>{t(`outcome_${s}`)}</StatusTag>,
              },
              { title: t('reason'), dataIndex: 'message' },
            ]}
          />
        </>
      )}
    </Modal>
  );
}
