'use client';
/** The open message: who, when, its body, its attachments, and what can be done with it. */
import { useEffect, useState } from 'react';
import { Alert, Button, Dropdown, Space, Spin, Tooltip } from 'antd';
import { useFormatter, useTranslations } from 'next-intl';
import { downloadUrl, EmailAddress, EmailDetail, jmap, DETAIL_PROPERTIES, type Mailbox } from '../../lib/mail/jmap-browser';
import { savePreferences, usePreferences } from '../../lib/mail/preferences';
import { browserTimeZone } from '../../lib/mail/time-zone';
import { formatBytes } from '../format';
import { useFolderName } from './folder-tree';
import { HtmlFrame, PlainText } from './mail-body';

type Body = { kind: 'html'; html: string; blockedRemote: number } | { kind: 'text'; text: string; blockedRemote: number };

export type ReplyMode = 'reply' | 'replyAll' | 'forward';

interface Props {
  accountId: string;
  emailId: string;
  mailboxes: Mailbox[];
  version: number;
  onReply(mode: ReplyMode, email: EmailDetail): void;
  onMove(ids: string[], folderId: string): void;
  onDelete(ids: string[]): void;
  onKeywords(ids: string[], keyword: string, on: boolean): void;
  onBack(): void;
  /** Shown as a full page (no "open in full page" link then). */
  fullPage?: boolean;
  /** Switches to the full-page view; the link still works as a plain link (new tab, copied). */
  onFullPage?(): void;
}

export function addressList(list: EmailAddress[] | null | undefined): string {
  return (list ?? []).map((a) => (a.name ? `${a.name} <${a.email}>` : a.email)).join(', ');
}

export function ReadingPane({ accountId, emailId, mailboxes, version, onReply, onMove, onDelete, onKeywords, onBack, fullPage = false, onFullPage }: Props) {
  const t = useTranslations('mail');
  const tr = useTranslations('mailRead');
  const format = useFormatter();
  const folderName = useFolderName();
  const [email, setEmail] = useState<EmailDetail | null>(null);
  const [body, setBody] = useState<Body | null>(null);
  const [images, setImages] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const preferences = usePreferences();
  const sender = email?.id === emailId ? email.from?.[0]?.email.toLowerCase() ?? null : null;
  // Remote images from a sender the user trusts are shown at once; the body is fetched again when that becomes known.
  const trusted = !!sender && !!preferences?.imageSenders.includes(sender);
  const showImages = images || trusted;

  useEffect(() => setImages(false), [emailId]);
  useEffect(() => {
    let live = true;
    setError(null);
    jmap([['Email/get', { accountId, ids: [emailId], properties: DETAIL_PROPERTIES }, 'g']])
      .then((r) => {
        if (!live) return;
        const found = (r.g.list as EmailDetail[])[0];
        if (!found) setError(t('reader.gone'));
        setEmail(found ?? null);
      })
      .catch(() => live && setError(t('errors.network')));
    return () => {
      live = false;
    };
  }, [accountId, emailId, version, t]);

  useEffect(() => {
    let live = true;
    setBody(null);
    const url = `/bff/mail/body/${encodeURIComponent(emailId)}?account=${encodeURIComponent(accountId)}${showImages ? '&images=1' : ''}`;
    // A body that does not come within 15 s is asked for again (twice), before the reader is told.
    const attempt = async (left: number): Promise<Body> => {
      try {
        const res = await fetch(url, { credentials: 'same-origin', signal: AbortSignal.timeout(15_000) });
        if (!res.ok) throw new Error(String(res.status));
        return (await res.json()) as Body;
      } catch (e) {
        if (left <= 0 || !live || (e instanceof Error && e.message === '404')) throw e;
        await new Promise((r) => setTimeout(r, 1000));
        return attempt(left - 1);
      }
    };
    attempt(2)
      .then((b) => live && setBody(b))
      .catch(() => live && setError(t('errors.network')));
    return () => {
      live = false;
    };
  }, [accountId, emailId, showImages, t]);

  if (error) return <Alert type="error" showIcon title={error} className="wm-reader-error" />;
  if (!email) return <Spin className="wm-list-spin" description={t('list.loading')} />;
  const subject = email.subject || t('list.noSubject');
  const flagged = !!email.keywords.$flagged;
  const seen = !!email.keywords.$seen;
  const here = Object.keys(email.mailboxIds)[0];
  const moveItems = mailboxes.filter((m) => m.id !== here).map((m) => ({ key: m.id, label: folderName(m) }));

  return (
    <article className="wm-reader" aria-labelledby="wm-subject">
      <div className="wm-reader-bar" role="toolbar" aria-label={t('reader.actions')}>
        <Button className="wm-back" onClick={onBack}>
          {t('reader.back')}
        </Button>
        <Space wrap size={4}>
          <Button onClick={() => onReply('reply', email)}>{t('actions.reply')}</Button>
          <Button onClick={() => onReply('replyAll', email)}>{t('actions.replyAll')}</Button>
          <Button onClick={() => onReply('forward', email)}>{t('actions.forward')}</Button>
          <Button onClick={() => onKeywords([email.id], '$flagged', !flagged)} aria-pressed={flagged}>
            {flagged ? t('actions.unflag') : t('actions.flag')}
          </Button>
          <Button onClick={() => onKeywords([email.id], '$seen', !seen)}>{seen ? t('actions.markUnread') : t('actions.markRead')}</Button>
          <Dropdown menu={{ items: moveItems, onClick: ({ key }) => onMove([email.id], key) }} trigger={['click']}>
            <Button>{t('actions.move')}</Button>
          </Dropdown>
          <Button danger onClick={() => onDelete([email.id])}>
            {t('actions.delete')}
          </Button>
          {!fullPage && (
            <a
              className="ant-btn ant-btn-default"
              href={`/mail/message/${encodeURIComponent(email.id)}`}
              data-testid="full-page-link"
              onClick={(e) => {
                if (!onFullPage || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
                e.preventDefault();
                onFullPage();
              }}
            >
              {tr('fullPage')}
            </a>
          )}
          <Dropdown
            trigger={['click']}
            menu={{
              items: [
                { key: 'eml', label: <a href={downloadUrl(accountId, email.blobId, `${subject.slice(0, 60)}.eml`, 'message/rfc822')}>{t('reader.downloadEml')}</a> },
                { key: 'source', label: <a href={downloadUrl(accountId, email.blobId, 'source.txt', 'text/plain', true)} target="_blank" rel="noopener noreferrer">{t('reader.source')}</a> },
                { key: 'print', label: t('reader.print'), onClick: () => window.print() },
              ],
            }}
          >
            <Button>{t('reader.more')}</Button>
          </Dropdown>
        </Space>
      </div>
      <header className="wm-reader-head">
        <h2 id="wm-subject" className="wm-subject">
          {subject}
        </h2>
        <dl className="wm-meta">
          <dt>{t('reader.from')}</dt>
          <dd data-testid="reader-from">{addressList(email.from)}</dd>
          <dt>{t('reader.to')}</dt>
          <dd>{addressList(email.to)}</dd>
          {email.cc && email.cc.length > 0 && (
            <>
              <dt>{t('reader.cc')}</dt>
              <dd>{addressList(email.cc)}</dd>
            </>
          )}
          <dt>{t('reader.date')}</dt>
          <dd>{format.dateTime(new Date(email.sentAt ?? email.receivedAt), { dateStyle: 'medium', timeStyle: 'short', timeZone: browserTimeZone() })}</dd>
        </dl>
      </header>
      {body && body.blockedRemote > 0 && !showImages && (
        <Alert
          type="info"
          className="wm-images-alert"
          title={t('reader.imagesBlocked', { count: body.blockedRemote })}
          action={
            <Space wrap size={4}>
              <Button size="small" onClick={() => setImages(true)}>
                {t('reader.showImages')}
              </Button>
              {sender && preferences && (
                <Button
                  size="small"
                  onClick={() =>
                    void savePreferences({ imageSenders: [...preferences.imageSenders, sender] }).catch(() => setError(t('errors.network')))
                  }
                >
                  {tr('alwaysShowImages', { sender })}
                </Button>
              )}
            </Space>
          }
        />
      )}
      {email.attachments.length > 0 && (
        <section className="wm-attachments" aria-label={t('reader.attachments')}>
          <ul>
            {email.attachments.map((a) => {
              const name = a.name || t('reader.unnamed');
              const previewable = /^(image\/(png|jpeg|gif|webp)|application\/pdf|text\/plain)$/.test(a.type);
              return (
                <li key={a.partId}>
                  <a href={downloadUrl(accountId, a.blobId, name, a.type)} download={name}>
                    {name}
                  </a>{' '}
                  <span className="wm-att-meta">
                    {a.type} · {formatBytes(a.size, format)}
                  </span>
                  {previewable && (
                    <Tooltip title={t('reader.preview')}>
                      {' '}
                      <a href={downloadUrl(accountId, a.blobId, name, a.type, true)} target="_blank" rel="noopener noreferrer" aria-label={t('reader.previewOf', { name })}>
                        {t('reader.preview')}
                      </a>
                    </Tooltip>
                  )}
                </li>
              );
            })}
          </ul>
        </section>
      )}
      <div className="wm-body">
        {!body ? <Spin /> : body.kind === 'html' ? <HtmlFrame html={body.html} subject={subject} /> : <PlainText text={body.text} />}
      </div>
    </article>
  );
}
