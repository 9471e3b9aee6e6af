/**
 * Contacts in and out of the public address books: vCard 3.0 (RFC 2426) and 4.0 (RFC 6350) read and written, CSV
 * read (the console's own export, or the usual headers of Outlook, Google and Chinese mail clients' exports). Each
 * record read becomes one row of the import report, numbered by the line it starts on.
 */
import { parse } from 'csv-parse/sync';

export interface ContactRecord {
  displayName: string;
  email: string;
  phone: string;
  organization: string;
  title: string;
  notes: string;
}

/** One record of the uploaded file: the fields read, or why it could not be read. */
export interface SourceRow {
  line: number;
  fields?: ContactRecord;
  error?: string;
}

const empty = (): ContactRecord => ({ displayName: '', email: '', phone: '', organization: '', title: '', notes: '' });

// ---------------------------------------------------------------------------------------------------------------
// vCard

interface VCardProperty {
  name: string;
  params: Map<string, string[]>;
  value: string;
}

/** Splits a content line at the first unquoted ':' into name+parameters and value (RFC 6350 §3.3). */
function parseContentLine(line: string): VCardProperty | null {
  let inQuotes = false;
  let colon = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (c === ':' && !inQuotes) {
      colon = i;
      break;
    }
  }
  if (colon < 0) return null;
  const head = line.slice(0, colon);
  const parts: string[] = [];
  let cur = '';
  inQuotes = false;
  for (const c of head) {
    if (c === '"') inQuotes = !inQuotes;
    if (c === ';' && !inQuotes) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  const [rawName, ...rawParams] = parts;
  const params = new Map<string, string[]>();
  for (const p of rawParams) {
    const eq = p.indexOf('=');
    // vCard 2.1/3.0 allow a bare type ("TEL;HOME;VOICE").
    const key = (eq < 0 ? 'TYPE' : p.slice(0, eq)).trim().toUpperCase();
    const values = (eq < 0 ? p : p.slice(eq + 1)).split(',').map((v) => v.trim().replace(/^"|"$/g, '').toLowerCase());
    params.set(key, [...(params.get(key) ?? []), ...values]);
  }
  // A group prefix ("item1.EMAIL", Apple's export) is dropped.
  const name = rawName.trim().toUpperCase().replace(/^[^.]*\./, '');
  return { name, params, value: line.slice(colon + 1) };
}

/** Splits a structured value at unescaped `sep`, then unescapes each component. */
function splitEscaped(value: string, sep: ';' | ','): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) {
      cur += c + value[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map(unescapeText);
}

function unescapeText(value: string): string {
  return value.replace(/\\([\\,;nN:])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

const isPreferred = (p: VCardProperty) =>
  (p.params.get('TYPE') ?? []).includes('pref') || (p.params.get('PREF') ?? []).some((v) => Number(v) === 1);

/** The preferred property of a name (PREF=1 or TYPE=pref), else the first. */
function pick(props: VCardProperty[], name: string): VCardProperty | undefined {
  const all = props.filter((p) => p.name === name);
  return all.find(isPreferred) ?? all[0];
}

function cardToRecord(props: VCardProperty[]): ContactRecord {
  const r = empty();
  const text = (name: string) => {
    const p = pick(props, name);
    return p ? unescapeText(p.value).trim() : '';
  };
  r.displayName = text('FN');
  if (!r.displayName) {
    // N: family;given;additional;prefixes;suffixes
    const n = pick(props, 'N');
    if (n) {
      const [family = '', given = '', additional = '', prefix = '', suffix = ''] = splitEscaped(n.value, ';');
      r.displayName = [prefix, given, additional, family, suffix].map((s) => s.trim()).filter(Boolean).join(' ');
    }
  }
  r.email = text('EMAIL').replace(/^mailto:/i, '');
  r.phone = text('TEL').replace(/^tel:/i, '');
  const org = pick(props, 'ORG');
  if (org) r.organization = splitEscaped(org.value, ';').map((s) => s.trim()).filter(Boolean).join(', ');
  r.title = text('TITLE');
  r.notes = text('NOTE');
  return r;
}

/** Reads every card of a vCard file (3.0 or 4.0); a card that cannot be used is a row with its error. */
export function parseVCards(input: string): SourceRow[] {
  const physical = input.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  // Unfold (RFC 6350 §3.2): a line starting with a space or tab continues the previous one.
  const lines: { line: number; text: string }[] = [];
  physical.forEach((text, i) => {
    if ((text.startsWith(' ') || text.startsWith('\t')) && lines.length > 0) lines[lines.length - 1].text += text.slice(1);
    else lines.push({ line: i + 1, text });
  });
  const rows: SourceRow[] = [];
  let card: { line: number; props: VCardProperty[] } | null = null;
  for (const { line, text } of lines) {
    if (!text.trim()) continue;
    const prop = parseContentLine(text);
    if (prop?.name === 'BEGIN' && prop.value.trim().toUpperCase() === 'VCARD') {
      if (card) rows.push({ line: card.line, error: 'the card has no END:VCARD line before the next BEGIN:VCARD' });
      card = { line, props: [] };
    } else if (prop?.name === 'END' && prop.value.trim().toUpperCase() === 'VCARD') {
      if (!card) {
        rows.push({ line, error: 'END:VCARD without BEGIN:VCARD' });
        continue;
      }
      rows.push(cardRow(card.line, card.props));
      card = null;
    } else if (card) {
      if (prop) card.props.push(prop);
    } else {
      rows.push({ line, error: 'text outside BEGIN:VCARD … END:VCARD; is this a vCard file?' });
      // One such row is enough to say what is wrong with the file.
      if (rows.filter((r) => r.error?.startsWith('text outside')).length > 1) rows.pop();
    }
  }
  if (card) rows.push({ line: card.line, error: 'the card has no END:VCARD line (the file is cut short?)' });
  return rows;
}

function cardRow(line: number, props: VCardProperty[]): SourceRow {
  const version = pick(props, 'VERSION')?.value.trim();
  if (version !== '3.0' && version !== '4.0') {
    return { line, error: version ? `vCard ${version} is not supported; export the contacts as vCard 3.0 or 4.0` : 'the card has no VERSION line (3.0 or 4.0)' };
  }
  const quotedPrintable = props.some((p) => (p.params.get('ENCODING') ?? []).includes('quoted-printable'));
  if (quotedPrintable) return { line, error: 'quoted-printable values are vCard 2.1; export the contacts as vCard 3.0 or 4.0' };
  return { line, fields: cardToRecord(props) };
}

const escapeText = (value: string) => value.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r\n|\r|\n/g, '\\n');

/** Folds a content line at 75 octets of UTF-8 without splitting a character (RFC 6350 §3.2). */
function fold(line: string): string {
  const out: string[] = [];
  let cur = '';
  let bytes = 0;
  for (const ch of line) {
    const n = Buffer.byteLength(ch);
    const limit = out.length === 0 ? 75 : 74; // continuation lines start with one space
    if (bytes + n > limit) {
      out.push(cur);
      cur = '';
      bytes = 0;
    }
    cur += ch;
    bytes += n;
  }
  out.push(cur);
  return out.join('\r\n ');
}

export interface ExportedContact extends ContactRecord {
  id: string;
  updatedAt: Date;
}

/** The contacts as one vCard file of the version asked for, CRLF line ends, UTF-8. */
export function writeVCards(contacts: ExportedContact[], version: '3.0' | '4.0'): string {
  const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const lines: string[] = [];
  for (const c of contacts) {
    const name = c.displayName.trim();
    const space = name.lastIndexOf(' ');
    const [family, given] = space < 0 ? [name, ''] : [name.slice(space + 1), name.slice(0, space)];
    lines.push('BEGIN:VCARD', `VERSION:${version}`, 'PRODID:-//Dizi//Address book//EN');
    lines.push(version === '4.0' ? `UID:urn:uuid:${c.id}` : `UID:${c.id}`);
    lines.push(`FN:${escapeText(name || c.email)}`);
    lines.push(`N:${escapeText(family)};${escapeText(given)};;;`);
    lines.push(version === '4.0' ? `EMAIL:${escapeText(c.email)}` : `EMAIL;TYPE=INTERNET:${escapeText(c.email)}`);
    if (c.phone) lines.push(version === '4.0' ? `TEL;VALUE=text:${escapeText(c.phone)}` : `TEL;TYPE=VOICE:${escapeText(c.phone)}`);
    if (c.organization) lines.push(`ORG:${escapeText(c.organization)}`);
    if (c.title) lines.push(`TITLE:${escapeText(c.title)}`);
    if (c.notes) lines.push(`NOTE:${escapeText(c.notes)}`);
    lines.push(`REV:${stamp(c.updatedAt)}`, 'END:VCARD');
  }
  return lines.map(fold).join('\r\n') + (lines.length ? '\r\n' : '');
}

// ---------------------------------------------------------------------------------------------------------------
// CSV

type Column = keyof ContactRecord | 'given' | 'family';

// Header names, compared without case, spaces, hyphens and underscores.
const HEADERS: Record<string, Column> = {
  displayname: 'displayName', name: 'displayName', fullname: 'displayName', 姓名: 'displayName', 名称: 'displayName', 显示名称: 'displayName', 名字: 'displayName',
  firstname: 'given', givenname: 'given', 名: 'given',
  lastname: 'family', familyname: 'family', surname: 'family', 姓: 'family',
  email: 'email', emailaddress: 'email', mail: 'email', email1value: 'email', 邮箱: 'email', 电子邮件: 'email', 电子邮箱: 'email', 邮件地址: 'email', 邮箱地址: 'email',
  phone: 'phone', telephone: 'phone', tel: 'phone', mobile: 'phone', mobilephone: 'phone', businessphone: 'phone', phone1value: 'phone', 电话: 'phone', 手机: 'phone', 手机号: 'phone', 联系电话: 'phone',
  organization: 'organization', organisation: 'organization', company: 'organization', org: 'organization', organizationname: 'organization', organization1name: 'organization', 公司: 'organization', 单位: 'organization', 组织: 'organization',
  title: 'title', jobtitle: 'title', organizationtitle: 'title', organization1title: 'title', 职位: 'title', 职务: 'title',
  notes: 'notes', note: 'notes', 备注: 'notes',
};
const headerKey = (cell: string) => cell.trim().toLowerCase().replace(/[\s\-_]/g, '');
// Without a header row, the columns are those of the console's export.
const POSITIONAL: Column[] = ['displayName', 'email', 'phone', 'organization', 'title', 'notes'];
// Spreadsheet formula guard written by exports ("'=..."), undone on the way in.
const restoreCell = (v: string) => (/^'[=+\-@\t\r]/.test(v) ? v.slice(1) : v);

/** Reads a CSV file of contacts. A first row naming an email column is the header; otherwise the export's order. */
export function parseContactCsv(input: string): SourceRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(input.replace(/^\uFEFF/, ''), { info: true, relax_column_count: true, skip_empty_lines: true, bom: true, trim: false }) as unknown as typeof records;
  } catch (e) {
    const err = e as { message?: string; lines?: number };
    return [{ line: err.lines ?? 1, error: `the CSV file cannot be read: ${err.message ?? String(e)}` }];
  }
  if (records.length === 0) return [];
  let columns = POSITIONAL;
  const first = records[0].record.map((c) => HEADERS[headerKey(c)]);
  if (first.includes('email')) {
    columns = first.map((c) => c ?? ('ignored' as Column));
    records = records.slice(1);
  }
  return records.map(({ record, info }) => {
    const r = empty();
    let given = '';
    let family = '';
    record.forEach((raw, i) => {
      const col = columns[i];
      const value = restoreCell(raw).trim();
      if (!col || !value) return;
      if (col === 'given') given = value;
      else if (col === 'family') family = value;
      else if (col in r && !r[col as keyof ContactRecord]) r[col as keyof ContactRecord] = value;
    });
    if (!r.displayName) r.displayName = [given, family].filter(Boolean).join(' ');
    // info.lines is where the record ends; a quoted line break inside it moves its start up.
    const breaks = record.reduce((n, cell) => n + (cell.match(/\r\n|\n|\r/g)?.length ?? 0), 0);
    return { line: info.lines - breaks, fields: r };
  });
}
