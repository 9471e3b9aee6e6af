import { MigrationInterface, QueryRunner } from 'typeorm';

/** One contact per email per book, one book name per scope, and trigram indexes for fuzzy contact search. */
export class AddressBookIndexes1764201800000 implements MigrationInterface {
  name = 'AddressBookIndexes1764201800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNIQUE INDEX contact_book_email_key ON contact (book_id, email)`);
    await q.query(`CREATE INDEX contact_display_name_trgm_idx ON contact USING gin (lower(display_name) gin_trgm_ops)`);
    await q.query(`CREATE INDEX contact_email_trgm_idx ON contact USING gin (email gin_trgm_ops)`);
    // System books have no domain; NULLS NOT DISTINCT makes their names unique among themselves too.
    await q.query(`CREATE UNIQUE INDEX address_book_name_key ON address_book (domain_id, lower(name)) NULLS NOT DISTINCT`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX address_book_name_key`);
    await q.query(`DROP INDEX contact_email_trgm_idx`);
    await q.query(`DROP INDEX contact_display_name_trgm_idx`);
    await q.query(`DROP INDEX contact_book_email_key`);
  }
}
