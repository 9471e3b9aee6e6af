'use client';
/**
 * Every setting of the mail nodes (SMTP limits, filters, sign-in limits, relay, TLS policy), drawn from the API's own
 * schema (libs/contracts mail-settings): each with its description (the locale's from messages
 * opsSettings.descriptions.<setting>, else the schema's English), default and the value in force. Only what
 * changed is sent (PATCH); the nodes apply it without restarting. The API's validation errors are shown on the field.
 */
import { useMemo, useState } from 'react';
import { Alert, App, Button, Input, InputNumber, Select, Switch, Tag, Typography } from 'antd';
import { useFormatter, useTranslations } from 'next-intl';
import { z } from 'zod';
import { smtpSettings } from '@dizi/contracts/mail-settings.contract';
import type { SmtpSettingsPatch } from '@dizi/contracts/settings.contract';
import { ApiRequestError, SmtpSettingsView } from '../../lib/api-client';
import { browserApi } from '../../lib/browser-api';
import { errorText } from '../errors';
import { formatBytes } from '../format';
import { SettingsNav } from './settings-nav';

type Kind = 'number' | 'boolean' | 'enum' | 'string' | 'list' | 'map';
interface Field {
  key: string; // e.g. maxRecipients or relay.host
  kind: Kind;
  description: string;
  options: string[];
  min?: number;
  max?: number;
  integer: boolean;
}

/** The schema's fields, in its order; the relay's fields as relay.<name>. */
function fieldsOf(shape: Record<string, z.ZodType>, prefix = ''): Field[] {
  const out: Field[] = [];
  for (const [name, outer] of Object.entries(shape)) {
    let inner: z.ZodType = outer;
    let description = outer.description ?? '';
    while (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault) {
      inner = inner.def.innerType as z.ZodType;
      description ||= inner.description ?? '';
    }
    const key = `${prefix}${name}`;
    if (inner instanceof z.ZodObject) {
      out.push(...fieldsOf(inner.shape as Record<string, z.ZodType>, `${key}.`));
      continue;
    }
    const base = { key, description, options: [] as string[], integer: false };
    if (inner instanceof z.ZodNumber) {
      out.push({ ...base, kind: 'number', min: inner.minValue ?? undefined, max: inner.maxValue ?? undefined, integer: inner.format === 'safeint' || inner.isInt === true });
    } else if (inner instanceof z.ZodBoolean) out.push({ ...base, kind: 'boolean' });
    else if (inner instanceof z.ZodEnum) out.push({ ...base, kind: 'enum', options: inner.options.map(String) });
    else if (inner instanceof z.ZodArray) out.push({ ...base, kind: 'list' });
    else if (inner instanceof z.ZodRecord) out.push({ ...base, kind: 'map' });
    else out.push({ ...base, kind: 'string' });
  }
  return out;
}

const FIELDS = fieldsOf(smtpSettings.shape as Record<string, z.ZodType>).filter((f) => f.key !== 'relay.password');

function settingOf(path: string): string {
  return FIELDS.map((f) => f.key).find((k) => path === k || path.startsWith(`${k}.`)) ?? path;
}

function read(values: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], values);
}

/** A value as the operator edits it: lists one per line, maps as `key: value` lines. */
function toText(kind: Kind, v: unknown): string {
  if (kind === 'list') return ((v as string[]) ?? []).join('\n');
  if (kind === 'map') return Object.entries((v as Record<string, string>) ?? {}).map(([k, x]) => `${k}: ${x}`).join('\n');
  return String(v ?? '');
}

function fromText(kind: Kind, text: string): unknown {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (kind === 'list') return lines;
  if (kind === 'map') return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]));
  return text;
}

/** Settings counted in bytes (their names say so): shown in KB/MB/GB beside the number the API keeps. */
const inBytes = (key: string) => /(Bytes|ScriptSize)$/.test(key);

/** Digits grouped by thousands in the input, so 104857600 reads as 104,857,600. */
const grouped = (v: string | number | undefined) => (v === undefined || v === '' ? '' : String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ','));
const ungrouped = (v: string | undefined) => (v ?? '').replace(/,/g, '');

function shown(kind: Kind, v: unknown): string {
  if (kind === 'list') return (v as string[]).length ? (v as string[]).join(', ') : '—';
  if (kind === 'map') return Object.keys(v as object).length ? JSON.stringify(v) : '—';
  if (v === '') return '""';
  return String(v);
}

export function SmtpSettingsForm({ initial }: { initial: SmtpSettingsView }) {
  const t = useTranslations('opsSettings');
  const format = useFormatter();
  const { message } = App.useApp();
  /** A default or bound as people read it: bytes as KB/MB/GB, other numbers grouped. */
  const human = (f: Field, v: unknown) => (f.kind === 'number' && typeof v === 'number' ? (inBytes(f.key) ? formatBytes(v, format) : format.number(v)) : shown(f.kind, v));
  const [view, setView] = useState(initial);
  const [draft, setDraft] = useState<Record<string, unknown>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [q, setQ] = useState('');
  const [password, setPassword] = useState<string | null>(null);

  const values = view.values as unknown as Record<string, unknown>;
  const defaults = view.defaults as unknown as Record<string, unknown>;
  // The description in the page's language where the messages have one, else the API schema's English text.
  const described = useMemo(
    () => new Map(FIELDS.map((f) => [f.key, t.has(`descriptions.${f.key}`) ? t(`descriptions.${f.key}`) : f.description])),
    [t],
  );
  const visible = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return FIELDS.filter(
      (f) => !needle || f.key.toLowerCase().includes(needle) || f.description.toLowerCase().includes(needle) || (described.get(f.key) ?? '').toLowerCase().includes(needle),
    );
  }, [q, described]);
  const changed = Object.keys(draft).filter((k) => !k.endsWith('#text')).length + (password !== null ? 1 : 0);

  const send = async (patch: Record<string, unknown>) => {
    setSaving(true);
    setError(null);
    setErrors({});
    try {
      const body: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(patch)) {
        if (key.startsWith('relay.')) body.relay = { ...((body.relay as object) ?? {}), [key.slice(6)]: v };
        else body[key] = v;
      }
      setView(await browserApi.settings.updateSmtp(body as SmtpSettingsPatch));
      setDraft({});
      setPassword(null);
      message.success(t('saved'));
    } catch (e) {
      const fieldErrors: Record<string, string> = {};
      // The API names the part that is wrong (ipBlockList.2, relay.port): shown on the setting it belongs to.
      if (e instanceof ApiRequestError) for (const x of e.body.errors ?? []) fieldErrors[settingOf(x.field)] = x.message;
      setErrors(fieldErrors);
      setError(errorText(e));
    } finally {
      setSaving(false);
    }
  };

  const control = (f: Field) => {
    const current = f.key in draft ? draft[f.key] : read(values, f.key);
    const set = (v: unknown) => setDraft((d) => ({ ...d, [f.key]: v }));
    const id = `setting-${f.key}`;
    const described = `${id}-help`;
    const status = errors[f.key] ? 'error' : undefined;
    switch (f.kind) {
      case 'boolean':
        return <Switch id={id} aria-describedby={described} checked={Boolean(current)} onChange={set} />;
      case 'number':
        return (
          <span className="settings-number">
            <InputNumber<number>
              id={id}
              aria-describedby={described}
              status={status}
              value={current as number}
              min={f.min}
              max={f.max}
              formatter={grouped}
              parser={(v) => Number(ungrouped(v))}
              onChange={(v) => set(v)}
              style={{ width: 200, maxWidth: '100%' }}
            />
            {inBytes(f.key) && typeof current === 'number' && <span className="settings-unit" data-testid="setting-bytes">= {formatBytes(current, format)}</span>}
          </span>
        );
      case 'enum':
        return <Select id={id} aria-describedby={described} status={status} value={current as string} onChange={set} options={f.options.map((o) => ({ value: o, label: o }))} style={{ width: 200, maxWidth: '100%' }} />;
      case 'list':
      case 'map':
        return (
          <Input.TextArea
            id={id}
            aria-describedby={described}
            status={status}
            rows={2}
            value={f.key in draft ? (draft[`${f.key}#text`] as string) : toText(f.kind, current)}
            onChange={(e) => setDraft((d) => ({ ...d, [f.key]: fromText(f.kind, e.target.value), [`${f.key}#text`]: e.target.value }))}
          />
        );
      default:
        return <Input id={id} aria-describedby={described} status={status} value={current as string} onChange={(e) => set(e.target.value)} autoComplete="off" />;
    }
  };

  const patchOf = (d: Record<string, unknown>) => Object.fromEntries(Object.entries(d).filter(([k]) => !k.endsWith('#text')));

  return (
    <>
      <SettingsNav />
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary" style={{ maxWidth: 820 }}>
        {t('intro')}
      </Typography.Paragraph>
      <div className="page-toolbar settings-toolbar">
        <Input.Search className="grow" style={{ maxWidth: 320 }} allowClear aria-label={t('search')} placeholder={t('search')} onChange={(e) => setQ(e.target.value)} />
        <Typography.Text aria-live="polite">{t('changed', { count: changed })}</Typography.Text>
        <Button onClick={() => (setDraft({}), setPassword(null), setErrors({}), setError(null))} disabled={changed === 0 || saving}>
          {t('discard')}
        </Button>
        <Button type="primary" onClick={() => send({ ...patchOf(draft), ...(password !== null ? { 'relay.password': password } : {}) })} disabled={changed === 0} loading={saving}>
          {t('save')}
        </Button>
      </div>
      {error && <Alert type="error" showIcon title={t('invalid', { message: error })} style={{ marginBottom: 12 }} data-testid="settings-error" />}
      <ul className="settings-list" aria-label={t('title')}>
        {visible.map((f) => {
          const overridden = view.overridden.includes(f.key);
          return (
            <li key={f.key} data-setting={f.key}>
              <div className="settings-name">
                <label htmlFor={`setting-${f.key}`} style={{ fontWeight: 600, overflowWrap: 'anywhere' }}>
                  {f.key}
                </label>{' '}
                {overridden && <Tag color="#1557b0">{t('overridden')}</Tag>}
                {f.key in draft && <Tag color="#b26a00">{t('unsaved')}</Tag>}
                <div id={`setting-${f.key}-help`} className="settings-help">
                  {described.get(f.key) && <span data-testid="setting-description">{described.get(f.key)}{t('descriptionEnd')}</span>}
                  <span>
                    {t('default', { value: human(f, read(defaults, f.key)) })}
                    {f.kind === 'number' && f.min !== undefined && f.max !== undefined && ` · ${t('range', { min: human(f, f.min), max: human(f, f.max) })}`}
                  </span>
                </div>
                {errors[f.key] && (
                  <div className="settings-field-error" role="alert">
                    {errors[f.key]}
                  </div>
                )}
              </div>
              <div className="settings-control">
                {control(f)}
                {overridden && (
                  <Button size="small" type="link" onClick={() => send({ [f.key]: null })} aria-label={`${t('reset')} ${f.key}`}>
                    {t('reset')}
                  </Button>
                )}
              </div>
            </li>
          );
        })}
        <li data-setting="relay.password">
          <div className="settings-name">
            <label htmlFor="setting-relay.password" style={{ fontWeight: 600 }}>
              relay.password
            </label>
            <div className="settings-help">{view.values.relay.passwordSet ? t('passwordSet') : t('passwordUnset')}</div>
          </div>
          <div className="settings-control">
            <Input.Password id="setting-relay.password" value={password ?? ''} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
          </div>
        </li>
      </ul>
    </>
  );
}
