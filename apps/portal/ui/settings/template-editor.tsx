'use client';
/**
 * The system mails (welcome, quota warning) in Simplified Chinese and English: edit subject and body with the
 * placeholders each template may use, preview the draft filled with a sample mailbox (the API renders it, as
 * delivery will), and save both languages at once. The API's reasons for refusing a template are shown on the field.
 */
import { useState } from 'react';
import { Alert, App, Button, Card, Input, Segmented, Space, Tag, Typography } from 'antd';
import { useTranslations } from 'next-intl';
import { TEMPLATE_KINDS, TEMPLATE_LANGUAGES, TemplateKind, TemplateLanguage } from '@dizi/contracts/settings.contract';
import { ApiRequestError, MailTemplatesView, TemplatePreview } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { errorText } from '../errors';
import { SettingsNav } from './settings-nav';

type Texts = MailTemplatesView['values'];
type Preview = TemplatePreview['items'][number];

export function TemplateEditor({ initial }: { initial: MailTemplatesView }) {
  const t = useTranslations('opsSettings.templates');
  const { message } = App.useApp();
  const [view, setView] = useState(initial);
  const [kind, setKind] = useState<TemplateKind>('welcome');
  const [draft, setDraft] = useState<Texts>(initial.values);
  const [previews, setPreviews] = useState<Partial<Record<TemplateLanguage, Preview>>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const edit = (lang: TemplateLanguage, part: 'subject' | 'body', value: string) =>
    setDraft((d) => ({ ...d, [kind]: { ...d[kind], [lang]: { ...d[kind][lang], [part]: value } } }));
  const dirty = JSON.stringify(draft) !== JSON.stringify(view.values);

  const fail = (e: unknown, prefix: string) => {
    const fieldErrors: Record<string, string> = {};
    if (e instanceof ApiRequestError) for (const x of e.body.errors ?? []) fieldErrors[`${prefix}${x.field}`] = x.message;
    setErrors(fieldErrors);
    setError(errorText(e));
  };

  const preview = async () => {
    setBusy(true);
    setError(null);
    setErrors({});
    try {
      const out: Partial<Record<TemplateLanguage, Preview>> = {};
      for (const language of TEMPLATE_LANGUAGES) {
        const r = await browserApi.settings.previewTemplate({ kind, language, draft: draft[kind][language] }).catch((e: unknown) => {
          throw Object.assign(e as object, { language });
        });
        out[language] = r.items[0];
      }
      setPreviews(out);
    } catch (e) {
      // The preview's fields are draft.subject / draft.body: shown under the language's field.
      fail(e, `${kind}.${(e as { language?: string }).language}.`);
      setErrors((x) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k.replace('.draft.', '.'), v])));
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    setBusy(true);
    setError(null);
    setErrors({});
    try {
      const saved = await browserApi.settings.updateTemplates(draft);
      setView(saved);
      setDraft(saved.values);
      message.success(t('saved'));
    } catch (e) {
      fail(e, '');
    } finally {
      setBusy(false);
    }
  };

  const languageName = (l: TemplateLanguage) => (l === 'zh-CN' ? '简体中文' : 'English');

  return (
    <>
      <SettingsNav />
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary" style={{ maxWidth: 820 }}>
        {t('intro')}
      </Typography.Paragraph>
      <div className="page-toolbar">
        {/* Three templates are wider than a phone: the choice scrolls in its own box, not the page. */}
        <div style={{ maxWidth: '100%', minWidth: 0, overflowX: 'auto' }}>
          <Segmented<TemplateKind>
            value={kind}
            onChange={(k) => (setKind(k), setPreviews({}), setErrors({}), setError(null))}
            options={TEMPLATE_KINDS.map((k) => ({ value: k, label: t(`kinds.${k}`) }))}
            aria-label={t('kind')}
          />
        </div>
        <Space wrap>
          <Button onClick={preview} loading={busy}>
            {t('preview')}
          </Button>
          <Button onClick={() => setDraft((d) => ({ ...d, [kind]: view.defaults[kind] }))}>{t('useDefault')}</Button>
          <Button type="primary" onClick={save} loading={busy} disabled={!dirty}>
            {t('save')}
          </Button>
        </Space>
      </div>
      <Typography.Paragraph>
        {t('placeholders')}{' '}
        {Object.entries(view.placeholders[kind] ?? {}).map(([name, meaning]) => (
          <Tag key={name} title={meaning} style={{ marginBottom: 4 }}>
            {`{{${name}}}`}
          </Tag>
        ))}
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon title={t('invalid', { message: error })} style={{ marginBottom: 12 }} data-testid="template-error" />}
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 16 }}>
        {TEMPLATE_LANGUAGES.map((lang) => {
          const key = `${kind}.${lang}`;
          const p = previews[lang];
          return (
            <Card key={lang} title={<h2 style={{ fontSize: 16, margin: 0 }}>{languageName(lang)}</h2>} style={{ flex: '1 1 360px', minWidth: 0 }} data-testid={`template-${lang}`}>
              <label htmlFor={`${key}.subject`} style={{ display: 'block', marginBottom: 4 }}>
                {t('subject')} ({languageName(lang)})
              </label>
              <Input id={`${key}.subject`} lang={lang} status={errors[`${key}.subject`] ? 'error' : undefined} value={draft[kind][lang].subject} onChange={(e) => edit(lang, 'subject', e.target.value)} />
              {errors[`${key}.subject`] && <div className="settings-field-error">{errors[`${key}.subject`]}</div>}
              <label htmlFor={`${key}.body`} style={{ display: 'block', margin: '12px 0 4px' }}>
                {t('body')} ({languageName(lang)})
              </label>
              <Input.TextArea id={`${key}.body`} lang={lang} rows={8} status={errors[`${key}.body`] ? 'error' : undefined} value={draft[kind][lang].body} onChange={(e) => edit(lang, 'body', e.target.value)} />
              {errors[`${key}.body`] && <div className="settings-field-error">{errors[`${key}.body`]}</div>}
              {p && (
                <section aria-label={t('previewOf', { language: languageName(lang) })} className="template-preview" lang={lang} data-testid={`preview-${lang}`}>
                  <div className="template-preview-subject">{p.subject}</div>
                  <pre>{p.body}</pre>
                </section>
              )}
            </Card>
          );
        })}
      </div>
    </>
  );
}
