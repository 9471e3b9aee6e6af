/** Public address books (system-wide and per domain), their contacts, and the domain directory: who reads, who writes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from './harness';
import { ApiDomain, auditActions, insertMailbox, SignedInMailbox, signedInMailbox, startHarbourWorld } from './mail-admin-fixture';

describe('address books', () => {
  let api: TestApi;
  let op: string;
  let a: ApiDomain;
  let b: ApiDomain;
  let tenantAdmin: SignedInMailbox;
  let adminA: SignedInMailbox;
  let adminB: SignedInMailbox;
  let userA: SignedInMailbox;
  let userB: SignedInMailbox;
  let otherTenantAdmin: SignedInMailbox;
  let systemBook: any;
  let bookA: any;
  let bookB: any;

  const create = (token: string, body: unknown) => api.request('POST', '/api/address-books', { token, body });
  const bookNames = async (token: string, query = '') =>
    ((await api.request('GET', `/api/address-books${query}`, { token })).body.items as any[]).map((x) => x.name);
  const contactRows = (bookId: string) => api.db.dataSource.query(`SELECT * FROM contact WHERE book_id = $1 ORDER BY email`, [bookId]);

  beforeAll(async () => {
    ({ api, op, a, b, tenantAdmin, adminA, adminB, userA, otherTenantAdmin } = await startHarbourWorld());
    userB = await signedInMailbox(api, b, 'bea', 'user');
  });
  afterAll(() => api?.close());

  it('lets only operators create system-wide books', async () => {
    for (const who of [tenantAdmin, adminA, userA]) {
      const r = await create(who.token, { name: 'Everyone' });
      expect(r.status).toBe(403);
    }
    const r = await create(op, { name: 'Emergency numbers' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ scope: 'system', tenantId: null, domainId: null, domainName: null, name: 'Emergency numbers', contactCount: 0 });
    expect(new Date(r.body.createdAt).toISOString()).toBe(r.body.createdAt);
    systemBook = r.body;
    const [row] = await api.db.dataSource.query(`SELECT * FROM address_book WHERE id = $1`, [r.body.id]);
    expect(row).toMatchObject({ tenant_id: null, domain_id: null, name: 'Emergency numbers' });
    expect(await api.db.dataSource.query(`SELECT count(*)::int AS n FROM address_book`)).toEqual([{ n: 1 }]);
    const [audit] = await api.db.dataSource.query(`SELECT action, tenant_id, actor_role FROM audit_event WHERE object_id = $1`, [r.body.id]);
    expect(audit).toEqual({ action: 'address_book.create', tenant_id: null, actor_role: 'operator' });
  });

  it("lets a domain's admins and those above create its books, nobody else", async () => {
    const r = await create(adminA.token, { name: 'Suppliers', domain: 'A.test' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ scope: 'domain', tenantId: a.tenantId, domainId: a.id, domainName: 'a.test', name: 'Suppliers' });
    bookA = r.body;
    const rb = await create(tenantAdmin.token, { name: 'Suppliers', domain: b.id });
    expect(rb.status).toBe(201);
    bookB = rb.body;

    expect((await create(adminA.token, { name: 'Sneaky', domain: 'b.test' })).status).toBe(404);
    expect((await create(otherTenantAdmin.token, { name: 'Sneaky', domain: a.id })).status).toBe(404);
    expect((await create(userB.token, { name: 'Sneaky', domain: 'a.test' })).status).toBe(404);
    expect((await create(userA.token, { name: 'Sneaky', domain: 'a.test' })).status).toBe(403);
    expect(await api.db.dataSource.query(`SELECT 1 FROM address_book WHERE name = 'Sneaky'`)).toHaveLength(0);

    const dup = await create(tenantAdmin.token, { name: 'SUPPLIERS', domain: 'a.test' });
    expect(dup.status).toBe(409);
    expect(dup.body.field).toBe('name');
    const dupSystem = await create(op, { name: 'emergency NUMBERS' });
    expect(dupSystem.status).toBe(409);
    expect(dupSystem.body.field).toBe('name');
    const empty = await create(op, { name: '  ' });
    expect(empty.status).toBe(400);
    expect(empty.body.field).toBe('name');
  });

  it('lists system books plus those of the domains the actor reads', async () => {
    expect(await bookNames(userA.token)).toEqual(['Emergency numbers', 'Suppliers']);
    expect((await api.request('GET', '/api/address-books', { token: userA.token })).body.items[1].domainId).toBe(a.id);
    expect((await api.request('GET', '/api/address-books', { token: adminB.token })).body.items.map((x: any) => x.id)).toEqual([systemBook.id, bookB.id]);
    expect(await bookNames(otherTenantAdmin.token)).toEqual(['Emergency numbers']);
    expect((await api.request('GET', '/api/address-books', { token: tenantAdmin.token })).body.total).toBe(3);
    expect((await api.request('GET', '/api/address-books', { token: op })).body.total).toBe(3);
    const onlyA = await api.request('GET', '/api/address-books?domain=a.test', { token: userA.token });
    expect(onlyA.body.items.map((x: any) => x.id)).toEqual([bookA.id]);
    expect((await api.request('GET', '/api/address-books?domain=b.test', { token: userA.token })).status).toBe(404);
    expect((await api.request('GET', `/api/address-books?domain=${a.id}`, { token: otherTenantAdmin.token })).status).toBe(404);
  });

  it('reads a book by id: system books for everyone, domain books for that domain only', async () => {
    for (const who of [userA, userB, otherTenantAdmin, adminA]) {
      const r = await api.request('GET', `/api/address-books/${systemBook.id}`, { token: who.token });
      expect(r.status).toBe(200);
      expect(r.body.name).toBe('Emergency numbers');
    }
    expect((await api.request('GET', `/api/address-books/${bookA.id}`, { token: userA.token })).status).toBe(200);
    for (const who of [userB, adminB, otherTenantAdmin]) {
      expect((await api.request('GET', `/api/address-books/${bookA.id}`, { token: who.token })).status).toBe(404);
    }
    expect((await api.request('GET', '/api/address-books/not-a-uuid', { token: op })).status).toBe(404);
  });

  it('renames books: system ones by operators only, domain ones by their admins', async () => {
    expect((await api.request('PATCH', `/api/address-books/${systemBook.id}`, { token: tenantAdmin.token, body: { name: 'Mine' } })).status).toBe(403);
    expect((await api.request('PATCH', `/api/address-books/${systemBook.id}`, { token: userA.token, body: { name: 'Mine' } })).status).toBe(403);
    const sys = await api.request('PATCH', `/api/address-books/${systemBook.id}`, { token: op, body: { name: 'Emergency' } });
    expect(sys.status).toBe(200);
    expect(sys.body.name).toBe('Emergency');

    expect((await api.request('PATCH', `/api/address-books/${bookA.id}`, { token: userA.token, body: { name: 'Mine' } })).status).toBe(403);
    expect((await api.request('PATCH', `/api/address-books/${bookA.id}`, { token: adminB.token, body: { name: 'Mine' } })).status).toBe(404);
    expect((await api.request('PATCH', `/api/address-books/${bookA.id}`, { token: otherTenantAdmin.token, body: { name: 'Mine' } })).status).toBe(404);
    const mine = await api.request('PATCH', `/api/address-books/${bookA.id}`, { token: adminA.token, body: { name: 'Partners' } });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ name: 'Partners', domainName: 'a.test' });
    const names = await api.db.dataSource.query(`SELECT name FROM address_book ORDER BY name`);
    expect(names.map((r: any) => r.name)).toEqual(['Emergency', 'Partners', 'Suppliers']);
    expect(await auditActions(api, systemBook.id)).toEqual(['address_book.create', 'address_book.update']);
  });

  it('adds, searches, edits and deletes contacts', async () => {
    const add = (token: string, body: unknown, book = bookA.id) => api.request('POST', `/api/address-books/${book}/contacts`, { token, body });
    const ivan = await add(adminA.token, { displayName: 'Ivan Petrov', email: 'Ivan.Petrov@Supplier.example', phone: '+7 495 000', organization: 'Supplier', title: 'Sales' });
    expect(ivan.status, JSON.stringify(ivan.body)).toBe(201);
    expect(ivan.body).toMatchObject({ bookId: bookA.id, displayName: 'Ivan Petrov', email: 'ivan.petrov@supplier.example', notes: '', organization: 'Supplier' });
    expect((await add(adminA.token, { displayName: 'Zoe Quill', email: 'zoe@quill.example' })).status).toBe(201);
    expect((await add(tenantAdmin.token, { email: 'orders@bakery.example', displayName: 'Bakery orders' })).status).toBe(201);

    const dup = await add(adminA.token, { displayName: 'Ivan again', email: 'IVAN.PETROV@supplier.example' });
    expect(dup.status).toBe(409);
    expect(dup.body.field).toBe('email');
    const bad = await add(adminA.token, { displayName: 'Nobody', email: 'nobody at example' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('email');
    const missing = await add(adminA.token, { displayName: 'Nobody' });
    expect(missing.status).toBe(400);
    expect(missing.body.field).toBe('email');
    const long = await add(adminA.token, { email: 'x@y.example', phone: '1'.repeat(65) });
    expect(long.status).toBe(400);
    expect(long.body.field).toBe('phone');
    expect(await contactRows(bookA.id)).toHaveLength(3);

    expect((await add(userA.token, { email: 'friend@x.example' })).status).toBe(403);
    expect((await add(adminB.token, { email: 'friend@x.example' })).status).toBe(404);
    expect((await add(adminA.token, { email: 'friend@x.example' }, systemBook.id)).status).toBe(403);
    expect((await add(op, { email: 'fire@city.example', displayName: 'Fire brigade' }, systemBook.id)).status).toBe(201);

    const list = (token: string, query = '', book = bookA.id) => api.request('GET', `/api/address-books/${book}/contacts${query}`, { token });
    const all = await list(userA.token);
    expect(all.status).toBe(200);
    expect(all.body.items.map((x: any) => x.displayName)).toEqual(['Bakery orders', 'Ivan Petrov', 'Zoe Quill']);
    expect(all.body.total).toBe(3);
    // A misspelt surname still finds the contact; a substring of the email does too.
    expect((await list(userA.token, '?q=petrow')).body.items.map((x: any) => x.displayName)).toEqual(['Ivan Petrov']);
    expect((await list(userA.token, '?q=QUILL.ex')).body.items.map((x: any) => x.displayName)).toEqual(['Zoe Quill']);
    expect((await list(userA.token, '?q=zzzzqqq')).body).toMatchObject({ items: [], total: 0 });
    expect((await list(userA.token, '?offset=1&limit=1')).body).toMatchObject({ total: 3, offset: 1, limit: 1, items: [{ displayName: 'Ivan Petrov' }] });
    expect((await list(userB.token)).status).toBe(404);
    expect((await list(otherTenantAdmin.token, '', systemBook.id)).body.items.map((x: any) => x.email)).toEqual(['fire@city.example']);
    expect((await api.request('GET', `/api/address-books/${bookA.id}`, { token: userA.token })).body.contactCount).toBe(3);

    const id = ivan.body.id;
    expect((await api.request('PATCH', `/api/address-books/${bookA.id}/contacts/${id}`, { token: userA.token, body: { title: 'x' } })).status).toBe(403);
    expect((await api.request('PATCH', `/api/address-books/${bookB.id}/contacts/${id}`, { token: tenantAdmin.token, body: { title: 'x' } })).status).toBe(404);
    const taken = await api.request('PATCH', `/api/address-books/${bookA.id}/contacts/${id}`, { token: adminA.token, body: { email: 'zoe@quill.example' } });
    expect(taken.status).toBe(409);
    expect(taken.body.field).toBe('email');
    const p = await api.request('PATCH', `/api/address-books/${bookA.id}/contacts/${id}`, { token: adminA.token, body: { title: 'Head of sales', email: 'IVAN@supplier.example' } });
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    expect(p.body).toMatchObject({ title: 'Head of sales', email: 'ivan@supplier.example', displayName: 'Ivan Petrov' });
    expect((await contactRows(bookA.id)).find((r: any) => r.id === id)).toMatchObject({ title: 'Head of sales', email: 'ivan@supplier.example' });

    expect((await api.request('DELETE', `/api/address-books/${bookA.id}/contacts/${id}`, { token: userA.token })).status).toBe(403);
    expect((await api.request('DELETE', `/api/address-books/${bookA.id}/contacts/${id}`, { token: adminA.token })).status).toBe(204);
    expect((await api.request('DELETE', `/api/address-books/${bookA.id}/contacts/${id}`, { token: adminA.token })).status).toBe(404);
    expect(await contactRows(bookA.id)).toHaveLength(2);
    expect(await auditActions(api, id)).toEqual(['contact.create', 'contact.update', 'contact.delete']);
  });

  it('deletes a book with its contacts; system books only by operators', async () => {
    expect((await api.request('DELETE', `/api/address-books/${systemBook.id}`, { token: tenantAdmin.token })).status).toBe(403);
    expect((await api.request('DELETE', `/api/address-books/${bookA.id}`, { token: userA.token })).status).toBe(403);
    expect((await api.request('DELETE', `/api/address-books/${bookA.id}`, { token: adminB.token })).status).toBe(404);
    expect((await api.request('DELETE', `/api/address-books/${bookA.id}`, { token: adminA.token })).status).toBe(204);
    expect(await api.db.dataSource.query(`SELECT 1 FROM address_book WHERE id = $1`, [bookA.id])).toHaveLength(0);
    expect(await contactRows(bookA.id)).toHaveLength(0);
    expect((await api.request('DELETE', `/api/address-books/${systemBook.id}`, { token: op })).status).toBe(204);
    expect(await api.db.dataSource.query(`SELECT name FROM address_book`)).toEqual([{ name: 'Suppliers' }]);
  });

  it("lists a domain's active mailboxes as its directory, for its users and the admins above only", async () => {
    await insertMailbox(api, a, 'zed', { displayName: 'Zed Zimmer' });
    await insertMailbox(api, a, 'gone', { displayName: 'Gone Away', status: 'suspended' });
    await insertMailbox(api, a, 'maria', { displayName: 'María Núñez' });
    const dir = await api.request('GET', '/api/domains/a.test/directory', { token: userA.token });
    expect(dir.status, JSON.stringify(dir.body)).toBe(200);
    expect(dir.body.items).toEqual([
      { address: 'admin@a.test', displayName: '' },
      { address: 'ann@a.test', displayName: '' },
      { address: 'boss@a.test', displayName: '' },
      { address: 'maria@a.test', displayName: 'María Núñez' },
      { address: 'zed@a.test', displayName: 'Zed Zimmer' },
    ]);
    expect(dir.body.total).toBe(5);
    expect((await api.request('GET', `/api/domains/${a.id}/directory?q=zimer`, { token: userA.token })).body.items).toEqual([{ address: 'zed@a.test', displayName: 'Zed Zimmer' }]);
    expect((await api.request('GET', '/api/domains/a.test/directory?q=maria', { token: userA.token })).body.items.map((x: any) => x.address)).toEqual(['maria@a.test']);
    expect((await api.request('GET', '/api/domains/a.test/directory?limit=2&offset=4', { token: adminA.token })).body).toMatchObject({ total: 5, items: [{ address: 'zed@a.test' }] });
    expect((await api.request('GET', '/api/domains/a.test/directory', { token: tenantAdmin.token })).status).toBe(200);
    expect((await api.request('GET', '/api/domains/a.test/directory', { token: op })).status).toBe(200);

    expect((await api.request('GET', '/api/domains/b.test/directory', { token: userA.token })).status).toBe(404);
    expect((await api.request('GET', `/api/domains/${b.id}/directory`, { token: userA.token })).status).toBe(404);
    expect((await api.request('GET', '/api/domains/a.test/directory', { token: adminB.token })).status).toBe(404);
    expect((await api.request('GET', '/api/domains/a.test/directory', { token: otherTenantAdmin.token })).status).toBe(404);
    expect((await api.request('GET', '/api/domains/nowhere.test/directory', { token: op })).status).toBe(404);
    expect((await api.request('GET', '/api/domains/b.test/directory', { token: userB.token })).body.items.map((x: any) => x.address)).toEqual([
      'admin@b.test', 'bea@b.test',
    ]);
  });

  it('documents request and response schemas in OpenAPI', () => {
    const paths = api.openApi.paths;
    expect(paths['/api/address-books'].post?.responses['201']).toHaveProperty('content');
    expect(paths['/api/address-books'].get?.responses['200']).toHaveProperty('content');
    expect(paths['/api/address-books/{id}'].delete?.responses).toHaveProperty('204');
    expect(paths['/api/address-books/{id}/contacts'].post?.requestBody).toBeDefined();
    expect(paths['/api/address-books/{id}/contacts/{contactId}'].patch?.responses['200']).toHaveProperty('content');
    expect(paths['/api/domains/{domain}/directory'].get?.responses['200']).toHaveProperty('content');
  });
});
