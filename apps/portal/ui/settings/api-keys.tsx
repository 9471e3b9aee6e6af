'use client';
/**
 * API keys for machines (operators): create one for the whole installation or for one tenant (the secret is shown
 * once), see when each was last used, and revoke one after confirming (it stops working at once).
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, DatePicker, Form, Input, Modal, Popconfirm, Select, Table, Typography } from 'antd';
import { useFormatter, useTranslations } from 'next-intl';
import type { ApiKey, CreatedApiKey, Tenant } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { errorText } from '../errors';
import { StatusTag } from '../status-tag';
import { SecretShownOnce } from './secret-shown-once';
import { SettingsNav } from './settings-nav';

interface NewKey {
  name: string;
  role: ApiKey['role'];
  tenantId?: string;
  expiresAt?: { toISOString(): string } | null;
}

export function ApiKeys() {
  const t = useTranslations('opsSettings.apiKeys');
  const tc = useTranslations('common');
  const tr = useTranslations('roles');
  const format = useFormatter();
  const { message } = App.useApp();
  const [items, setItems] = useState<ApiKey[] | null>(null);
  const [tenants, setTenants] = useState<Tenant[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<NewKey>();
  const role = Form.useWatch('role', form);
  const when = (iso: string | null) => (iso ? format.dateTime(new Date(iso), { dateStyle: 'medium', timeStyle: 'short' }) : '—');
  const tenantName = (id: string | null) => (id ? (tenants.find((x) => x.id === id)?.name ?? id) : '');

  const reload = useCallback(async () => {
    try {
      setItems((await browserApi.apiKeys.list({ limit: 500 })).items);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, []);
  useEffect(() => {
    void reload();
    browserApi.tenants.list({ limit: 500 }).then((p) => setTenants(p.items), () => setTenants([]));
  }, [reload]);

  const create = async (v: NewKey) => {
    setBusy(true);
    setFormError(null);
    try {
      const key = await browserApi.apiKeys.create({ name: v.name.trim(), role: v.role, tenantId: v.role === 'tenant_admin' ? v.tenantId : undefined, expiresAt: v.expiresAt?.toISOString() });
      setCreated(key);
      setCreating(false);
      await reload();
    } catch (e) {
      setFormError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (k: ApiKey) => {
    try {
      await browserApi.apiKeys.revoke(k.id);
      message.success(t('revoked', { name: k.name }));
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
        <Button
          type="primary"
          onClick={() => {
            form.setFieldsValue({ name: '', role: 'tenant_admin', tenantId: undefined, expiresAt: null });
            setFormError(null);
            setCreating(true);
          }}
        >
          {t('new')}
        </Button>
      </div>
      {created && (
<SecretShownOnce title={t('created', { name: created.name })} secret={created.key} onClose={() => setCreated(null)} testId="created-key" />
      )}
      {error && <Alert type="error" showIcon title={tc('error', { message: error })} style={{ marginBottom: 8 }} />}
      <Table<ApiKey>
        rowKey="id"
        loading={items === null}
        dataSource={items ?? []}
        pagination={{ pageSize: 50, hideOnSinglePage: true, showTotal: (n) => tc('total', { count: n }) }}
        locale={{ emptyText: t('none') }}
        columns={[
          {
            title: t('key'),
            key: 'key',
            sorter: (a, b) => a.name.localeCompare(b.name),
            render: (_, k) => (
              <div style={{ minWidth: 0 }} data-testid={`key-${k.name}`}>
                <div style={{ fontWeight: 500, overflowWrap: 'anywhere' }}>
                  {k.name} <StatusTag tone={k.status === 'active' ? 'good' : 'neutral'}>{t(`status.${k.status}`)}</StatusTag>
                </div>
                <div className="settings-help">
                  <code>dzk_{k.prefix}_…</code> · {tr(k.role)}
                  {k.tenantId && ` (${tenantName(k.tenantId)})`} · {t('createdBy', { name: k.createdBy, at: when(k.createdAt) })} · {t('lastUsed', { at: when(k.lastUsedAt) })}
                  {k.expiresAt && ` · ${t('expires', { at: when(k.expiresAt) })}`}
                </div>
              </div>
            ),
          },
          {
            title: tc('actions'),
            key: 'actions',
            width: 1,
            render: (_, k) =>
              k.status === 'active' ? (
                <Popconfirm title={t('revokeConfirm', { name: k.name })} okText={t('revoke')} cancelText={tc('cancel')} okButtonProps={{ danger: true }} onConfirm={() => revoke(k)}>
                  <Button size="small" danger aria-label={`${t('revoke')} ${k.name}`}>
                    {t('revoke')}
                  </Button>
                </Popconfirm>
              ) : null,
          },
        ]}
      />
      <Modal title={t('new')} open={creating} onCancel={() => setCreating(false)} onOk={() => form.submit()} okText={tc('create')} cancelText={tc('cancel')} confirmLoading={busy} forceRender>
        <Form form={form} layout="vertical" name="new-key" onFinish={create}>
          {formError && <Alert type="error" showIcon title={formError} style={{ marginBottom: 12 }} data-testid="key-error" />}
          <Form.Item name="name" label={tc('name')} extra={t('nameHint')} rules={[{ required: true, whitespace: true, message: t('nameRequired') }]}>
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item name="role" label={tc('role')} extra={role === 'operator' ? t('operatorHint') : t('tenantHint')}>
            <Select options={(['tenant_admin', 'operator'] as const).map((r) => ({ value: r, label: tr(r) }))} />
          </Form.Item>
          <Form.Item name="tenantId" label={t('tenant')} hidden={role !== 'tenant_admin'} rules={[{ required: role === 'tenant_admin', message: t('tenantRequired') }]}>
            <Select showSearch={{ optionFilterProp: 'label' }} options={tenants.map((x) => ({ value: x.id, label: x.name }))} />
          </Form.Item>
          <Form.Item name="expiresAt" label={t('expiresAt')} extra={t('expiresHint')}>
            <DatePicker showTime style={{ width: 240 }} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
