'use client';
/**
 * Writing a message: new, reply, reply all, forward (inline, or the original as an attachment). Attachments by picker
 * or dropped onto the form, uploaded with progress; the draft is saved to Drafts every few seconds while it changes
 * and kept in this browser until the server has it; Send stores it and submits it (EmailSubmission) in one request,
 * the sent copy moving to Sent.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, Button, Checkbox, Input, Progress, Select, Space } from 'antd';
import { useFormatter, useTranslations } from 'next-intl';
import { EmailAddress, Identity, jmap, JmapError, uploadBlob, type Mailbox } from '../../lib/mail/jmap-browser';
import { browserTimeZone } from '../../lib/mail/time-zone';
import { defaultSignature, signaturesOf, swapSignature, withSignature } from '../../lib/mail/compose-signature';
import { formatBytes } from '../format';

export interface ComposeAttachment {
  blobId: string;
  name: string;
  type: string;
  size: number;
}

export interface ComposeSeed {
  to: string;
  cc: string;
  subject: string;
  text: string;
  inReplyTo?: string[];
  references?: string[];
  /** The message answered (marked $answered once sent). */
  answering?: string;
  attachments: ComposeAttachment[];
  /** An existing draft being edited (replaced on save). */
  draftId?: string;
}

interface Props {
  accountId: string;
  identities: Identity[];
  mailboxes: Mailbox[];
  seed: ComposeSeed;
  onClose(result: 'sent' | 'saved' | 'discarded'): void;
}

const AUTOSAVE_MS = 5_000;
const LOCAL_KEY = 'dizi.mail.unsavedDraft';

/** "Ann <ann@x>, bob@y" → addresses; bad ones reported back. */
export function parseAddresses(input: string): { list: EmailAddress[]; bad: string[] } {
  const list: EmailAddress[] = [];
  const bad: string[] = [];
  for (const raw of input.split(/[,;，；\n]/).map((s) => s.trim()).filter(Boolean)) {
    const m = /^(?:"?([^"<]*?)"?\s*)?<([^<>\s]+@[^<>\s]+)>$/.exec(raw) ?? (/^([^\s<>@]+@[^\s<>@]+\.[^\s<>@]+|[^\s<>@]+@[^\s<>@]+)$/.test(raw) ? [raw, '', raw] : null);
    if (!m) bad.push(raw);
    else list.push({ name: m[1]?.trim() || null, email: m[2] });
  }
  return { list, bad };
}

export function Compose({ accountId, identities, mailboxes, seed, onClose }: Props) {
  const t = useTranslations('mail.compose');
  const tw = useTranslations('mailWrite');
  const format = useFormatter();
  const [identityId, setIdentityId] = useState(identities[0]?.id);
  // A draft being edited has its signature already; a new message gets the sender's default one.
  const [initialText] = useState(() => (seed.draftId ? seed.text : withSignature(seed.text, defaultSignature(identities[0]))));
  const insertedSignature = useRef(seed.draftId ? '' : defaultSignature(identities[0]));
  const [to, setTo] = useState(seed.to);
  const [cc, setCc] = useState(seed.cc);
  const [subject, setSubject] = useState(seed.subject);
  const [text, setText] = useState(initialText);
  const [receipt, setReceipt] = useState(false);
  const [attachments, setAttachments] = useState<ComposeAttachment[]>(seed.attachments);
  const [uploads, setUploads] = useState<{ name: string; progress: number }[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [savedAt, setSavedAt] = useState<Date | null>(null);
  const [dragging, setDragging] = useState(false);
  const draftId = useRef<string | undefined>(seed.draftId);
  const dirty = useRef(false);
  const saving = useRef<Promise<unknown> | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const drafts = mailboxes.find((m) => m.role === 'drafts');
  const sent = mailboxes.find((m) => m.role === 'sent');
  const identity = identities.find((i) => i.id === identityId);

  const emailObject = useCallback(
    (asDraft: boolean) => {
      const email: Record<string, unknown> = {
        mailboxIds: { [drafts!.id]: true },
        keywords: { $draft: true, $seen: true },
        from: identity ? [{ name: identity.name || null, email: identity.email }] : undefined,
        to: parseAddresses(to).list,
        cc: parseAddresses(cc).list,
        subject,
        bodyValues: { body: { value: text } },
        textBody: [{ partId: 'body', type: 'text/plain' }],
        attachments: attachments.map((a) => ({ blobId: a.blobId, type: a.type, name: a.name, disposition: 'attachment' })),
      };
      if (seed.inReplyTo?.length) email.inReplyTo = seed.inReplyTo;
      if (seed.references?.length) email.references = seed.references;
      if (receipt && !asDraft && identity) email['header:Disposition-Notification-To:asRaw'] = ` <${identity.email}>`;
      return email;
    },
    [drafts, identity, to, cc, subject, text, attachments, seed.inReplyTo, seed.references, receipt],
  );

  const saveDraft = useCallback(async () => {
    if (!drafts) return;
    const previous = draftId.current;
    const r = await jmap([['Email/set', { accountId, create: { draft: emailObject(true) }, ...(previous ? { destroy: [previous] } : {}) }, 's']]);
    const created = (r.s.created as Record<string, { id: string }> | undefined)?.draft;
    if (!created) throw new JmapError('notCreated', JSON.stringify(r.s.notCreated));
    draftId.current = created.id;
    dirty.current = false;
    localStorage.removeItem(LOCAL_KEY);
    setSavedAt(new Date());
  }, [accountId, drafts, emailObject]);

  // Anything typed is kept in this browser at once, and saved to Drafts every few seconds while it changes.
  useEffect(() => {
    if (to === seed.to && cc === seed.cc && subject === seed.subject && text === initialText && attachments === seed.attachments) return;
    dirty.current = true;
    localStorage.setItem(LOCAL_KEY, JSON.stringify({ to, cc, subject, text, at: Date.now() }));
  }, [to, cc, subject, text, attachments, seed, initialText]);

  const putSignature = (next: string) => {
    // Read now: the updater may run after the ref has moved on.
    const inserted = insertedSignature.current;
    setText((current) => swapSignature(current, inserted, next, seed.text));
    insertedSignature.current = next;
  };
  const chooseIdentity = (id: string) => {
    setIdentityId(id);
    putSignature(defaultSignature(identities.find((i) => i.id === id)));
  };
  const signatures = signaturesOf(identity);
  useEffect(() => {
    const timer = setInterval(() => {
      if (!dirty.current || saving.current || busy) return;
      saving.current = saveDraft()
        .catch(() => setError(t('saveFailed')))
        .finally(() => (saving.current = null));
    }, AUTOSAVE_MS);
    return () => clearInterval(timer);
  }, [saveDraft, busy, t]);
  // Leaving the page with unsaved words asks first.
  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => {
      if (dirty.current) e.preventDefault();
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, []);

  const addFiles = async (files: FileList | File[]) => {
    for (const file of Array.from(files)) {
      setUploads((u) => [...u, { name: file.name, progress: 0 }]);
      try {
        const blob = await uploadBlob(accountId, file, (p) => setUploads((u) => u.map((x) => (x.name === file.name ? { ...x, progress: p } : x))));
        setAttachments((a) => [...a, { blobId: blob.blobId, name: file.name, type: file.type || 'application/octet-stream', size: blob.size }]);
      } catch (e) {
        setError(e instanceof JmapError && e.type === 'tooLarge' ? t('tooLarge', { name: file.name }) : t('uploadFailed', { name: file.name }));
      } finally {
        setUploads((u) => u.filter((x) => x.name !== file.name));
      }
    }
  };

  const send = async () => {
    setError(null);
    const rcpt = [...parseAddresses(to).list, ...parseAddresses(cc).list];
    const bad = [...parseAddresses(to).bad, ...parseAddresses(cc).bad];
    if (bad.length) return setError(t('badAddress', { address: bad.join(', ') }));
    if (rcpt.length === 0) return setError(t('noRecipients'));
    if (!identity || !drafts || !sent) return setError(t('noIdentity'));
    setBusy(true);
    try {
      await saving.current;
      const previous = draftId.current;
      const r = await jmap([
        ['Email/set', { accountId, create: { draft: emailObject(false) }, ...(previous ? { destroy: [previous] } : {}) }, 's'],
        [
          'EmailSubmission/set',
          {
            accountId,
            create: { sub: { identityId: identity.id, emailId: '#draft' } },
            onSuccessUpdateEmail: { '#sub': { mailboxIds: { [sent.id]: true }, 'keywords/$draft': null } },
          },
          'e',
        ],
      ]);
      const notCreated = (r.s.notCreated as Record<string, { description?: string }> | undefined)?.draft;
      if (notCreated) throw new JmapError('notCreated', notCreated.description ?? '');
      draftId.current = (r.s.created as Record<string, { id: string }>).draft.id;
      const refused = (r.e.notCreated as Record<string, { type: string; description?: string }> | undefined)?.sub;
      if (refused) {
        setError(t('refused', { reason: refused.description ?? refused.type }));
        return;
      }
      if (seed.answering) await jmap([['Email/set', { accountId, update: { [seed.answering]: { 'keywords/$answered': true } } }, 'a']]).catch(() => undefined);
      dirty.current = false;
      localStorage.removeItem(LOCAL_KEY);
      onClose('sent');
    } catch (e) {
      setError(e instanceof JmapError && e.type === 'network' ? t('offline') : t('sendFailed', { reason: e instanceof Error ? e.message : '' }));
    } finally {
      setBusy(false);
    }
  };

  const close = async () => {
    if (dirty.current) {
      try {
        await saveDraft();
        onClose('saved');
      } catch {
        setError(t('saveFailed'));
      }
      return;
    }
    onClose(draftId.current ? 'saved' : 'discarded');
  };

  const discard = async () => {
    if (draftId.current) await jmap([['Email/set', { accountId, destroy: [draftId.current] }, 'd']]).catch(() => undefined);
    dirty.current = false;
    localStorage.removeItem(LOCAL_KEY);
    onClose('discarded');
  };

  return (
    <section
      className={`wm-compose${dragging ? ' wm-compose-drop' : ''}`}
      aria-labelledby="wm-compose-title"
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes('Files')) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        if (!e.dataTransfer.files.length) return;
        e.preventDefault();
        setDragging(false);
        void addFiles(e.dataTransfer.files);
      }}
    >
      <h2 id="wm-compose-title" className="wm-compose-title">
        {seed.subject ? seed.subject : t('title')}
      </h2>
      {error && <Alert role="alert" type="error" showIcon title={error} closable onClose={() => setError(null)} style={{ marginBottom: 8 }} />}
      <div className="wm-field">
        <label htmlFor="wm-from">{t('from')}</label>
        <Select id="wm-from" value={identityId} onChange={chooseIdentity} options={identities.map((i) => ({ value: i.id, label: i.name ? `${i.name} <${i.email}>` : i.email }))} />
      </div>
      {signatures.length > 1 && (
        <div className="wm-field">
          <label htmlFor="wm-signature">{tw('signature')}</label>
          <Select
            id="wm-signature"
            value={Math.max(-1, signatures.findIndex((s) => s.textSignature === insertedSignature.current))}
            onChange={(i: number) => putSignature(i < 0 ? '' : signatures[i].textSignature)}
            options={[{ value: -1, label: tw('noSignature') }, ...signatures.map((s, i) => ({ value: i, label: s.name || tw('unnamed', { n: i + 1 }) }))]}
          />
        </div>
      )}
      <div className="wm-field">
        <label htmlFor="wm-to">{t('to')}</label>
        <Input id="wm-to" value={to} onChange={(e) => setTo(e.target.value)} autoComplete="email" placeholder={t('toHint')} />
      </div>
      <div className="wm-field">
        <label htmlFor="wm-cc">{t('cc')}</label>
        <Input id="wm-cc" value={cc} onChange={(e) => setCc(e.target.value)} autoComplete="email" />
      </div>
      <div className="wm-field">
        <label htmlFor="wm-subject-input">{t('subject')}</label>
        <Input id="wm-subject-input" value={subject} onChange={(e) => setSubject(e.target.value)} />
      </div>
      <label htmlFor="wm-text" className="visually-hidden">
        {t('body')}
      </label>
      <Input.TextArea id="wm-text" value={text} onChange={(e) => setText(e.target.value)} autoSize={{ minRows: 10, maxRows: 24 }} />
      <div className="wm-compose-attachments" aria-live="polite">
        {attachments.map((a) => (
          <span key={a.blobId + a.name} className="wm-chip" data-testid="compose-attachment">
            {a.name} ({formatBytes(a.size, format)})
            <Button size="small" type="text" aria-label={t('removeAttachment', { name: a.name })} onClick={() => setAttachments((l) => l.filter((x) => x !== a))}>
              ×
            </Button>
          </span>
        ))}
        {uploads.map((u) => (
          <span key={u.name} className="wm-chip">
            {u.name} <Progress percent={Math.round(u.progress * 100)} size="small" style={{ width: 80 }} aria-label={t('uploading', { name: u.name })} />
          </span>
        ))}
      </div>
      <div className="wm-compose-bar">
        <Space wrap>
          <Button type="primary" onClick={send} loading={busy} disabled={uploads.length > 0}>
            {t('send')}
          </Button>
          <label className="file-button">
            {t('attach')}
            <input ref={fileInput} type="file" multiple className="visually-hidden" data-testid="attach-input" onChange={(e) => e.target.files && void addFiles(e.target.files).then(() => (e.target.value = ''))} />
          </label>
          <Button onClick={() => void saveDraft().catch(() => setError(t('saveFailed')))}>{t('saveDraft')}</Button>
          <Button onClick={close}>{t('close')}</Button>
          <Button danger type="text" onClick={discard}>
            {t('discard')}
          </Button>
          <Checkbox checked={receipt} onChange={(e) => setReceipt(e.target.checked)}>
            {t('receipt')}
          </Checkbox>
        </Space>
        {savedAt && (
          <span className="wm-saved" role="status">
            {t('savedAt', { time: format.dateTime(savedAt, { timeStyle: 'short', timeZone: browserTimeZone() }) })}
          </span>
        )}
      </div>
    </section>
  );
}
