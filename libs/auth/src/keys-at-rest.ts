/**
 * Private keys kept in PostgreSQL (the installation's token and registration-code signing keys in system_key, each
 * domain's DKIM key) sealed with the SecretBox that seals the relay password. A key's associated data names its row,
 * so a sealed key copied into another row does not open. Releases before this one stored them as plain PEM: the API
 * seals those at start (sealKeysAtRest), and readers still open a plain PEM meanwhile, so a mail node started before
 * the API keeps signing.
 */
import { isSealed, type SecretBox } from './secret-box';

export const systemKeyField = (purpose: string): string => `system_key.private_key:${purpose}`;
export const dkimKeyField = (domainId: string): string => `domain.dkim_private_key:${domainId}`;

/** The PEM of a stored key: opened when sealed, as stored when an earlier release left it plain. */
export function openKeyAtRest(box: SecretBox | undefined, stored: string, field: string): string {
  if (!isSealed(stored)) return stored;
  if (!box) throw new Error(`${field} is sealed but this process has no settings encryption key`);
  return box.open(stored, field);
}

interface Queryable {
  query(text: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Seals every key still stored as plain PEM, each row with its own field, in batches; idempotent and safe to run on
 * several processes at once (a row is rewritten only while still plain). Returns how many keys it sealed.
 */
export async function sealKeysAtRest(db: Queryable, box: SecretBox, batch = 500): Promise<{ systemKeys: number; dkimKeys: number }> {
  const rowsOf = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as { id: string; key: string }[];
  const sealAll = async (select: string, update: string, field: (id: string) => string) => {
    let sealed = 0;
    for (;;) {
      const rows = rowsOf(await db.query(select, [batch]));
      for (const row of rows) {
        await db.query(update, [row.id, box.seal(row.key, field(row.id)), row.key]);
        sealed++;
      }
      if (rows.length < batch) return sealed;
    }
  };
  const systemKeys = await sealAll(
    `SELECT purpose AS id, private_key AS key FROM system_key WHERE private_key NOT LIKE 'enc:v1:%' LIMIT $1`,
    `UPDATE system_key SET private_key = $2 WHERE purpose = $1 AND private_key = $3`,
    systemKeyField,
  );
  const dkimKeys = await sealAll(
    `SELECT id::text AS id, dkim_private_key AS key FROM domain WHERE dkim_private_key NOT LIKE 'enc:v1:%' LIMIT $1`,
    `UPDATE domain SET dkim_private_key = $2 WHERE id = $1 AND dkim_private_key = $3`,
    dkimKeyField,
  );
  return { systemKeys, dkimKeys };
}
