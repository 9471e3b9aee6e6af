'use client';
/** The advanced search: one field per thing to look for, a date range, attachments, and which folder (or all). */
import { useState } from 'react';
import { Button, Checkbox, Input, Modal, Select } from 'antd';
import { useTranslations } from 'next-intl';
import type { Mailbox } from '../../lib/mail/jmap-browser';
import { EMPTY_CRITERIA, type SearchCriteria } from '../../lib/mail/search-criteria';
import { sortedTree, useFolderName } from './folder-tree';

interface Props {
  open: boolean;
  initial: SearchCriteria | null;
  /** The one box's words, carried into the panel. */
  text: string;
  mailboxes: Mailbox[];
  onSearch(criteria: SearchCriteria): void;
  onClose(): void;
}

export function SearchPanel({ open, initial, text, mailboxes, onSearch, onClose }: Props) {
  const t = useTranslations('mailRead.search');
  const folderName = useFolderName();
  const [c, setC] = useState<SearchCriteria>(initial ?? { ...EMPTY_CRITERIA, text });
  const field = (key: 'text' | 'from' | 'to' | 'subject' | 'body' | 'attachmentName') => (
    <div className="wm-field">
      <label htmlFor={`wm-adv-${key}`}>{t(key)}</label>
      <Input id={`wm-adv-${key}`} value={c[key]} onChange={(e) => setC({ ...c, [key]: e.target.value })} />
    </div>
  );
  return (
    <Modal open={open} title={t('title')} onCancel={onClose} footer={null} destroyOnHidden>
      <form
        className="wm-adv"
        data-testid="advanced-search"
        onSubmit={(e) => {
          e.preventDefault();
          onSearch(c);
        }}
      >
        {field('text')}
        {field('from')}
        {field('to')}
        {field('subject')}
        {field('body')}
        {field('attachmentName')}
        <div className="wm-field">
          <label htmlFor="wm-adv-after">{t('after')}</label>
          <Input id="wm-adv-after" type="date" value={c.after} onChange={(e) => setC({ ...c, after: e.target.value })} />
        </div>
        <div className="wm-field">
          <label htmlFor="wm-adv-before">{t('before')}</label>
          <Input id="wm-adv-before" type="date" value={c.before} onChange={(e) => setC({ ...c, before: e.target.value })} />
        </div>
        <div className="wm-field">
          <label htmlFor="wm-adv-folder">{t('folder')}</label>
          <Select
            id="wm-adv-folder"
            value={c.folder}
            onChange={(v: string) => setC({ ...c, folder: v })}
            options={[
              { value: 'current', label: t('currentFolder') },
              { value: 'all', label: t('allFolders') },
              ...sortedTree(mailboxes).map(({ mailbox, depth }) => ({ value: mailbox.id, label: `${'  '.repeat(depth)}${folderName(mailbox)}` })),
            ]}
          />
        </div>
        <Checkbox checked={c.hasAttachment} onChange={(e) => setC({ ...c, hasAttachment: e.target.checked })}>
          {t('hasAttachment')}
        </Checkbox>
        <div className="wm-adv-buttons">
          <Button onClick={() => setC({ ...EMPTY_CRITERIA })}>{t('clear')}</Button>
          <Button type="primary" htmlType="submit">
            {t('search')}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
