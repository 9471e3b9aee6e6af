'use client';
/** Tenants: search, usage against limits at a glance, and creating one with its plan and limits. */
import { useState } from 'react';
import { App, Button, Form, Input, InputNumber, Modal, Progress, Select, Table, Typography } from 'antd';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useFormatter, useTranslations } from 'next-intl';
import type { Tenant, TenantPage } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { errorText } from '../errors';
import { formatBytes, GB } from '../format';
import { StatusTag } from '../status-tag';

interface CreateValues {
  name: string;
  plan: string;
  maxDomains?: number | null;
  maxMailboxes?: number | null;
  maxStorageGb?: number | null;
}

export function usageBar(used: number, limit: number | null, label: string) {
  if (!limit) return null;
  return <Progress percent={Math.min(100, Math.round((used / limit) * 1000) / 10)} size="small" status={used >= limit ? 'exception' : 'normal'} aria-label={label} />;
}

export function TenantList({ page }: { page: TenantPage }) {
  const t = useTranslations();
  const format = useFormatter();
  const router = useRouter();
  const path = usePathname();
  const params = useSearchParams();
  const { message } = App.useApp();
  const [creating, setCreating] = useState(false);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<CreateValues>();

  const navigate = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params.toString());
    for (const [k, v] of Object.entries(changes)) if (v) next.set(k, v); else next.delete(k);
    router.push(`${path}?${next.toString()}`);
  };

  const create = async (v: CreateValues) => {
    setBusy(true);
    try {
      const tenant = await browserApi.tenants.create({
        name: v.name,
        plan: v.plan || 'standard',
        maxDomains: v.maxDomains ?? null,
        maxMailboxes: v.maxMailboxes ?? null,
        maxStorageBytes: v.maxStorageGb ? Math.round(v.maxStorageGb * GB) : null,
      });
      message.success(t('tenants.created', { name: tenant.name }));
      setCreating(false);
      form.resetFields();
      router.push(`/ops/tenants/${tenant.id}`);
    } catch (e) {
      message.error(t('common.error', { message: errorText(e) }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('tenants.title')}
      </Typography.Title>
      <div className="page-toolbar">
        <Input.Search
          className="grow"
          style={{ maxWidth: 360 }}
          aria-label={t('tenants.searchPlaceholder')}
          placeholder={t('tenants.searchPlaceholder')}
          defaultValue={params.get('q') ?? ''}
          allowClear
          onSearch={(q) => navigate({ q: q || undefined, offset: undefined })}
        />
        <Select
          aria-label={t('common.status')}
          value={params.get('status') ?? ''}
          style={{ width: 140 }}
          onChange={(s: string) => navigate({ status: s || undefined, offset: undefined })}
          options={[
            { value: '', label: t('common.all') },
            { value: 'active', label: t('common.active') },
            { value: 'suspended', label: t('common.suspended') },
          ]}
        />
        <Button type="primary" onClick={() => setCreating(true)}>
          {t('tenants.new')}
        </Button>
      </div>
      <Table<Tenant>
        rowKey="id"
        dataSource={page.items}
        scroll={{ x: 720 }}
        pagination={{
          current: Math.floor(page.offset / page.limit) + 1,
          pageSize: page.limit,
          total: page.total,
          showTotal: (n) => t('common.total', { count: n }),
          onChange: (p, size) => navigate({ offset: String((p - 1) * size), limit: String(size) }),
        }}
        columns={[
          { title: t('common.name'), dataIndex: 'name', render: (name: string, r) => <Link href={`/ops/tenants/${r.id}`}>{name}</Link>, sorter: (a, b) => a.name.localeCompare(b.name) },
          { title: t('tenants.plan'), dataIndex: 'plan' },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (s: string) => <StatusTag tone={s === 'active' ? 'good' : 'bad'}>{s === 'active' ? t('common.active') : t('common.suspended')}</StatusTag>,
          },
          {
            title: t('tenants.domains'),
            key: 'domains',
            render: (_, r) => (
              <>
                {t('tenants.of', { used: r.usage.domains, limit: r.maxDomains ?? t('common.noLimit') })}
                {usageBar(r.usage.domains, r.maxDomains, `${r.name} ${t('tenants.domains')}`)}
              </>
            ),
          },
          {
            title: t('tenants.mailboxes'),
            key: 'mailboxes',
            render: (_, r) => (
              <>
                {t('tenants.of', { used: r.usage.mailboxes, limit: r.maxMailboxes ?? t('common.noLimit') })}
                {usageBar(r.usage.mailboxes, r.maxMailboxes, `${r.name} ${t('tenants.mailboxes')}`)}
              </>
            ),
          },
          {
            title: t('tenants.storage'),
            key: 'storage',
            render: (_, r) => (
              <>
                {t('tenants.of', { used: formatBytes(r.usage.storageBytes, format), limit: r.maxStorageBytes ? formatBytes(r.maxStorageBytes, format) : t('common.noLimit') })}
                {usageBar(r.usage.storageBytes, r.maxStorageBytes, `${r.name} ${t('tenants.storage')}`)}
              </>
            ),
          },
        ]}
      />
      <Modal title={t('tenants.new')} open={creating} onCancel={() => setCreating(false)} onOk={() => form.submit()} okText={t('common.create')} cancelText={t('common.cancel')} confirmLoading={busy} forceRender>
        <Form form={form} layout="vertical" onFinish={create} initialValues={{ plan: 'standard' }} name="create-tenant">
          <Form.Item name="name" label={t('common.name')} rules={[{ required: true, whitespace: true, message: t('tenants.nameRequired') }]}>
            <Input autoFocus />
          </Form.Item>
          <Form.Item name="plan" label={t('tenants.plan')}>
            <Input />
          </Form.Item>
          <Form.Item name="maxDomains" label={t('tenants.maxDomains')} extra={t('common.unlimitedHint')}>
            <InputNumber min={0} precision={0} style={{ width: '100%' }} />
          </Form.Item>
          <Form.Item name="maxMailboxes" label={t('tenants.maxMailboxes')} extra={t('common.unlimitedHint')}>
            <InputNumber min={0} precision={0} style={{ width: '100%' }} />
          </Form.Item>
          <Form.Item name="maxStorageGb" label={t('tenants.maxStorage')} extra={t('common.unlimitedHint')}>
            <InputNumber min={0} style={{ width: '100%' }} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
