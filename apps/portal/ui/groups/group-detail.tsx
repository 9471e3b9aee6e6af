'use client';
/**
 * One group: its settings (name, description, posting policy with the senders it lists, copy kept, recipient
 * rewrite), its members (add several at once, remove after confirming), and deleting the group.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Card, Checkbox, Form, Input, List, Popconfirm, Select, Space, Typography } from 'antd';
import { useRouter } from 'next/navigation';
import { useTranslations } from 'next-intl';
import { POSTING_POLICIES } from '@dizi/domain/group-posting';
import type { Domain, Group } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { splitAddresses } from '../aliases/alias-list';
import { DomainNav } from '../domains/domain-nav';
import { errorText } from '../errors';

interface Settings {
  name: string;
  description: string;
  postingPolicy: Group['postingPolicy'];
  allowedSenders: string;
  keepCopy: boolean;
  rewriteRecipient: boolean;
}

const MEMBER_PAGE = 500;

export function GroupDetail({ domain, group: initial }: { domain: Domain; group: Group }) {
  const t = useTranslations('domains.groups');
  const tc = useTranslations('common');
  const router = useRouter();
  const { message } = App.useApp();
  const [group, setGroup] = useState(initial);
  const [members, setMembers] = useState<{ items: string[]; total: number } | null>(null);
  const [settingsError, setSettingsError] = useState<string | null>(null);
  const [memberError, setMemberError] = useState<string | null>(null);
  const [newMembers, setNewMembers] = useState('');
  const [busy, setBusy] = useState(false);
  const [adding, setAdding] = useState(false);
  const [form] = Form.useForm<Settings>();
  const policy = Form.useWatch('postingPolicy', form);

  const loadMembers = useCallback(async () => {
    try {
      const page = await browserApi.groups.members(group.id, { limit: MEMBER_PAGE });
      setMembers({ items: page.items, total: page.total });
    } catch (e) {
      setMemberError(errorText(e));
    }
  }, [group.id]);
  useEffect(() => void loadMembers(), [loadMembers]);

  const saveSettings = async (v: Settings) => {
    setBusy(true);
    setSettingsError(null);
    try {
      setGroup(
        await browserApi.groups.update(group.id, {
          name: v.name ?? '',
          description: v.description ?? '',
          postingPolicy: v.postingPolicy,
          allowedSenders: splitAddresses(v.allowedSenders ?? ''),
          keepCopy: v.keepCopy,
          rewriteRecipient: v.rewriteRecipient,
        }),
      );
      message.success(tc('saved'));
    } catch (e) {
      setSettingsError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const addMembers = async () => {
    const list = splitAddresses(newMembers);
    if (list.length === 0) return setMemberError(t('membersRequired'));
    setAdding(true);
    setMemberError(null);
    try {
      const change = await browserApi.groups.addMembers(group.id, list);
      message.success(t('membersAdded', { count: change.added }));
      setGroup((g) => ({ ...g, memberCount: change.memberCount }));
      setNewMembers('');
      await loadMembers();
    } catch (e) {
      setMemberError(errorText(e));
    } finally {
      setAdding(false);
    }
  };

  const removeMember = async (member: string) => {
    try {
      const change = await browserApi.groups.removeMembers(group.id, [member]);
      setGroup((g) => ({ ...g, memberCount: change.memberCount }));
      await loadMembers();
    } catch (e) {
      message.error(tc('error', { message: errorText(e) }));
    }
  };

  const removeGroup = async () => {
    try {
      await browserApi.groups.remove(group.id);
      message.success(t('deleted', { address: group.address }));
      router.push(`/admin/domains/${encodeURIComponent(domain.name)}/groups`);
    } catch (e) {
      message.error(tc('error', { message: errorText(e) }));
    }
  };

  return (
    <>
      <DomainNav domain={domain} />
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0, overflowWrap: 'anywhere' }}>
        {t('detailTitle', { address: group.address })}
      </Typography.Title>
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 16, alignItems: 'flex-start' }}>
        <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('settings')}</h2>} style={{ flex: '1 1 340px', minWidth: 0 }}>
          <Form
            form={form}
            layout="vertical"
            name="group-settings"
            onFinish={saveSettings}
            initialValues={{ ...initial, allowedSenders: initial.allowedSenders.join('\n') }}
          >
            {settingsError && <Alert type="error" showIcon title={settingsError} style={{ marginBottom: 12 }} data-testid="group-settings-error" />}
            <Form.Item name="name" label={tc('name')}>
              <Input autoComplete="off" />
            </Form.Item>
            <Form.Item name="description" label={t('description')}>
              <Input.TextArea rows={2} />
            </Form.Item>
            <Form.Item name="postingPolicy" label={t('policy')} extra={policy ? t(`policyHelp.${policy}`) : undefined}>
              <Select options={POSTING_POLICIES.map((p) => ({ value: p, label: t(`policies.${p}`) }))} />
            </Form.Item>
            <Form.Item name="allowedSenders" label={t('allowedSenders')} extra={t('allowedSendersHint')} hidden={policy !== 'listed'}>
              <Input.TextArea rows={3} autoComplete="off" />
            </Form.Item>
            <Form.Item name="keepCopy" valuePropName="checked" style={{ marginBottom: 8 }}>
              <Checkbox>{t('keepCopy')}</Checkbox>
            </Form.Item>
            <Form.Item name="rewriteRecipient" valuePropName="checked">
              <Checkbox>{t('rewriteRecipient')}</Checkbox>
            </Form.Item>
            <Space wrap>
              <Button type="primary" htmlType="submit" loading={busy}>
                {tc('save')}
              </Button>
              <Popconfirm title={t('deleteConfirm', { address: group.address })} okText={tc('delete')} cancelText={tc('cancel')} okButtonProps={{ danger: true }} onConfirm={removeGroup}>
                <Button danger>{t('delete')}</Button>
              </Popconfirm>
            </Space>
          </Form>
        </Card>
        <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('membersCount', { count: group.memberCount })}</h2>} style={{ flex: '1 1 340px', minWidth: 0 }}>
          {memberError && <Alert type="error" showIcon title={memberError} style={{ marginBottom: 12 }} data-testid="group-member-error" />}
          <label htmlFor="add-members" style={{ display: 'block', marginBottom: 4 }}>
            {t('addMembers')}
          </label>
          <Input.TextArea id="add-members" rows={3} value={newMembers} onChange={(e) => setNewMembers(e.target.value)} autoComplete="off" />
          <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: '4px 0 8px' }}>
            {t('membersHint')}
          </Typography.Paragraph>
          <Button onClick={addMembers} loading={adding} data-testid="add-members">
            {t('add')}
          </Button>
          <List
            style={{ marginTop: 12 }}
            loading={members === null}
            dataSource={members?.items ?? []}
            locale={{ emptyText: t('noMembers') }}
            aria-label={t('members')}
            data-testid="group-members"
            renderItem={(m) => (
              <List.Item
                actions={[
                  <Popconfirm key="remove" title={t('removeConfirm', { member: m })} okText={t('remove')} cancelText={tc('cancel')} onConfirm={() => removeMember(m)}>
                    <Button size="small" aria-label={`${t('remove')} ${m}`}>
                      {t('remove')}
                    </Button>
                  </Popconfirm>,
                ]}
              >
                <span style={{ overflowWrap: 'anywhere' }}>{m}</span>
              </List.Item>
            )}
          />
          {members && members.total > members.items.length && (
            <Typography.Paragraph type="secondary">{t('moreMembers', { shown: members.items.length, total: members.total })}</Typography.Paragraph>
          )}
        </Card>
      </div>
    </>
  );
}
