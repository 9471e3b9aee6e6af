'use client';
/**
 * The aliases of one domain and its catch-all (`*@domain`): list and search, create, edit the destinations,
 * switch on and off, delete after confirming (with an undo that puts the alias back as it was).
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Checkbox, Form, Input, Modal, Popconfirm, Space, Switch, Table, Typography } from 'antd';
import { useTranslations } from 'next-intl';
import type { Alias, Domain } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { DomainNav } from '../domains/domain-nav';
import { errorText } from '../errors';
import { showUndoDelete } from '../undo-delete';
import { StatusTag } from '../status-tag';

interface AliasForm {
  localPart?: string;
  catchAll: boolean;
  destinations: string;
  enabled: boolean;
}

/** Destinations as typed: one per line, or separated by commas, semicolons or spaces. */
export function splitAddresses(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function AliasList({ domain }: { domain: Domain }) {
  const t = useTranslations('domains.aliases');
  const tc = useTranslations('common');
  const { message } = App.useApp();
  const [q, setQ] = useState('');
  const [items, setItems] = useState<Alias[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Alias | 'new' | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [form] = Form.useForm<AliasForm>();
  const catchAll = Form.useWatch('catchAll', form);

  const reload = useCallback(async () => {
    try {
      const page = await browserApi.aliases.list({ domain: domain.id, q: q || undefined, limit: 500 });
      setItems(page.items);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [domain.id, q]);
  useEffect(() => void reload(), [reload]);

  const open = (a: Alias | 'new') => {
    setFormError(null);
    setEditing(a);
    form.setFieldsValue(
      a === 'new'
        ? { localPart: '', catchAll: false, destinations: '', enabled: true }
        : { localPart: a.localPart, catchAll: a.catchAll, destinations: a.destinations.join('\n'), enabled: a.enabled },
    );
  };

  const save = async (v: AliasForm) => {
    setSaving(true);
    setFormError(null);
    try {
      const destinations = splitAddresses(v.destinations ?? '');
      if (editing === 'new') {
        const a = await browserApi.aliases.create({ domain: domain.id, localPart: v.catchAll ? '*' : (v.localPart ?? '').trim(), destinations, enabled: v.enabled });
        message.success(t('created', { address: a.address }));
      } else if (editing) {
        await browserApi.aliases.update(editing.id, { destinations, enabled: v.enabled });
        message.success(tc('saved'));
      }
      setEditing(null);
      await reload();
    } catch (e) {
      setFormError(errorText(e));
    } finally {
      setSaving(false);
    }
  };

  const toggle = async (a: Alias) => {
    try {
      await browserApi.aliases.update(a.id, { enabled: !a.enabled });
      await reload();
    } catch (e) {
      message.error(tc('error', { message: errorText(e) }));
    }
  };

  const remove = async (a: Alias) => {
    try {
      await browserApi.aliases.remove(a.id);
      await reload();
      showUndoDelete({
        message,
        key: `undo-${a.id}`,
        text: t('deleted', { address: a.address }),
        undoLabel: t('undo'),
        errorLabel: (m) => tc('error', { message: m }),
        restore: () => browserApi.aliases.create({ address: a.address, destinations: a.destinations, enabled: a.enabled }),
        after: reload,
      });
    } catch (e) {
      message.error(tc('error', { message: errorText(e) }));
    }
  };

  const hasCatchAll = items?.some((a) => a.catchAll) ?? false;
  return (
    <>
      <DomainNav domain={domain} />
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('title', { domain: domain.unicodeName })}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('intro')}</Typography.Paragraph>
      <div className="page-toolbar">
        <Input.Search className="grow" style={{ maxWidth: 320 }} allowClear aria-label={t('search')} placeholder={t('search')} onSearch={(v) => setQ(v.trim())} />
        <Button type="primary" onClick={() => open('new')}>
          {t('new')}
        </Button>
      </div>
      {error && <Alert type="error" showIcon title={tc('error', { message: error })} style={{ marginBottom: 8 }} />}
      <Table<Alias>
        rowKey="id"
        loading={items === null}
        dataSource={items ?? []}
        pagination={{ pageSize: 50, hideOnSinglePage: true, showTotal: (n) => tc('total', { count: n }) }}
        locale={{ emptyText: t('none') }}
        data-testid="alias-table"
        columns={[
          {
            title: t('alias'),
            key: 'alias',
            sorter: (a, b) => a.address.localeCompare(b.address),
            render: (_, a) => (
              <div style={{ minWidth: 0 }}>
                <div style={{ fontWeight: 500, overflowWrap: 'anywhere' }}>
                  {a.catchAll ? t('catchAllOf', { domain: domain.unicodeName }) : a.address}{' '}
                  {a.catchAll && <StatusTag tone="info">{t('catchAll')}</StatusTag>}{' '}
                  <StatusTag tone={a.enabled ? 'good' : 'neutral'}>{a.enabled ? tc('active') : tc('disabled')}</StatusTag>
                </div>
                <div style={{ fontSize: 12, color: 'rgba(0,0,0,0.65)', overflowWrap: 'anywhere' }}>→ {a.destinations.join(', ')}</div>
              </div>
            ),
          },
          {
            title: tc('actions'),
            key: 'actions',
            width: 1,
            render: (_, a) => (
              <Space size={4} wrap>
                <Button size="small" onClick={() => open(a)} aria-label={`${tc('edit')} ${a.address}`}>
                  {tc('edit')}
                </Button>
                <Button size="small" onClick={() => toggle(a)} aria-label={`${a.enabled ? t('disable') : t('enable')} ${a.address}`}>
                  {a.enabled ? t('disable') : t('enable')}
                </Button>
                <Popconfirm title={t('deleteConfirm', { address: a.address })} okText={tc('delete')} cancelText={tc('cancel')} okButtonProps={{ danger: true }} onConfirm={() => remove(a)}>
                  <Button size="small" danger aria-label={`${tc('delete')} ${a.address}`}>
                    {tc('delete')}
                  </Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      <Modal
        title={editing === 'new' ? t('new') : editing ? t('editTitle', { address: editing.address }) : ''}
        open={editing !== null}
        onCancel={() => setEditing(null)}
        onOk={() => form.submit()}
        okText={editing === 'new' ? tc('create') : tc('save')}
        cancelText={tc('cancel')}
        confirmLoading={saving}
        forceRender
      >
        <Form form={form} layout="vertical" name="alias" onFinish={save}>
          {formError && <Alert type="error" showIcon title={formError} style={{ marginBottom: 12 }} data-testid="alias-error" />}
          {editing === 'new' && (
            <>
              <Form.Item name="catchAll" valuePropName="checked" extra={hasCatchAll ? t('catchAllExists') : t('catchAllHint')}>
                <Checkbox disabled={hasCatchAll}>{t('catchAllLabel')}</Checkbox>
              </Form.Item>
              <Form.Item name="localPart" label={t('localPart')} rules={[{ required: !catchAll, whitespace: true, message: t('localPartRequired') }]} hidden={catchAll}>
                <Input suffix={`@${domain.name}`} autoComplete="off" />
              </Form.Item>
            </>
          )}
          <Form.Item name="destinations" label={t('destinations')} extra={t('destinationsHint')} rules={[{ required: true, whitespace: true, message: t('destinationsRequired') }]}>
            <Input.TextArea rows={4} autoComplete="off" />
          </Form.Item>
          <Form.Item name="enabled" label={t('enabled')} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
