/** Public address book import (CSV, vCard 3.0/4.0) with its per-row report, and vCard export: who may, and what lands in the book. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from './harness';
import { SignedInMailbox, startHarbourWorld } from './mail-admin-fixture';

describe('address book import and export', () => {
  let api: TestApi;
  let adminA: SignedInMailbox;
  let adminB: SignedInMailbox;
  let userA: SignedInMailbox;
  let bookA: { id: string };

  const importFile = (token: string, body: unknown, book = bookA.id) => api.request('POST', `/api/address-books/${book}/contacts/import`, { token, body });
  const exportFile = (token: string, query = '', book = bookA.id) => api.request('GET', `/api/address-books/${book}/contacts/export${query}`, { token });
  const contacts = async () =>
    (await api.db.dataSource.query(`SELECT email, display_name, phone, organization, title, notes FROM contact WHERE book_id = $1 ORDER BY email`, [bookA.id])) as Record<string, string>[];

  beforeAll(async () => {
    ({ api, adminA, adminB, userA } = await startHarbourWorld());
    const r = await api.request('POST', '/api/address-books', { token: adminA.token, body: { name: '供应商', domain: 'a.test' } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    bookA = r.body;
    await api.request('POST', `/api/address-books/${bookA.id}/contacts`, { token: adminA.token, body: { email: 'kept@x.example', displayName: 'Kept', phone: '111' } });
  });
  afterAll(() => api?.close());

  it('imports CSV rows and reports each: created, skipped as a duplicate or existing contact, failed with the reason', async () => {
    const csv = [
      '姓名,电子邮件,电话,公司',
      '王芳,Fang.Wang@Supplier.example,+86 10 1,供应商甲',
      'No address,,,',
      'Bad,not an address,,',
      'Again,fang.wang@supplier.example,,',
      'Kept again,kept@x.example,222,',
      `Long,long@x.example,${'9'.repeat(65)},`,
    ].join('\n');
    const r = await importFile(adminA.token, { format: 'csv', content: csv });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect({ ...r.body, rows: undefined }).toEqual({ created: 1, updated: 0, skipped: 2, failed: 3, rows: undefined });
    expect(r.body.rows.map((x: any) => [x.line, x.status, x.email])).toEqual([
      [2, 'created', 'fang.wang@supplier.example'],
      [3, 'failed', null],
      [4, 'failed', 'not an address'],
      [5, 'skipped', 'fang.wang@supplier.example'],
      [6, 'skipped', 'kept@x.example'],
      [7, 'failed', 'long@x.example'],
    ]);
    expect(r.body.rows[1].message).toMatch(/no email address/);
    expect(r.body.rows[2].message).not.toBe('');
    expect(r.body.rows[3].message).toMatch(/line 2/);
    expect(r.body.rows[4].message).toMatch(/already in the address book/);
    expect(r.body.rows[5].message).toMatch(/^phone: /);
    expect(await contacts()).toEqual([
      { email: 'fang.wang@supplier.example', display_name: '王芳', phone: '+86 10 1', organization: '供应商甲', title: '', notes: '' },
      { email: 'kept@x.example', display_name: 'Kept', phone: '111', organization: '', title: '', notes: '' },
    ]);
    const [audit] = await api.db.dataSource.query(`SELECT action, after FROM audit_event WHERE action = 'contact.import'`);
    expect(audit.after).toMatchObject({ format: 'csv', created: 1, skipped: 2, failed: 3 });
  });

  it('imports vCard 3.0 and 4.0, updating existing contacts when asked, only with the fields the card fills', async () => {
    const vcf = [
      'BEGIN:VCARD', 'VERSION:3.0', 'FN:Kept Updated', 'EMAIL;TYPE=INTERNET:KEPT@x.example', 'TITLE:Buyer', 'END:VCARD',
      'BEGIN:VCARD', 'VERSION:4.0', 'FN:李雷', 'EMAIL:lei@y.example', 'TEL;VALUE=uri:tel:+86-21-2', 'NOTE:第一行\\n第二行', 'END:VCARD',
      'BEGIN:VCARD', 'VERSION:2.1', 'FN:Old', 'EMAIL:old@y.example', 'END:VCARD',
    ].join('\r\n');
    const r = await importFile(adminA.token, { format: 'vcard', content: vcf, existing: 'update' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.rows.map((x: any) => [x.line, x.status])).toEqual([[1, 'updated'], [7, 'created'], [14, 'failed']]);
    expect(r.body.rows[2].message).toMatch(/2\.1 is not supported/);
    const rows = await contacts();
    expect(rows.find((c) => c.email === 'kept@x.example')).toEqual({ email: 'kept@x.example', display_name: 'Kept Updated', phone: '111', organization: '', title: 'Buyer', notes: '' });
    expect(rows.find((c) => c.email === 'lei@y.example')).toMatchObject({ display_name: '李雷', phone: '+86-21-2', notes: '第一行\n第二行' });
  });

  it('exports the book as vCard 4.0 or 3.0, which imports back into another book unchanged', async () => {
    const v4 = await exportFile(userA.token);
    expect(v4.status).toBe(200);
    expect(v4.headers.get('content-type')).toMatch(/^text\/vcard/);
    expect(v4.headers.get('content-disposition')).toMatch(/attachment; filename="a\.test-.*\.vcf"/);
    expect(v4.body.match(/BEGIN:VCARD\r\nVERSION:4\.0\r\n/g)).toHaveLength(3);
    const v3 = await exportFile(adminA.token, '?version=3.0');
    expect(v3.body.match(/VERSION:3\.0\r\n/g)).toHaveLength(3);
    expect((await exportFile(adminA.token, '?version=2.1')).status).toBe(400);

    const copy = await api.request('POST', '/api/address-books', { token: adminA.token, body: { name: 'Copy', domain: 'a.test' } });
    const back = await importFile(adminA.token, { format: 'vcard', content: v3.body }, copy.body.id);
    expect(back.body).toMatchObject({ created: 3, failed: 0, skipped: 0 });
    const copied = await api.db.dataSource.query(
      `SELECT email, display_name, phone, organization, title, notes FROM contact WHERE book_id = $1 ORDER BY email`,
      [copy.body.id],
    );
    expect(copied).toEqual(await contacts());
  });

  it('refuses users, other domains and unusable files, changing nothing', async () => {
    const before = await contacts();
    const csv = { format: 'csv', content: 'n,e\nX,x@z.example\n' };
    expect((await importFile(userA.token, csv)).status).toBe(403);
    expect((await importFile(adminB.token, csv)).status).toBe(404);
    expect((await exportFile(adminB.token)).status).toBe(404);
    const empty = await importFile(adminA.token, { format: 'vcard', content: '\n\n' });
    expect(empty.status).toBe(400);
    expect(empty.body.message).toMatch(/no vCard/);
    const broken = await importFile(adminA.token, { format: 'csv', content: 'a,"b\n' });
    expect(broken.status).toBe(400);
    expect(broken.body.message).toMatch(/cannot be read/);
    expect((await importFile(adminA.token, { format: 'xls', content: 'x' })).status).toBe(400);
    const tooMany = await importFile(adminA.token, { format: 'csv', content: Array.from({ length: 10_001 }, (_, i) => `u${i},u${i}@z.example`).join('\n') });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toMatch(/at most 10000/);
    expect(await contacts()).toEqual(before);
  });

  it('documents import and export in OpenAPI', () => {
    const paths = api.openApi.paths;
    expect(JSON.stringify(paths['/api/address-books/{id}/contacts/import']?.post?.responses?.['200'])).toContain('ImportContactsReport');
    expect(JSON.stringify(paths['/api/address-books/{id}/contacts/export']?.get?.responses?.['200'])).toContain('text/vcard');
  });
});
