'use client';
/** A domain's DNS records: what to publish, and what the configured resolver answers for each (found, missing, wrong). */
import { useState } from 'react';
import { Alert, Button, Segmented, Table, Typography } from 'antd';
import { useFormatter, useTranslations } from 'next-intl';
import type { Domain, DomainDnsCheck } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { DomainNav } from '../domains/domain-nav';
import { errorText } from '../errors';
import { StatusTag } from '../status-tag';

type Checked = DomainDnsCheck['records'][number];

const TONE = { found: 'good', missing: 'bad', wrong: 'bad', error: 'neutral' } as const;

export function DnsCheckView({ domain, initial }: { domain: Domain; initial: DomainDnsCheck }) {
  const t = useTranslations('dns');
  const format = useFormatter();
  const [check, setCheck] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [only, setOnly] = useState<'all' | 'problems'>('all');

  const recheck = async () => {
    setBusy(true);
    try {
      setCheck(await browserApi.domains.checkDns(domain.name));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const count = (s: Checked['status']) => check.records.filter((r) => r.status === s).length;
  const problems = count('wrong') + count('missing');
  const rows = only === 'problems' ? check.records.filter((r) => r.status !== 'found') : check.records;

  return (
    <>
      <DomainNav domain={domain} />
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('heading', { domain: domain.unicodeName })}
      </Typography.Title>
      <Typography.Paragraph style={{ maxWidth: 820 }}>{t('intro')}</Typography.Paragraph>
      <div className="page-toolbar">
        <Button type="primary" onClick={recheck} loading={busy} data-testid="dns-recheck">
          {t('recheck')}
        </Button>
        <Segmented
          aria-label={t('show')}
          value={only}
          onChange={(v) => setOnly(v as 'all' | 'problems')}
          options={[
            { value: 'all', label: t('showAll') },
            { value: 'problems', label: t('showProblems') },
          ]}
        />
        <span data-testid="dns-checked-at">{t('checkedAt', { at: format.dateTime(new Date(check.checkedAt), { dateStyle: 'medium', timeStyle: 'medium' }) })}</span>
      </div>
      {error && <Alert type="error" showIcon title={t('failed', { message: error })} style={{ marginBottom: 16 }} />}
      <Alert
        data-testid="dns-summary"
        type={problems ? 'warning' : count('error') ? 'info' : 'success'}
        showIcon
        style={{ marginBottom: 16 }}
        title={
          problems || count('error')
            ? t('summary', { wrong: count('wrong'), missing: count('missing'), found: count('found'), error: count('error'), total: check.records.length })
            : t('allFound', { total: check.records.length })
        }
      />
      {/* On a phone each record is a card, so the value to set is never off-screen beside a scrolled table. */}
      <ul className="dns-cards" aria-label={t('title')}>
        {rows.map((r) => (
          <li key={`${r.type} ${r.name}`} data-card={`${r.type} ${r.name}`}>
            <div>
              <strong>{r.type}</strong> <code style={{ overflowWrap: 'anywhere' }}>{r.name}</code>{' '}
              <StatusTag tone={TONE[r.status]}>{t(`status_${r.status}`)}</StatusTag>
            </div>
            <div className="dns-card-note">{r.reason ? t(`reason.${r.reason}`) : t(`kind.${r.kind}`)}</div>
            <div className="dns-card-label">{t('valueToSet')}</div>
            <Typography.Text code copyable={{ text: r.value, tooltips: [t('copy'), t('copied')] }} style={{ overflowWrap: 'anywhere', wordBreak: 'break-all' }}>
              {r.value}
            </Typography.Text>
            <div className="dns-card-label">{t('found')}</div>
            {r.found.length ? (
              r.found.map((f) => (
                <div key={f}>
                  <code style={{ overflowWrap: 'anywhere', wordBreak: 'break-all' }}>{f}</code>
                </div>
              ))
            ) : (
              <div>{r.status === 'error' ? t('lookupFailed') : t('nothing')}</div>
            )}
          </li>
        ))}
      </ul>
      <Table<Checked>
        className="dns-table"
        rowKey={(r) => `${r.type} ${r.name}`}
        size="small"
        pagination={false}
        dataSource={rows}
        scroll={{ x: 960 }}
        onRow={(r) => ({ 'data-record': `${r.type} ${r.name}`, 'data-status': r.status }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: t('record'),
            key: 'record',
            width: 280,
            render: (_, r) => (
              <>
                <div>
                  <strong>{r.type}</strong> <code style={{ overflowWrap: 'anywhere' }}>{r.name}</code>
                </div>
                <div style={{ color: 'rgba(0,0,0,0.65)', fontSize: 12 }}>{t(`kind.${r.kind}`)}</div>
              </>
            ),
          },
          {
            title: t('status'),
            key: 'status',
            width: 200,
            render: (_, r) => (
              <>
                <StatusTag tone={TONE[r.status]} testId="dns-status">
                  {t(`status_${r.status}`)}
                </StatusTag>
                {r.reason && <div style={{ fontSize: 12, marginTop: 4 }}>{t(`reason.${r.reason}`)}</div>}
              </>
            ),
          },
          {
            title: t('valueToSet'),
            key: 'value',
            render: (_, r) => (
              <Typography.Text code copyable={{ text: r.value, tooltips: [t('copy'), t('copied')] }} style={{ overflowWrap: 'anywhere', wordBreak: 'break-all' }} data-testid="dns-value">
                {r.value}
              </Typography.Text>
            ),
          },
          {
            title: t('found'),
            key: 'found',
            width: 280,
            render: (_, r) =>
              r.found.length ? (
                <ul style={{ margin: 0, paddingInlineStart: 16 }} data-testid="dns-found">
                  {r.found.map((f) => (
                    <li key={f}>
                      <code style={{ overflowWrap: 'anywhere', wordBreak: 'break-all' }}>{f}</code>
                    </li>
                  ))}
                </ul>
              ) : (
                <span>{r.status === 'error' ? t('lookupFailed') : t('nothing')}</span>
              ),
          },
        ]}
      />
    </>
  );
}
