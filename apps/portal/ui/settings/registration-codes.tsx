'use client';
/**
 * Registration codes (operators): issue a signed code binding a domain and maximum counts (the code is shown once),
 * see which are issued, redeemed (by which tenant, when), revoked or expired, and revoke one after confirming.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, DatePicker, Form, Input, InputNumber, Modal, Popconfirm, Select, Table, Typography } from 'antd';
import Link from 'next/link';
import { useFormatter, useTranslations } from 'next-intl';
import type { IssuedRegistrationCode, RegistrationCode } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { errorText } from '../errors';
import { StatusTag } from '../status-tag';
import { SecretShownOnce } from './secret-shown-once';
import { SettingsNav } from './settings-nav';

type Status = RegistrationCode['status'];
const STATUSES: Status[] = ['issued', 'redeemed', 'revoked', 'expired'];
const TONE: Record<Status, 'good' | 'bad' | 'info' | 'neutral'> = { issued: 'info', redeemed: 'good', revoked: 'bad', expired: 'neutral' };

interface IssueForm {
  domain: string;
  maxDomains: number;
  maxMailboxes: number;
  expiresAt?: { toISOString(): string } | null;
}

export function RegistrationCodes() {
  const t = useTranslations('opsSettings.codes');
  const tc = useTranslations('common');
  const format = useFormatter();
  const { message } = App.useApp();
  const [status, setStatus] = useState<Status | ''>('');
  const [items, setItems] = useState<RegistrationCode[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [issuing, setIssuing] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [issued, setIssued] = useState<IssuedRegistrationCode | null>(null);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<IssueForm>();
  const when = (iso: string | null) => (iso ? format.dateTime(new Date(iso), { dateStyle: 'medium', timeStyle: 'short' }) : '—');

  const reload = useCallback(async () => {
    try {
      setItems((await browserApi.registrationCodes.list({ status: status || undefined, limit: 500 })).items);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [status]);
  useEffect(() => void reload(), [reload]);

  const issue = async (v: IssueForm) => {
    setBusy(true);
    setFormError(null);
    try {
      const code = await browserApi.registrationCodes.issue({ domain: v.domain.trim(), maxDomains: v.maxDomains, maxMailboxes: v.maxMailboxes, expiresAt: v.expiresAt?.toISOString() });
      setIssued(code);
      setIssuing(false);
      await reload();
    } catch (e) {
      setFormError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (c: RegistrationCode) => {
    try {
      await browserApi.registrationCodes.revoke(c.id);
      message.success(t('revoked', { domain: c.domain }));
      await reload();
    } catch (e) {
      message.error(tc('error', { message: errorText(e) }));
    }
  };

  return (
    <>
      <SettingsNav />
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary" style={{ maxWidth: 820 }}>
        {t('intro')}
      </Typography.Paragraph>
      <div className="page-toolbar">
        <Select<Status | ''>
          aria-label={tc('status')}
          value={status}
          onChange={setStatus}
          style={{ width: 160 }}
          options={[{ value: '', label: t('anyStatus') }, ...STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))]}
        />
        <Button
          type="primary"
          onClick={() => {
            form.setFieldsValue({ domain: '', maxDomains: 1, maxMailboxes: 50, expiresAt: null });
            setFormError(null);
            setIssuing(true);
          }}
        >
          {t('issue')}
        </Button>
      </div>
      {issued && (
<SecretShownOnce title={t('issued', { domain: issued.domain })} secret={issued.code} onClose={() => setIssued(null)} testId="issued-code" />
      )}
      {error && <Alert type="error" showIcon title={tc('error', { message: error })} style={{ marginBottom: 8 }} />}
      <Table<RegistrationCode>
        rowKey="id"
        loading={items === null}
        dataSource={items ?? []}
        pagination={{ pageSize: 50, hideOnSinglePage: true, showTotal: (n) => tc('total', { count: n }) }}
        locale={{ emptyText: t('none') }}
        columns={[
          {
            title: t('code'),
            key: 'code',
            sorter: (a, b) => a.issuedAt.localeCompare(b.issuedAt),
            defaultSortOrder: 'descend',
            render: (_, c) => (
              <div style={{ minWidth: 0 }} data-testid={`code-${c.domain}`}>
                <div style={{ fontWeight: 500, overflowWrap: 'anywhere' }}>
                  {c.domain} <StatusTag tone={TONE[c.status]}>{t(`status.${c.status}`)}</StatusTag>
                </div>
                <div className="settings-help">
                  {t('limits', { domains: c.maxDomains, mailboxes: c.maxMailboxes })} · {t('issuedBy', { name: c.issuedBy, at: when(c.issuedAt) })}
                  {c.expiresAt && ` · ${t('expires', { at: when(c.expiresAt) })}`}
                  {c.redeemedAt && (
                    <>
                      {' · '}
                      {t('redeemedAt', { at: when(c.redeemedAt) })}
                      {c.tenantId && (
                        <>
                          {' '}
                          <Link href={`/ops/tenants/${c.tenantId}`}>{t('tenant')}</Link>
                        </>
                      )}
                    </>
                  )}
                  {c.revokedAt && ` · ${t('revokedAt', { at: when(c.revokedAt) })}`}
                </div>
              </div>
            ),
          },
          {
            title: tc('actions'),
            key: 'actions',
            width: 1,
            render: (_, c) =>
              c.status === 'issued' || c.status === 'redeemed' ? (
                <Popconfirm title={t(c.status === 'redeemed' ? 'revokeRedeemedConfirm' : 'revokeConfirm', { domain: c.domain })} okText={t('revoke')} cancelText={tc('cancel')} okButtonProps={{ danger: true }} onConfirm={() => revoke(c)}>
                  <Button size="small" danger aria-label={`${t('revoke')} ${c.domain}`}>
                    {t('revoke')}
                  </Button>
                </Popconfirm>
              ) : null,
          },
        ]}
      />
      <Modal title={t('issue')} open={issuing} onCancel={() => setIssuing(false)} onOk={() => form.submit()} okText={t('issue')} cancelText={tc('cancel')} confirmLoading={busy} forceRender>
        <Form form={form} layout="vertical" name="issue-code" onFinish={issue}>
          {formError && <Alert type="error" showIcon title={formError} style={{ marginBottom: 12 }} data-testid="code-error" />}
          <Form.Item name="domain" label={t('domain')} extra={t('domainHint')} rules={[{ required: true, whitespace: true, message: t('domainRequired') }]}>
            <Input autoComplete="off" placeholder="example.com" />
          </Form.Item>
          <Form.Item name="maxDomains" label={t('maxDomains')} rules={[{ required: true }]}>
            <InputNumber min={1} style={{ width: 200 }} />
          </Form.Item>
          <Form.Item name="maxMailboxes" label={t('maxMailboxes')} rules={[{ required: true }]}>
            <InputNumber min={1} style={{ width: 200 }} />
          </Form.Item>
          <Form.Item name="expiresAt" label={t('expiresAt')} extra={t('expiresHint')}>
            <DatePicker showTime style={{ width: 240 }} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
