'use client';
/**
 * A domain's settings: what its admin may change (HELO name, self-registration, protocols, local-only, mailbox
 * quotas and sending limit) and, for tenant admins and operators, its limits and status (the default domain:
 * operators only). Only the fields the signed-in role may change are offered; the API's reasons show on the field.
 */
import { useState } from 'react';
import { Alert, App, Button, Card, Checkbox, Form, Input, InputNumber, Select, Typography } from 'antd';
import { useFormatter, useTranslations } from 'next-intl';
import type { Domain } from '../../lib/api-client';
import { ApiRequestError } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { errorText } from '../errors';
import { formatBytes, GB } from '../format';
import { DomainNav } from './domain-nav';

interface Values {
  heloName: string;
  allowRegistration: boolean;
  smtpEnabled: boolean;
  imapEnabled: boolean;
  pop3Enabled: boolean;
  localOnly: boolean;
  defaultQuotaGb: number;
  maxQuotaGb: number | null;
  mailboxDailySendLimit: number | null;
  status: Domain['status'];
  maxStorageGb: number | null;
  maxMailboxes: number | null;
  isDefault: boolean;
}

const gb = (bytes: number | null) => (bytes === null ? null : Math.round((bytes / GB) * 100) / 100);
const bytes = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * GB));

export function DomainSettings({ domain: initial, role }: { domain: Domain; role: string }) {
  const t = useTranslations('domains.settings');
  const tc = useTranslations('common');
  const format = useFormatter();
  const { message } = App.useApp();
  const [domain, setDomain] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [form] = Form.useForm<Values>();
  const mayLimit = role === 'tenant_admin' || role === 'operator';
  const mayDefault = role === 'operator';

  const save = async (v: Values) => {
    setSaving(true);
    setError(null);
    form.setFields(Object.keys(v).map((name) => ({ name: name as keyof Values, errors: [] })));
    try {
      const next = await browserApi.domains.update(domain.id, {
        heloName: v.heloName?.trim() || null,
        allowRegistration: v.allowRegistration,
        smtpEnabled: v.smtpEnabled,
        imapEnabled: v.imapEnabled,
        pop3Enabled: v.pop3Enabled,
        localOnly: v.localOnly,
        mailboxDefaultQuotaBytes: bytes(v.defaultQuotaGb) ?? 0,
        mailboxMaxQuotaBytes: bytes(v.maxQuotaGb),
        mailboxDailySendLimit: v.mailboxDailySendLimit ?? null,
        ...(mayLimit ? { status: v.status, maxStorageBytes: bytes(v.maxStorageGb), maxMailboxes: v.maxMailboxes ?? null } : {}),
        ...(mayDefault ? { isDefault: v.isDefault } : {}),
      });
      setDomain(next);
      message.success(tc('saved'));
    } catch (e) {
      // The API names the field: put its reason under the input that holds it.
      const field: Record<string, keyof Values> = {
        heloName: 'heloName', mailboxDefaultQuotaBytes: 'defaultQuotaGb', mailboxMaxQuotaBytes: 'maxQuotaGb', mailboxDailySendLimit: 'mailboxDailySendLimit',
        maxStorageBytes: 'maxStorageGb', maxMailboxes: 'maxMailboxes', status: 'status', isDefault: 'isDefault',
      };
      if (e instanceof ApiRequestError) {
        const list = e.body.errors ?? (e.body.field ? [{ field: e.body.field, message: e.message }] : []);
        form.setFields(list.filter((x) => field[x.field]).map((x) => ({ name: field[x.field], errors: [x.message] })));
      }
      setError(errorText(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <>
      <DomainNav domain={domain} />
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('title', { domain: domain.unicodeName })}
      </Typography.Title>
      <Typography.Paragraph type="secondary">
        {t('usage', { mailboxes: domain.usage.mailboxes, used: formatBytes(domain.usage.usedBytes, format), allocated: formatBytes(domain.usage.allocatedBytes, format) })}
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon title={t('invalid', { message: error })} style={{ marginBottom: 12 }} data-testid="domain-settings-error" />}
      <Form<Values>
        form={form}
        layout="vertical"
        name="domain-settings"
        onFinish={save}
        initialValues={{
          heloName: initial.heloName ?? '',
          allowRegistration: initial.allowRegistration,
          smtpEnabled: initial.smtpEnabled,
          imapEnabled: initial.imapEnabled,
          pop3Enabled: initial.pop3Enabled,
          localOnly: initial.localOnly,
          defaultQuotaGb: gb(initial.mailboxDefaultQuotaBytes) ?? 0,
          maxQuotaGb: gb(initial.mailboxMaxQuotaBytes),
          mailboxDailySendLimit: initial.mailboxDailySendLimit,
          status: initial.status,
          maxStorageGb: gb(initial.maxStorageBytes),
          maxMailboxes: initial.maxMailboxes,
          isDefault: initial.isDefault,
        }}
      >
        <div style={{ display: 'flex', flexWrap: 'wrap', gap: 16, alignItems: 'flex-start' }}>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('mail')}</h2>} style={{ flex: '1 1 340px', minWidth: 0 }}>
            <Form.Item name="heloName" label={t('heloName')} extra={t('heloHint')}>
              <Input autoComplete="off" placeholder="mail.example.com" />
            </Form.Item>
            <Form.Item name="smtpEnabled" valuePropName="checked" style={{ marginBottom: 4 }}>
              <Checkbox>{t('smtp')}</Checkbox>
            </Form.Item>
            <Form.Item name="imapEnabled" valuePropName="checked" style={{ marginBottom: 4 }}>
              <Checkbox>{t('imap')}</Checkbox>
            </Form.Item>
            <Form.Item name="pop3Enabled" valuePropName="checked" style={{ marginBottom: 4 }}>
              <Checkbox>{t('pop3')}</Checkbox>
            </Form.Item>
            <Form.Item name="localOnly" valuePropName="checked" extra={t('localOnlyHint')} style={{ marginBottom: 12 }}>
              <Checkbox>{t('localOnly')}</Checkbox>
            </Form.Item>
            <Form.Item name="allowRegistration" valuePropName="checked" extra={t('registrationHint')}>
              <Checkbox>{t('registration')}</Checkbox>
            </Form.Item>
          </Card>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('mailboxes')}</h2>} style={{ flex: '1 1 340px', minWidth: 0 }}>
            <Form.Item name="defaultQuotaGb" label={t('defaultQuota')} extra={t('defaultQuotaHint')} rules={[{ required: true, message: t('defaultQuotaRequired') }]}>
              <InputNumber min={0} step={0.5} style={{ width: 200 }} />
            </Form.Item>
            <Form.Item name="maxQuotaGb" label={t('maxQuota')} extra={tc('unlimitedHint')}>
              <InputNumber min={0} step={0.5} style={{ width: 200 }} />
            </Form.Item>
            <Form.Item name="mailboxDailySendLimit" label={t('dailySend')} extra={tc('unlimitedHint')}>
              <InputNumber min={0} step={100} style={{ width: 200 }} />
            </Form.Item>
          </Card>
          {mayLimit && (
            <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('limits')}</h2>} style={{ flex: '1 1 340px', minWidth: 0 }}>
              <Form.Item name="status" label={tc('status')} extra={t('statusHint')}>
                <Select
                  options={[
                    { value: 'active', label: tc('active') },
                    { value: 'disabled', label: tc('disabled') },
                  ]}
                  style={{ width: 200 }}
                />
              </Form.Item>
              <Form.Item name="maxMailboxes" label={t('maxMailboxes')} extra={tc('unlimitedHint')}>
                <InputNumber min={0} style={{ width: 200 }} />
              </Form.Item>
              <Form.Item name="maxStorageGb" label={t('maxStorage')} extra={tc('unlimitedHint')}>
                <InputNumber min={0} step={1} style={{ width: 200 }} />
              </Form.Item>
              {mayDefault && (
                <Form.Item name="isDefault" valuePropName="checked" extra={t('defaultHint')}>
                  <Checkbox>{t('isDefault')}</Checkbox>
                </Form.Item>
              )}
            </Card>
          )}
        </div>
        <Button type="primary" htmlType="submit" loading={saving} style={{ marginTop: 16 }}>
          {tc('save')}
        </Button>
      </Form>
    </>
  );
}
