'use client';
/** One tenant: usage against limits, plan and limits, its domains, suspend/resume (with what that does to mail), delete. */
import { useState } from 'react';
import { Alert, App, Button, Card, Col, Descriptions, Form, Input, InputNumber, Modal, Row, Space, Table, Typography } from 'antd';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useFormatter, useTranslations } from 'next-intl';
import type { Domain, Tenant } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { errorText } from '../errors';
import { formatBytes, GB } from '../format';
import { usageBar } from './tenant-list';
import { StatusTag } from '../status-tag';

interface LimitValues {
  plan: string;
  maxDomains: number | null;
  maxMailboxes: number | null;
  maxStorageGb: number | null;
}

export function TenantDetail({ tenant, domains }: { tenant: Tenant; domains: Domain[] }) {
  const t = useTranslations();
  const format = useFormatter();
  const router = useRouter();
  const { message, modal } = App.useApp();
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [confirmName, setConfirmName] = useState('');
  const [domainForm] = Form.useForm<{ name: string }>();

  const run = async (action: () => Promise<unknown>, done: string) => {
    setBusy(true);
    try {
      await action();
      message.success(done);
      router.refresh();
      return true;
    } catch (e) {
      message.error(t('common.error', { message: errorText(e) }));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const saveLimits = (v: LimitValues) =>
    run(
      () =>
        browserApi.tenants.update(tenant.id, {
          plan: v.plan,
          maxDomains: v.maxDomains ?? null,
          maxMailboxes: v.maxMailboxes ?? null,
          maxStorageBytes: v.maxStorageGb ? Math.round(v.maxStorageGb * GB) : null,
        }),
      t('tenants.limitsSaved'),
    );

  const suspended = tenant.status === 'suspended';
  const toggle = () =>
    modal.confirm({
      title: suspended ? t('tenants.resume') : t('tenants.suspend'),
      content: suspended ? t('tenants.resumeExplain', { name: tenant.name }) : t('tenants.suspendExplain', { name: tenant.name }),
      okText: suspended ? t('tenants.resume') : t('tenants.suspend'),
      okButtonProps: { danger: !suspended },
      cancelText: t('common.cancel'),
      onOk: () => run(() => (suspended ? browserApi.tenants.resume(tenant.id) : browserApi.tenants.suspend(tenant.id)), suspended ? t('tenants.resumed') : t('tenants.suspended')),
    });

  const remove = async () => {
    if (await run(() => browserApi.tenants.remove(tenant.id, confirmName), t('tenants.deleted'))) router.push('/ops/tenants');
  };

  const addDomain = async (v: { name: string }) => {
    if (await run(() => browserApi.domains.create({ name: v.name.trim(), tenantId: tenant.id }), t('domains.created', { name: v.name.trim() }))) domainForm.resetFields();
  };

  return (
    <>
      <Space align="center" wrap style={{ marginBottom: 8 }}>
        <Link href="/ops/tenants">← {t('tenants.title')}</Link>
      </Space>
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {tenant.name}{' '}
        <StatusTag tone={suspended ? 'bad' : 'good'} testId="tenant-status">
          {suspended ? t('common.suspended') : t('common.active')}
        </StatusTag>
      </Typography.Title>
      {suspended && <Alert type="warning" showIcon title={t('tenants.suspended')} style={{ marginBottom: 16 }} />}
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={12}>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('tenants.usage')}</h2>}>
            <Descriptions column={1} size="small">
              <Descriptions.Item label={t('tenants.domains')}>
                <div style={{ width: '100%' }}>
                  {t('tenants.of', { used: tenant.usage.domains, limit: tenant.maxDomains ?? t('common.noLimit') })}
                  {usageBar(tenant.usage.domains, tenant.maxDomains, t('tenants.domains'))}
                </div>
              </Descriptions.Item>
              <Descriptions.Item label={t('tenants.mailboxes')}>
                <div style={{ width: '100%' }}>
                  {t('tenants.of', { used: tenant.usage.mailboxes, limit: tenant.maxMailboxes ?? t('common.noLimit') })}
                  {usageBar(tenant.usage.mailboxes, tenant.maxMailboxes, t('tenants.mailboxes'))}
                </div>
              </Descriptions.Item>
              <Descriptions.Item label={t('tenants.storage')}>
                <div style={{ width: '100%' }}>
                  {t('tenants.of', { used: formatBytes(tenant.usage.storageBytes, format), limit: tenant.maxStorageBytes ? formatBytes(tenant.maxStorageBytes, format) : t('common.noLimit') })}
                  {usageBar(tenant.usage.storageBytes, tenant.maxStorageBytes, t('tenants.storage'))}
                </div>
              </Descriptions.Item>
            </Descriptions>
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('tenants.limits')}</h2>}>
            <Form<LimitValues>
              layout="vertical"
              name="tenant-limits"
              onFinish={saveLimits}
              initialValues={{ plan: tenant.plan, maxDomains: tenant.maxDomains, maxMailboxes: tenant.maxMailboxes, maxStorageGb: tenant.maxStorageBytes === null ? null : tenant.maxStorageBytes / GB }}
            >
              <Form.Item name="plan" label={t('tenants.plan')} rules={[{ required: true }]}>
                <Input />
              </Form.Item>
              <Row gutter={8}>
                <Col xs={24} sm={8}>
                  <Form.Item name="maxDomains" label={t('tenants.maxDomains')}>
                    <InputNumber min={0} precision={0} style={{ width: '100%' }} placeholder={t('common.noLimit')} />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={8}>
                  <Form.Item name="maxMailboxes" label={t('tenants.maxMailboxes')}>
                    <InputNumber min={0} precision={0} style={{ width: '100%' }} placeholder={t('common.noLimit')} />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={8}>
                  <Form.Item name="maxStorageGb" label={t('tenants.maxStorage')}>
                    <InputNumber min={0} style={{ width: '100%' }} placeholder={t('common.noLimit')} />
                  </Form.Item>
                </Col>
              </Row>
              <Button type="primary" htmlType="submit" loading={busy}>
                {t('common.save')}
              </Button>
            </Form>
          </Card>
        </Col>
        <Col xs={24}>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('domains.title')}</h2>}>
            <Form form={domainForm} layout="inline" name="add-domain" onFinish={addDomain} style={{ marginBottom: 16, rowGap: 8 }}>
              <Form.Item name="name" label={t('domains.name')} rules={[{ required: true, whitespace: true, message: t('domains.nameHint') }]}>
                <Input placeholder={t('domains.nameHint')} />
              </Form.Item>
              <Button htmlType="submit" loading={busy}>
                {t('domains.new')}
              </Button>
            </Form>
            <Table<Domain>
              rowKey="id"
              size="small"
              pagination={false}
              dataSource={domains}
              locale={{ emptyText: t('domains.none') }}
              scroll={{ x: 480 }}
              columns={[
                { title: t('domains.name'), dataIndex: 'unicodeName', render: (n: string, d) => <Link href={`/admin/domains/${encodeURIComponent(d.name)}`}>{n}</Link> },
                { title: t('common.status'), dataIndex: 'status', render: (s: string) => <StatusTag tone={s === 'active' ? 'good' : 'bad'}>{s === 'active' ? t('common.active') : t('common.disabled')}</StatusTag> },
                { title: t('domains.mailboxes'), key: 'm', render: (_, d) => d.usage.mailboxes },
                { title: t('domains.storage'), key: 's', render: (_, d) => formatBytes(d.usage.usedBytes, format) },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24}>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('tenants.statusLine')}</h2>}>
            <Typography.Paragraph>{suspended ? t('tenants.resumeExplain', { name: tenant.name }) : t('tenants.suspendExplain', { name: tenant.name })}</Typography.Paragraph>
            <Space wrap>
              <Button danger={!suspended} onClick={toggle} loading={busy}>
                {suspended ? t('tenants.resume') : t('tenants.suspend')}
              </Button>
              <Button danger type="primary" onClick={() => setDeleting(true)}>
                {t('tenants.delete')}
              </Button>
            </Space>
          </Card>
        </Col>
      </Row>
      <Modal
        title={t('tenants.delete')}
        open={deleting}
        onCancel={() => setDeleting(false)}
        onOk={remove}
        okText={t('common.delete')}
        cancelText={t('common.cancel')}
        okButtonProps={{ danger: true, disabled: confirmName !== tenant.name }}
        confirmLoading={busy}
      >
        <Typography.Paragraph>{t('tenants.deleteExplain', { name: tenant.name })}</Typography.Paragraph>
        <label htmlFor="confirm-name">{t('tenants.deleteConfirmLabel')}</label>
        <Input id="confirm-name" value={confirmName} onChange={(e) => setConfirmName(e.target.value)} autoComplete="off" />
      </Modal>
    </>
  );
}
