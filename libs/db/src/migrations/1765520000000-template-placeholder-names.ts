import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One set of template placeholders (issue 12 item 4). Delivery used to fill `{{usedMB}}` and `{{quotaMB}}` with a
 * bare number of megabytes ("uses {{usedMB}} MB of {{quotaMB}} MB") where the API accepted `{{used}}` and
 * `{{quota}}`; both now mean a size with its unit ("912 MB", "1 GB"). Stored templates written with the old names
 * are rewritten, the unit written after them dropped, so quota warnings keep their numbers (the API's validation
 * would otherwise refuse the stored template and delivery fall back to the default text).
 */
const RENAMES: [RegExp, string][] = [
  [/\{\{\s*usedMB\s*\}\}(?:[ \u00a0]?MB)?/g, '{{used}}'],
  [/\{\{\s*quotaMB\s*\}\}(?:[ \u00a0]?MB)?/g, '{{quota}}'],
];

export function renamePlaceholders(value: unknown): unknown {
  if (typeof value === 'string') return RENAMES.reduce((text, [from, to]) => text.replace(from, to), value);
  if (Array.isArray(value)) return value.map(renamePlaceholders);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renamePlaceholders(v)]));
  return value;
}

export class TemplatePlaceholderNames1765520000000 implements MigrationInterface {
  name = 'TemplatePlaceholderNames1765520000000';

  async up(q: QueryRunner): Promise<void> {
    const rows: { value: unknown }[] = await q.query(`SELECT value FROM system_setting WHERE key = 'templates' FOR UPDATE`);
    if (rows.length === 0) return;
    const renamed = renamePlaceholders(rows[0].value);
    if (JSON.stringify(renamed) === JSON.stringify(rows[0].value)) return;
    await q.query(`UPDATE system_setting SET value = $1::jsonb, updated_at = now() WHERE key = 'templates'`, [JSON.stringify(renamed)]);
  }

  async down(): Promise<void> {
    // The old names are not restored: the rewritten templates say the same thing with the names in use.
  }
}
