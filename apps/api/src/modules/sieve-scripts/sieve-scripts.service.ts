/**
 * Sieve scripts over the API (issue 18): the operator's global scripts, a domain's (its admins), a mailbox's (its
 * owner and admins). Every script is checked with the parser delivery uses, with the extensions of its level
 * (editheader only for global and domain scripts), against the settings sieveMaxScriptSize and sieveMaxScripts.
 */
import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { DEFAULT_SMTP_SETTINGS, smtpSettings, type SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import { sieveScriptName } from '@dizi/contracts/sieve-scripts.contract';
import { PgSieveScriptStore } from '@dizi/delivery/adapters/postgres/pg-sieve-script-store';
import { sieveExtensionsFor } from '@dizi/delivery/local/sieve-filter';
import {
  SieveScriptActiveError, SieveScriptNotFoundError, sieveScriptSize, type SieveOwner, type SieveScriptInfo,
} from '@dizi/delivery/ports/sieve-script-store';
import type { Actor } from '@dizi/domain/policy';
import { checkSieve } from '@dizi/sieve/sieve';
import { badRequest, conflict, forbidden, limitReached, notFound } from '../../common/api-error';
import { AuditService } from '../audit/audit.service';
import { PolicyService } from '../auth/policy.service';
import type { PutSieveScriptDto } from './dto';

export type SieveLevelRef = { level: 'global' } | { level: 'domain'; domain: string } | { level: 'mailbox'; mailbox: string };

interface ResolvedOwner {
  owner: SieveOwner;
  /** Domain name or mailbox address, for views and the audit log. */
  label: string | null;
  tenantId: string | null;
  objectType: string;
  objectId: string | null;
}

@Injectable()
export class SieveScriptsService {
  private readonly store: PgSieveScriptStore;

  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
  ) {
    this.store = new PgSieveScriptStore((dataSource.driver as unknown as { master: Pool }).master);
  }

  private async owner(actor: Actor, ref: SieveLevelRef): Promise<ResolvedOwner> {
    if (ref.level === 'global') {
      if (actor.role !== 'operator') throw forbidden('only operators manage the global Sieve scripts');
      return { owner: { level: 'global' }, label: null, tenantId: null, objectType: 'sieve', objectId: null };
    }
    if (ref.level === 'domain') {
      const d = await this.policy.domain(actor, ref.domain, 'domain_admin');
      return { owner: { level: 'domain', domainId: d.id }, label: d.name, tenantId: d.tenantId, objectType: 'domain', objectId: d.id };
    }
    const m = await this.policy.manageableMailbox(actor, ref.mailbox, true);
    return { owner: { level: 'mailbox', mailboxId: m.id }, label: m.address, tenantId: m.tenantId, objectType: 'mailbox', objectId: m.id };
  }

  private async settings(): Promise<SmtpSettings> {
    const [row] = await this.dataSource.query(`SELECT value FROM system_setting WHERE key = 'smtp'`);
    const parsed = smtpSettings.safeParse(row?.value ?? {});
    return parsed.success ? parsed.data : DEFAULT_SMTP_SETTINGS;
  }

  private static checkName(name: string): string {
    const r = sieveScriptName.safeParse(name);
    if (!r.success) throw badRequest(r.error.issues[0].message, 'name');
    return name;
  }

  async list(actor: Actor, ref: SieveLevelRef) {
    const o = await this.owner(actor, ref);
    const s = await this.settings();
    const scripts = await this.store.list(o.owner);
    return { level: o.owner.level, owner: o.label, scripts: scripts.map(view), maxScriptSize: s.sieveMaxScriptSize, maxScripts: s.sieveMaxScripts };
  }

  async get(actor: Actor, ref: SieveLevelRef, name: string) {
    const o = await this.owner(actor, ref);
    const script = await this.store.get(o.owner, name);
    if (!script) throw notFound('sieve script');
    return { ...view(script), content: script.content };
  }

  /** `create`: POST, 409 when the name is taken; `replace`: PUT, 404 when there is no such script. */
  async put(actor: Actor, ip: string, ref: SieveLevelRef, name: string, body: PutSieveScriptDto, mode: 'create' | 'replace') {
    const o = await this.owner(actor, ref);
    SieveScriptsService.checkName(name);
    const exists = (await this.store.list(o.owner)).some((x) => x.name === name);
    if (mode === 'replace' && !exists) throw notFound('sieve script');
    if (mode === 'create' && exists) throw conflict(`a script named "${name}" exists already; PUT …/scripts/{name} replaces it`, 'name');
    if (body.final !== undefined && o.owner.level === 'mailbox') throw badRequest('only global and domain scripts can be final', 'final');
    const s = await this.settings();
    const size = sieveScriptSize(body.content);
    if (size > s.sieveMaxScriptSize) throw badRequest(`the script is ${size} bytes; the limit (setting sieveMaxScriptSize) is ${s.sieveMaxScriptSize}`, 'content');
    const error = checkSieve(body.content, { extensions: sieveExtensionsFor(o.owner.level), limits: { maxScriptSize: s.sieveMaxScriptSize } });
    if (error) throw badRequest(`the script is not valid Sieve: ${error}`, 'content');
    const existing = await this.store.list(o.owner);
    if (!existing.some((x) => x.name === name) && existing.length >= s.sieveMaxScripts) {
      throw limitReached(`at most ${s.sieveMaxScripts} scripts (setting sieveMaxScripts); delete one first`, 'name');
    }
    const saved = await this.store.put(o.owner, name, body.content, { final: body.final });
    if (body.activate) await this.store.setActive(o.owner, name);
    await this.record(actor, ip, o, 'sieve.script.put', { name, size, final: saved.final, activate: body.activate ?? false });
    return view({ ...saved, active: saved.active || body.activate === true });
  }

  async activate(actor: Actor, ip: string, ref: SieveLevelRef, name: string | null) {
    const o = await this.owner(actor, ref);
    try {
      await this.store.setActive(o.owner, name);
    } catch (err) {
      if (err instanceof SieveScriptNotFoundError) throw notFound('sieve script');
      throw err;
    }
    await this.record(actor, ip, o, name === null ? 'sieve.script.deactivate' : 'sieve.script.activate', { name });
  }

  async delete(actor: Actor, ip: string, ref: SieveLevelRef, name: string) {
    const o = await this.owner(actor, ref);
    try {
      await this.store.delete(o.owner, name);
    } catch (err) {
      if (err instanceof SieveScriptNotFoundError) throw notFound('sieve script');
      if (err instanceof SieveScriptActiveError) throw conflict(`${err.message} (POST …/deactivate)`, 'name');
      throw err;
    }
    await this.record(actor, ip, o, 'sieve.script.delete', { name });
  }

  private async record(actor: Actor, ip: string, o: ResolvedOwner, action: string, after: Record<string, unknown>) {
    await this.audit.record(this.dataSource.manager, actor, ip, {
      action, objectType: o.objectType, objectId: o.objectId, tenantId: o.tenantId, after: { level: o.owner.level, owner: o.label, ...after },
    });
  }
}

function view(s: SieveScriptInfo) {
  return { name: s.name, active: s.active, final: s.final, size: s.size, updatedAt: new Date(s.updatedAt).toISOString() };
}
