'use client';
/**
 * The domain's public address book (the domain's users see it when they write mail):
 * create it, search, add, edit and delete contacts (delete after confirming, with an undo that adds it back), import CSV or vCard files with a per-row
 * report, and export it as CSV or vCard (4.0, or 3.0 for older clients).
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, App, Button, Dropdown, Form, Input, Modal, Popconfirm, Select, Space, Table, Typography } from 'antd';
import { useTranslations } from 'next-intl';
import type { AddressBook, Contact, Domain } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { DomainNav } from '../domains/domain-nav';
import { errorText } from '../errors';
import { showUndoDelete } from '../undo-delete';
import { ContactImport } from './contact-import';

type ContactForm = Pick<Contact, 'displayName' | 'email' | 'phone' | 'organization' | 'title' | 'notes'>;
const COLUMNS: (keyof ContactForm)[] = ['displayName', 'email', 'phone', 'organization', 'title', 'notes'];

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The editable fields of a contact (its id and dates dropped), so a deleted one can be added back as it was. */
const contactFieldsOf = (c: Contact): ContactForm => Object.fromEntries(COLUMNS.map((k) => [k, c[k]])) as ContactForm;

export function DomainAddressBook({ domain, initialBooks }: { domain: Domain; initialBooks: AddressBook[] }) {
  const t = useTranslations('domains.addressBook');
  const tc = useTranslations('common');
  const { message } = App.useApp();
  const [books, setBooks] = useState(initialBooks);
  const [bookId, setBookId] = useState<string | null>(initialBooks[0]?.id ?? null);
  const [q, setQ] = useState('');
  const [contacts, setContacts] = useState<{ items: Contact[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Contact | 'new' | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [importing, setImporting] = useState(false);
  const [form] = Form.useForm<ContactForm>();
  const book = books.find((b) => b.id === bookId) ?? null;

  const reload = useCallback(async () => {
    if (!bookId) return;
    try {
      const page = await browserApi.addressBooks.contacts(bookId, { q: q || undefined, limit: 500 });
      setContacts({ items: page.items, total: page.total });
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [bookId, q]);
  useEffect(() => void reload(), [reload]);

  const createBook = async () => {
    setBusy(true);
    try {
      const b = await browserApi.addressBooks.create({ domain: domain.id, name: t('defaultName', { domain: domain.unicodeName }) });
      setBooks((x) => [...x, b]);
      setBookId(b.id);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const open = (c: Contact | 'new') => {
    setFormError(null);
    setEditing(c);
    form.setFieldsValue(c === 'new' ? { displayName: '', email: '', phone: '', organization: '', title: '', notes: '' } : c);
  };

  const save = async (v: ContactForm) => {
    if (!bookId) return;
    setBusy(true);
    setFormError(null);
    const body = Object.fromEntries(COLUMNS.map((k) => [k, (v[k] ?? '').trim()])) as ContactForm;
    try {
      if (editing === 'new') await browserApi.addressBooks.addContact(bookId, body);
      else if (editing) await browserApi.addressBooks.updateContact(bookId, editing.id, body);
      message.success(tc('saved'));
      setEditing(null);
      await reload();
    } catch (e) {
      setFormError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (c: Contact) => {
    if (!bookId) return;
    try {
      await browserApi.addressBooks.removeContact(bookId, c.id);
      await reload();
      showUndoDelete({
        message,
        key: `undo-${c.id}`,
        text: t('deleted', { name: c.displayName || c.email }),
        undoLabel: tc('undo'),
        errorLabel: (m) => tc('error', { message: m }),
        restore: () => browserApi.addressBooks.addContact(bookId, contactFieldsOf(c)),
        after: reload,
      });
    } catch (e) {
      message.error(tc('error', { message: errorText(e) }));
    }
  };

  /** Every contact of the book (all pages), as a CSV file with a header row, downloaded by the browser. */
  const exportCsv = async () => {
    if (!bookId || !book) return;
    try {
      const all: Contact[] = [];
      for (let offset = 0; ; offset += 500) {
        const page = await browserApi.addressBooks.contacts(bookId, { offset, limit: 500 });
        all.push(...page.items);
        if (page.items.length < 500) break;
      }
      const lines = [COLUMNS.join(','), ...all.map((c) => COLUMNS.map((k) => csvField(c[k] ?? '')).join(','))];
      const url = URL.createObjectURL(new Blob([`\ufeff${lines.join('\r\n')}\r\n`], { type: 'text/csv;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${domain.name}-address-book.csv`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      message.error(tc('error', { message: errorText(e) }));
    }
  };

  /** The book as a vCard file, written by the API. */
  const exportVCard = async (version: '3.0' | '4.0') => {
    if (!bookId) return;
    try {
      const text = await browserApi.addressBooks.exportVCards(bookId, version);
      const url = URL.createObjectURL(new Blob([text], { type: 'text/vcard;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${domain.name}-address-book${version === '3.0' ? '-v3' : ''}.vcf`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      message.error(tc('error', { message: errorText(e) }));
    }
  };

  return (
    <>
      <DomainNav domain={domain} />
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('title', { domain: domain.unicodeName })}
      </Typography.Title>
      <Typography.Paragraph type="secondary" style={{ maxWidth: 820 }}>
        {t('intro')}
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon title={tc('error', { message: error })} style={{ marginBottom: 8 }} />}
      {books.length === 0 ? (
        <Button type="primary" onClick={createBook} loading={busy}>
          {t('create')}
        </Button>
      ) : (
        <>
          <div className="page-toolbar">
            {books.length > 1 && (
              <Select aria-label={t('book')} value={bookId ?? undefined} onChange={setBookId} options={books.map((b) => ({ value: b.id, label: b.name }))} style={{ width: 220 }} />
            )}
            <Input.Search className="grow" style={{ maxWidth: 320 }} allowClear aria-label={t('search')} placeholder={t('search')} onSearch={(v) => setQ(v.trim())} />
            <Button type="primary" onClick={() => open('new')}>
              {t('add')}
            </Button>
            <Button onClick={() => setImporting(true)}>{t('importButton')}</Button>
            <Button onClick={exportCsv}>{t('export')}</Button>
            <Dropdown
              trigger={['click']}
              menu={{
                items: [
                  { key: '4.0', label: t('vcard4') },
                  { key: '3.0', label: t('vcard3') },
                ],
                onClick: ({ key }) => void exportVCard(key as '3.0' | '4.0'),
              }}
            >
              <Button>{t('exportVcard')}</Button>
            </Dropdown>
          </div>
          <Table<Contact>
            rowKey="id"
            loading={contacts === null}
            dataSource={contacts?.items ?? []}
            pagination={{ pageSize: 50, hideOnSinglePage: true, showTotal: (n) => tc('total', { count: n }) }}
            locale={{ emptyText: t('none') }}
            columns={[
              {
                title: t('contact'),
                key: 'contact',
                sorter: (a, b) => (a.displayName || a.email).localeCompare(b.displayName || b.email),
                render: (_, c) => (
                  <div style={{ minWidth: 0, overflowWrap: 'anywhere' }} data-testid="contact">
                    <div style={{ fontWeight: 500 }}>{c.displayName || c.email}</div>
                    <div className="settings-help">{[c.email, c.phone, [c.organization, c.title].filter(Boolean).join(' · ')].filter(Boolean).join(' · ')}</div>
                  </div>
                ),
              },
              {
                title: tc('actions'),
                key: 'actions',
                width: 1,
                render: (_, c) => (
                  <Space size={4} wrap>
                    <Button size="small" onClick={() => open(c)} aria-label={`${tc('edit')} ${c.email}`}>
                      {tc('edit')}
                    </Button>
                    <Popconfirm title={t('deleteConfirm', { name: c.displayName || c.email })} okText={tc('delete')} cancelText={tc('cancel')} okButtonProps={{ danger: true }} onConfirm={() => remove(c)}>
                      <Button size="small" danger aria-label={`${tc('delete')} ${c.email}`}>
                        {tc('delete')}
                      </Button>
                    </Popconfirm>
                  </Space>
                ),
              },
            ]}
          />
        </>
      )}
      {bookId && <ContactImport bookId={bookId} open={importing} onClose={() => setImporting(false)} onImported={() => void reload()} />}
      <Modal
        title={editing === 'new' ? t('add') : editing ? t('editTitle', { name: editing.displayName || editing.email }) : ''}
        open={editing !== null}
        onCancel={() => setEditing(null)}
        onOk={() => form.submit()}
        okText={tc('save')}
        cancelText={tc('cancel')}
        confirmLoading={busy}
        forceRender
      >
        <Form form={form} layout="vertical" name="contact" onFinish={save}>
          {formError && <Alert type="error" showIcon title={formError} style={{ marginBottom: 12 }} data-testid="contact-error" />}
          <Form.Item name="displayName" label={t('fields.displayName')}>
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item name="email" label={t('fields.email')} rules={[{ required: true, whitespace: true, message: t('emailRequired') }]}>
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item name="phone" label={t('fields.phone')}>
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item name="organization" label={t('fields.organization')}>
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item name="title" label={t('fields.title')}>
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item name="notes" label={t('fields.notes')}>
            <Input.TextArea rows={2} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
