'use client';
/** The groups (mailing lists) of one domain: list and search, create; each opens its members and posting policy. */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Form, Input, Modal, Select, Table, Typography } from 'antd';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useTranslations } from 'next-intl';
import type { Domain, Group } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { splitAddresses } from '../aliases/alias-list';
import { DomainNav } from '../domains/domain-nav';
import { errorText } from '../errors';
import { POSTING_POLICIES as POLICIES } from '@dizi/domain/group-posting';

interface NewGroup {
  localPart: string;
  name?: string;
  postingPolicy: Group['postingPolicy'];
  members?: string;
}

export function GroupList({ domain }: { domain: Domain }) {
  const t = useTranslations('domains.groups');
  const tc = useTranslations('common');
  const router = useRouter();
  const { message } = App.useApp();
  const [q, setQ] = useState('');
  const [items, setItems] = useState<Group[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [form] = Form.useForm<NewGroup>();
  const groupHref = (g: Group) => `/admin/domains/${encodeURIComponent(domain.name)}/groups/${encodeURIComponent(g.address)}`;

  const reload = useCallback(async () => {
    try {
      setItems((await browserApi.groups.list({ domain: domain.id, q: q || undefined, limit: 500 })).items);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [domain.id, q]);
  useEffect(() => void reload(), [reload]);

  const create = async (v: NewGroup) => {
    setSaving(true);
    setFormError(null);
    try {
      const g = await browserApi.groups.create({
        address: `${v.localPart.trim()}@${domain.name}`,
        name: v.name?.trim() || undefined,
        postingPolicy: v.postingPolicy,
        members: splitAddresses(v.members ?? ''),
      });
      message.success(t('created', { address: g.address }));
      setCreating(false);
      router.push(groupHref(g));
    } catch (e) {
      setFormError(errorText(e));
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
      <div className="page-toolbar">
        <Input.Search className="grow" style={{ maxWidth: 320 }} allowClear aria-label={t('search')} placeholder={t('search')} onSearch={(v) => setQ(v.trim())} />
        <Button
          type="primary"
          onClick={() => {
            form.setFieldsValue({ localPart: '', name: '', postingPolicy: 'members', members: '' });
            setFormError(null);
            setCreating(true);
          }}
        >
          {t('new')}
        </Button>
      </div>
      {error && <Alert type="error" showIcon title={tc('error', { message: error })} style={{ marginBottom: 8 }} />}
      <Table<Group>
        rowKey="id"
        loading={items === null}
        dataSource={items ?? []}
        pagination={{ pageSize: 50, hideOnSinglePage: true, showTotal: (n) => tc('total', { count: n }) }}
        locale={{ emptyText: t('none') }}
        columns={[
          {
            title: t('group'),
            key: 'group',
            sorter: (a, b) => a.address.localeCompare(b.address),
            render: (_, g) => (
              <div style={{ minWidth: 0 }}>
                <Link href={groupHref(g)} style={{ fontWeight: 500, overflowWrap: 'anywhere' }}>
                  {g.address}
                </Link>
                {g.name && <div style={{ fontSize: 12, color: 'rgba(0,0,0,0.65)', overflowWrap: 'anywhere' }}>{g.name}</div>}
              </div>
            ),
          },
          { title: t('policy'), key: 'policy', render: (_, g) => t(`policies.${g.postingPolicy}`) },
          { title: t('members'), dataIndex: 'memberCount', sorter: (a, b) => a.memberCount - b.memberCount, align: 'right' },
        ]}
      />
      <Modal title={t('new')} open={creating} onCancel={() => setCreating(false)} onOk={() => form.submit()} okText={tc('create')} cancelText={tc('cancel')} confirmLoading={saving} forceRender>
        <Form form={form} layout="vertical" name="new-group" onFinish={create}>
          {formError && <Alert type="error" showIcon title={formError} style={{ marginBottom: 12 }} data-testid="group-error" />}
          <Form.Item name="localPart" label={t('localPart')} rules={[{ required: true, whitespace: true, message: t('localPartRequired') }]}>
            <Input suffix={`@${domain.name}`} autoComplete="off" />
          </Form.Item>
          <Form.Item name="name" label={tc('name')}>
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item name="postingPolicy" label={t('policy')} extra={t('policyHint')}>
            <Select options={POLICIES.map((p) => ({ value: p, label: t(`policies.${p}`) }))} />
          </Form.Item>
          <Form.Item name="members" label={t('members')} extra={t('membersHint')}>
            <Input.TextArea rows={4} autoComplete="off" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
