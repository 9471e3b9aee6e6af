import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AddressBookEntity, ContactEntity } from '@dizi/db/entities/address-book.entity';
import { DomainEntity } from '@dizi/db/entities/domain.entity';
import { InvalidAddressError, parseAddress } from '@dizi/domain/address';
import type { Actor } from '@dizi/domain/policy';
import { badRequest, conflict, forbidden, notFound } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { domainKey, isUuid, PolicyService } from '../auth/policy.service';
import { escapeLike } from '@dizi/db/escape-like';
import { createContactRequest } from '@dizi/contracts/address-book.contract';
import { ContactRecord, parseContactCsv, parseVCards, writeVCards } from './contact-codec';
import {
  AddressBookListQueryDto, ContactListQueryDto, CreateAddressBookDto, CreateContactDto, DirectoryQueryDto, ImportContactsDto, UpdateAddressBookDto,
  UpdateContactDto,
} from './dto';

/** Records one import may carry (the JSON body is capped at about 2 MB anyway). */
export const MAX_IMPORT_ROWS = 10_000;

interface ImportRow {
  line: number;
  email: string | null;
  displayName: string | null;
  status: 'created' | 'updated' | 'skipped' | 'failed';
  message: string;
}

type Access = 'read' | 'write';

/**
 * Public address books: system-wide ones (no tenant, no domain) that operators keep and everyone reads,
 * and per-domain ones that the domain's admins keep and its users read. Also the domain directory.
 */
@Injectable()
export class AddressBooksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
  ) {}

  async list(actor: Actor, query: AddressBookListQueryDto) {
    const qb = this.dataSource.getRepository(AddressBookEntity).createQueryBuilder('b');
    if (query.domain) {
      const domain = await this.readableDomain(actor, query.domain, this.dataSource.manager);
      qb.andWhere('b.domain_id = :qDomain', { qDomain: domain.id });
    } else {
      // System books plus the books of every domain the actor reads (PolicyService.readableByDomainMembers).
      const scope = this.policy.listScope(actor);
      if (scope.tenantId) {
        qb.andWhere(`(b.tenant_id IS NULL OR (b.tenant_id = :tenantId${scope.domainId ? ' AND b.domain_id = :domainId' : ''}))`, scope);
      }
    }
    if (query.q) qb.andWhere('b.name ILIKE :q', { q: `%${escapeLike(query.q)}%` });
    const [rows, total] = await qb
      .orderBy('b.domain_id', 'ASC', 'NULLS FIRST')
      .addOrderBy('lower(b.name)')
      .offset(query.offset)
      .limit(query.limit)
      .getManyAndCount();
    return { items: await this.views(this.dataSource.manager, rows), total, offset: query.offset, limit: query.limit };
  }

  async get(actor: Actor, id: string) {
    const book = await this.load(actor, id, 'read', this.dataSource.manager);
    return (await this.views(this.dataSource.manager, [book]))[0];
  }

  async create(actor: Actor, ip: string, body: CreateAddressBookDto) {
    return this.dataSource.transaction(async (m) => {
      let owner: { tenantId: string | null; domainId: string | null } = { tenantId: null, domainId: null };
      if (body.domain === undefined) {
        if (actor.role !== 'operator') throw forbidden('only operators create system-wide address books; name the domain the book belongs to');
      } else {
        const domain = await this.readableDomain(actor, body.domain, m);
        owner = { tenantId: domain.tenantId, domainId: domain.id };
        this.authorise(actor, owner, 'write');
      }
      await this.assertNameFree(m, owner.domainId, body.name);
      const repo = m.getRepository(AddressBookEntity);
      const book = await repo.save(repo.create({ ...owner, name: body.name }));
      await this.audit.record(m, actor, ip, { action: 'address_book.create', objectType: 'address_book', objectId: book.id, tenantId: book.tenantId, after: book });
      return (await this.views(m, [book]))[0];
    });
  }

  async update(actor: Actor, ip: string, id: string, body: UpdateAddressBookDto) {
    return this.dataSource.transaction(async (m) => {
      const book = await this.load(actor, id, 'write', m, true);
      const before = { ...book };
      if (body.name !== undefined && body.name.toLowerCase() !== book.name.toLowerCase()) await this.assertNameFree(m, book.domainId, body.name);
      Object.assign(book, body);
      await m.getRepository(AddressBookEntity).save(book);
      await this.audit.record(m, actor, ip, { action: 'address_book.update', objectType: 'address_book', objectId: book.id, tenantId: book.tenantId, before, after: book });
      return (await this.views(m, [book]))[0];
    });
  }

  /** Deletes the book with its contacts. */
  async remove(actor: Actor, ip: string, id: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const book = await this.load(actor, id, 'write', m, true);
      const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM contact WHERE book_id = $1`, [book.id]);
      await m.getRepository(AddressBookEntity).delete(book.id);
      await this.audit.record(m, actor, ip, { action: 'address_book.delete', objectType: 'address_book', objectId: book.id, tenantId: book.tenantId, before: { ...book, contacts: n } });
    });
  }

  async contacts(actor: Actor, id: string, query: ContactListQueryDto) {
    const m = this.dataSource.manager;
    const book = await this.load(actor, id, 'read', m);
    const qb = m.getRepository(ContactEntity).createQueryBuilder('c').where('c.book_id = :bookId', { bookId: book.id });
    if (query.q) {
      // Substring, or a trigram word match (pg_trgm `<%`) so small misspellings still find the contact.
      const q = query.q.toLowerCase();
      qb.andWhere(`(lower(c.display_name) LIKE :like OR c.email LIKE :like OR :q <% lower(c.display_name) OR :q <% c.email)`, { like: `%${escapeLike(q)}%`, q });
      qb.orderBy('greatest(word_similarity(:q, lower(c.display_name)), word_similarity(:q, c.email))', 'DESC');
      qb.addOrderBy('lower(c.display_name)');
    } else {
      qb.orderBy('lower(c.display_name)');
    }
    const [rows, total] = await qb.addOrderBy('c.email').offset(query.offset).limit(query.limit).getManyAndCount();
    return { items: rows.map(contactView), total, offset: query.offset, limit: query.limit };
  }

  async createContact(actor: Actor, ip: string, id: string, body: CreateContactDto) {
    return this.dataSource.transaction(async (m) => {
      const book = await this.load(actor, id, 'write', m);
      const email = contactEmail(body.email);
      await this.assertEmailFree(m, book.id, email);
      const repo = m.getRepository(ContactEntity);
      const contact = await repo.save(
        repo.create({
          bookId: book.id, displayName: body.displayName ?? '', email, phone: body.phone ?? '',
          organization: body.organization ?? '', title: body.title ?? '', notes: body.notes ?? '',
        }),
      );
      await this.audit.record(m, actor, ip, { action: 'contact.create', objectType: 'contact', objectId: contact.id, tenantId: book.tenantId, after: contact });
      return contactView(contact);
    });
  }

  async updateContact(actor: Actor, ip: string, id: string, contactId: string, body: UpdateContactDto) {
    return this.dataSource.transaction(async (m) => {
      // A contact id from elsewhere answers 404 before the role is looked at, so ids reveal nothing.
      const book = await this.load(actor, id, 'read', m);
      const contact = await this.loadContact(m, book.id, contactId);
      this.authorise(actor, book, 'write');
      const before = { ...contact };
      const { email, ...rest } = body;
      Object.assign(contact, rest);
      if (email !== undefined) {
        contact.email = contactEmail(email);
        if (contact.email !== before.email) await this.assertEmailFree(m, book.id, contact.email);
      }
      await m.getRepository(ContactEntity).save(contact);
      await this.audit.record(m, actor, ip, { action: 'contact.update', objectType: 'contact', objectId: contact.id, tenantId: book.tenantId, before, after: contact });
      return contactView(contact);
    });
  }

  async removeContact(actor: Actor, ip: string, id: string, contactId: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      // A contact id from elsewhere answers 404 before the role is looked at, so ids reveal nothing.
      const book = await this.load(actor, id, 'read', m);
      const contact = await this.loadContact(m, book.id, contactId);
      this.authorise(actor, book, 'write');
      await m.getRepository(ContactEntity).delete(contact.id);
      await this.audit.record(m, actor, ip, { action: 'contact.delete', objectType: 'contact', objectId: contact.id, tenantId: book.tenantId, before: contact });
    });
  }

  /**
   * Adds the contacts of a CSV or vCard file. Every record gets a row in the report: created, updated, skipped (its
   * email is already in the book or earlier in the file) or failed with what to fix. The good rows are saved in one
   * transaction whatever the bad ones say; an unreadable file or one over MAX_IMPORT_ROWS records changes nothing.
   */
  async importContacts(actor: Actor, ip: string, id: string, body: ImportContactsDto) {
    return this.dataSource.transaction(async (m) => {
      const book = await this.load(actor, id, 'write', m, true);
      const source = body.format === 'csv' ? parseContactCsv(body.content) : parseVCards(body.content);
      if (source.length === 0) throw badRequest(body.format === 'csv' ? 'the CSV file has no contacts' : 'the file has no vCard (BEGIN:VCARD … END:VCARD)', 'content');
      if (source.length > MAX_IMPORT_ROWS) throw badRequest(`the file has ${source.length} records; import at most ${MAX_IMPORT_ROWS} at a time`, 'content');
      if (source.length === 1 && source[0].error?.startsWith('the CSV file cannot be read')) throw badRequest(`${source[0].error} (line ${source[0].line})`, 'content');

      const rows: ImportRow[] = [];
      const valid: { row: ImportRow; fields: ContactRecord }[] = [];
      const seen = new Map<string, number>();
      for (const s of source) {
        const row: ImportRow = { line: s.line, email: s.fields?.email || null, displayName: s.fields?.displayName || null, status: 'failed', message: '' };
        rows.push(row);
        if (!s.fields) {
          row.message = s.error ?? 'the record cannot be read';
          continue;
        }
        if (!s.fields.email) {
          row.message = 'no email address: every contact needs one';
          continue;
        }
        const checked = createContactRequest.safeParse(s.fields);
        if (!checked.success) {
          const issue = checked.error.issues[0];
          row.message = `${issue.path.join('.')}: ${issue.message}`;
          continue;
        }
        let email: string;
        try {
          email = parseAddress(s.fields.email).address;
        } catch (e) {
          if (!(e instanceof InvalidAddressError)) throw e;
          row.message = e.message;
          continue;
        }
        row.email = email;
        const earlier = seen.get(email);
        if (earlier !== undefined) {
          row.status = 'skipped';
          row.message = `${email} is also on line ${earlier} of this file; that one was used`;
          continue;
        }
        seen.set(email, s.line);
        valid.push({ row, fields: { ...checked.data, displayName: checked.data.displayName ?? '', phone: checked.data.phone ?? '', organization: checked.data.organization ?? '', title: checked.data.title ?? '', notes: checked.data.notes ?? '', email } });
      }

      const existing = new Set<string>(
        valid.length
          ? (await m.query(`SELECT email FROM contact WHERE book_id = $1 AND email = ANY($2)`, [book.id, valid.map((v) => v.fields.email)])).map((r: { email: string }) => r.email)
          : [],
      );
      const inserts = valid.filter((v) => !existing.has(v.fields.email));
      const updates = valid.filter((v) => existing.has(v.fields.email));
      const columns = (list: typeof valid) =>
        (['email', 'displayName', 'phone', 'organization', 'title', 'notes'] as const).map((k) => list.map((v) => v.fields[k]));
      if (inserts.length) {
        // ON CONFLICT: a contact added by someone else since the check above is left as it is, and reported so.
        const added: { email: string }[] = await m.query(
          `INSERT INTO contact (book_id, email, display_name, phone, organization, title, notes)
           SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
           ON CONFLICT (book_id, email) DO NOTHING RETURNING email`,
          [book.id, ...columns(inserts)],
        );
        const done = new Set(added.map((r) => r.email));
        for (const v of inserts) {
          if (done.has(v.fields.email)) v.row.status = 'created';
          else Object.assign(v.row, { status: 'skipped', message: `${v.fields.email} was added to the address book meanwhile` });
        }
      }
      if (updates.length && body.existing === 'update') {
        // Only the fields the file fills replace what the contact has.
        await m.query(
          `UPDATE contact c SET
             display_name = CASE WHEN u.display_name <> '' THEN u.display_name ELSE c.display_name END,
             phone = CASE WHEN u.phone <> '' THEN u.phone ELSE c.phone END,
             organization = CASE WHEN u.organization <> '' THEN u.organization ELSE c.organization END,
             title = CASE WHEN u.title <> '' THEN u.title ELSE c.title END,
             notes = CASE WHEN u.notes <> '' THEN u.notes ELSE c.notes END,
             updated_at = now()
            FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) u(email, display_name, phone, organization, title, notes)
           WHERE c.book_id = $1 AND c.email = u.email`,
          [book.id, ...columns(updates)],
        );
        for (const v of updates) v.row.status = 'updated';
      } else {
        for (const v of updates) Object.assign(v.row, { status: 'skipped', message: `${v.fields.email} is already in the address book (choose "update existing" to overwrite it)` });
      }
      const count = (status: ImportRow['status']) => rows.filter((r) => r.status === status).length;
      const report = { created: count('created'), updated: count('updated'), skipped: count('skipped'), failed: count('failed'), rows };
      await this.audit.record(m, actor, ip, {
        action: 'contact.import',
        objectType: 'address_book',
        objectId: book.id,
        tenantId: book.tenantId,
        after: { format: body.format, existing: body.existing, created: report.created, updated: report.updated, skipped: report.skipped, failed: report.failed },
      });
      return report;
    });
  }

  /** Every contact of the book as one vCard file (3.0 or 4.0), in the list's order. */
  async exportContacts(actor: Actor, id: string, version: '3.0' | '4.0'): Promise<{ filename: string; body: string }> {
    const m = this.dataSource.manager;
    const book = await this.load(actor, id, 'read', m);
    const contacts = await m.getRepository(ContactEntity).createQueryBuilder('c').where('c.book_id = :id', { id: book.id }).orderBy('lower(c.display_name)').addOrderBy('c.email').getMany();
    const [domain] = book.domainId ? await m.query(`SELECT name FROM domain WHERE id = $1`, [book.domainId]) : [];
    const base = `${domain?.name ?? 'system'}-${book.name}`.replace(/[^\w.@-]+/g, '-').replace(/-+/g, '-');
    return { filename: `${base}.vcf`, body: writeVCards(contacts, version) };
  }

  /** The domain's global address list: its active mailboxes, readable by the domain's users and the admins above. */
  async directory(actor: Actor, idOrName: string, query: DirectoryQueryDto) {
    const m = this.dataSource.manager;
    const domain = await this.readableDomain(actor, idOrName, m);
    const params: unknown[] = [domain.id];
    let match = '';
    if (query.q) {
      const q = query.q.toLowerCase();
      params.push(`%${escapeLike(q)}%`, q);
      match = `AND (address LIKE $2 OR lower(display_name) LIKE $2 OR $3 <% lower(display_name) OR $3 <% local_part)`;
    }
    const where = `WHERE domain_id = $1 AND status = 'active' ${match}`;
    const [{ total }] = await m.query(`SELECT count(*)::int AS total FROM mailbox ${where}`, params);
    const rows: { address: string; display_name: string }[] = await m.query(
      `SELECT address, display_name FROM mailbox ${where} ORDER BY address OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
      [...params, query.offset, query.limit],
    );
    return { items: rows.map((r) => ({ address: r.address, displayName: r.display_name })), total, offset: query.offset, limit: query.limit };
  }

  /** A domain by id or name that the actor may read member-visible objects of; 404 otherwise. */
  private async readableDomain(actor: Actor, idOrName: string, m: EntityManager): Promise<DomainEntity> {
    const repo = m.getRepository(DomainEntity);
    const domain = isUuid(idOrName) ? await repo.findOneBy({ id: idOrName }) : await repo.findOneBy({ name: domainKey(idOrName) });
    if (!domain || !this.policy.readableByDomainMembers(actor, { tenantId: domain.tenantId, domainId: domain.id })) throw notFound('domain');
    return domain;
  }

  private async load(actor: Actor, id: string, access: Access, m: EntityManager, forUpdate = false): Promise<AddressBookEntity> {
    const book = isUuid(id)
      ? await m.getRepository(AddressBookEntity).findOne({ where: { id }, ...(forUpdate ? { lock: { mode: 'pessimistic_write' as const } } : {}) })
      : null;
    if (!book) throw notFound('address book');
    this.authorise(actor, book, access);
    return book;
  }

  /** System books: everyone reads, operators write. Domain books: the domain's members read, its admins and above write. */
  private authorise(actor: Actor, book: { tenantId: string | null; domainId: string | null }, access: Access): void {
    if (book.tenantId === null) {
      if (access === 'write' && actor.role !== 'operator') throw forbidden('only operators change system-wide address books');
      return;
    }
    if (!this.policy.readableByDomainMembers(actor, book)) throw notFound('address book');
    if (access === 'read') return;
    if (actor.role === 'user') throw forbidden("users read the domain's address books but only its admins change them");
    this.policy.checkDomainObject(actor, book, 'domain_admin', 'address book');
  }

  private async loadContact(m: EntityManager, bookId: string, contactId: string): Promise<ContactEntity> {
    const contact = isUuid(contactId) ? await m.getRepository(ContactEntity).findOneBy({ id: contactId, bookId }) : null;
    if (!contact) throw notFound('contact');
    return contact;
  }

  private async assertNameFree(m: EntityManager, domainId: string | null, name: string): Promise<void> {
    const [taken] = await m.query(`SELECT 1 FROM address_book WHERE domain_id IS NOT DISTINCT FROM $1 AND lower(name) = lower($2)`, [domainId, name]);
    if (taken) throw conflict(`an address book named "${name}" already exists ${domainId ? 'in this domain' : 'system-wide'}; pick another name`, 'name');
  }

  private async assertEmailFree(m: EntityManager, bookId: string, email: string): Promise<void> {
    const [taken] = await m.query(`SELECT 1 FROM contact WHERE book_id = $1 AND email = $2`, [bookId, email]);
    if (taken) throw conflict(`${email} is already a contact in this address book; edit that contact instead`, 'email');
  }

  private async views(m: EntityManager, books: AddressBookEntity[]) {
    const ids = books.map((b) => b.id);
    const domainIds = [...new Set(books.map((b) => b.domainId).filter((d): d is string => !!d))];
    const counts: { book_id: string; n: number }[] = ids.length
      ? await m.query(`SELECT book_id, count(*)::int AS n FROM contact WHERE book_id = ANY($1) GROUP BY book_id`, [ids])
      : [];
    const names: { id: string; name: string }[] = domainIds.length ? await m.query(`SELECT id, name FROM domain WHERE id = ANY($1)`, [domainIds]) : [];
    const count = new Map(counts.map((c) => [c.book_id, c.n]));
    const domainName = new Map(names.map((d) => [d.id, d.name]));
    return books.map((b) => ({
      id: b.id,
      scope: b.domainId ? ('domain' as const) : ('system' as const),
      tenantId: b.tenantId,
      domainId: b.domainId,
      domainName: b.domainId ? (domainName.get(b.domainId) ?? null) : null,
      name: b.name,
      contactCount: count.get(b.id) ?? 0,
      createdAt: b.createdAt.toISOString(),
      updatedAt: b.updatedAt.toISOString(),
    }));
  }
}

function contactEmail(input: string): string {
  try {
    return parseAddress(input).address;
  } catch (e) {
    if (e instanceof InvalidAddressError) throw badRequest(e.message, 'email');
    throw e;
  }
}

function contactView(c: ContactEntity) {
  return {
    id: c.id,
    bookId: c.bookId,
    displayName: c.displayName,
    email: c.email,
    phone: c.phone,
    organization: c.organization,
    title: c.title,
    notes: c.notes,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}
