'use client';
/** The addresses one mailbox may send as (besides its own and its aliases): grant and revoke, for domain admins. */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Drawer, Input, List, Popconfirm, Space, Typography } from 'antd';
import { useFormatter, useTranslations } from 'next-intl';
import type { Mailbox, SendAsList } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { errorText } from '../errors';

export function SendAsDrawer({ mailbox, onClose }: { mailbox: Mailbox | null; onClose: () => void }) {
  const t = useTranslations('mailboxes.sendAs');
  const tc = useTranslations('common');
  const format = useFormatter();
  const { message } = App.useApp();
  const [list, setList] = useState<SendAsList | null>(null);
  const [address, setAddress] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const reload = useCallback(async () => {
    if (!mailbox) return;
    try {
      setList(await browserApi.mailboxes.sendAs(mailbox.id));
    } catch (e) {
      setError(errorText(e));
    }
  }, [mailbox]);
  useEffect(() => {
    setList(null);
    setError(null);
    setAddress('');
    void reload();
  }, [reload]);

  const grant = async () => {
    if (!mailbox || !address.trim()) return setError(t('addressRequired'));
    setBusy(true);
    setError(null);
    try {
      await browserApi.mailboxes.grantSendAs(mailbox.id, address.trim());
      message.success(t('granted', { address: address.trim(), mailbox: mailbox.address }));
      setAddress('');
      await reload();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (identity: string) => {
    if (!mailbox) return;
    try {
      await browserApi.mailboxes.revokeSendAs(mailbox.id, identity);
      await reload();
    } catch (e) {
      message.error(tc('error', { message: errorText(e) }));
    }
  };

  return (
    <Drawer open={mailbox !== null} onClose={onClose} title={mailbox ? t('title', { address: mailbox.address }) : ''} size="large" styles={{ wrapper: { maxWidth: '100vw' } }} closeIcon={<span aria-label={tc('close')}>×</span>}>
      <Typography.Paragraph type="secondary">{t('intro')}</Typography.Paragraph>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} data-testid="send-as-error" />}
      <label htmlFor="send-as-address" style={{ display: 'block', marginBottom: 4 }}>
        {t('address')}
      </label>
      <Space.Compact style={{ width: '100%' }}>
        <Input id="send-as-address" value={address} onChange={(e) => setAddress(e.target.value)} onPressEnter={grant} autoComplete="off" placeholder="info@example.com" />
        <Button type="primary" onClick={grant} loading={busy}>
          {t('grant')}
        </Button>
      </Space.Compact>
      <List
        style={{ marginTop: 16 }}
        loading={list === null && !error}
        dataSource={list?.identities ?? []}
        locale={{ emptyText: t('none') }}
        data-testid="send-as-list"
        renderItem={(i) => (
          <List.Item
            actions={[
              <Popconfirm key="revoke" title={t('revokeConfirm', { address: i.address })} okText={t('revoke')} cancelText={tc('cancel')} onConfirm={() => revoke(i.address)}>
                <Button size="small" aria-label={`${t('revoke')} ${i.address}`}>
                  {t('revoke')}
                </Button>
              </Popconfirm>,
            ]}
          >
            <List.Item.Meta
              title={<span style={{ overflowWrap: 'anywhere' }}>{i.address}</span>}
              description={t('grantedBy', { name: i.grantedBy, date: format.dateTime(new Date(i.createdAt), { dateStyle: 'medium' }) })}
            />
          </List.Item>
        )}
      />
    </Drawer>
  );
}
