/**
 * Identity/set (RFC 8621 §6.3): the user updates an identity's name, replyTo, bcc and signatures (Dizi's `signatures`
 * extension: up to three, one default, which is what textSignature/htmlSignature read and write). The addresses come
 * from the directory, so create only answers for an address the user may send as (which already has its identity:
 * `alreadyExists` with its id; any other address is `forbiddenFrom`), and destroy is `forbidden` (mayDelete false).
 */
import { SUBMISSION } from '../capabilities';
import { checkAccount } from '../args';
import { MethodError, setError, type SetError } from '../errors';
import {
  MAX_SIGNATURES, MAX_SIGNATURE_LENGTH, emptyProfile, identityIdOf, identityState,
  type IdentityAddress, type IdentityProfile, type IdentitySignature,
} from '../identities';
import type { JmapMethod } from '../method';
import { parseSetRequest } from '../set-request';
import { identitiesOf } from './identity-get';

const MAX_NAME_LENGTH = 256;
const MAX_ADDRESSES = 20;

export const identitySet: JmapMethod = {
  name: 'Identity/set',
  capability: SUBMISSION,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const request = parseSetRequest(args, ctx);
    const source = ctx.identities;
    const { identities, profiles } = await identitiesOf(ctx);
    const oldState = identityState(identities, profiles);
    if (request.ifInState !== undefined && request.ifInState !== oldState) throw new MethodError('stateMismatch', 'the identities changed since ifInState');
    const byId = new Map(identities.map((i) => [identityIdOf(i.address), i]));

    const notCreated: Record<string, SetError> = {};
    for (const [cid, record] of request.create) {
      const email = typeof record.email === 'string' ? record.email.trim().toLowerCase() : '';
      if (!email) {
        notCreated[cid] = setError('invalidProperties', 'email is required: one of the addresses you may send as', ['email']);
        continue;
      }
      const own = identities.find((i) => i.address.toLowerCase() === email);
      notCreated[cid] = own
        ? { ...setError('alreadyExists', `${own.address} already has its identity: update ${identityIdOf(own.address)}`), existingId: identityIdOf(own.address) }
        : setError('forbiddenFrom', `you may not send as ${email}: ask your administrator for an alias or a send-as grant`, ['email']);
    }

    const notDestroyed: Record<string, SetError> = {};
    for (const id of request.destroy) {
      notDestroyed[id] = byId.has(id)
        ? setError('forbidden', 'this identity is one of your addresses (mayDelete is false): an administrator removes aliases and send-as grants')
        : setError('notFound', `no identity ${id}`);
    }

    const updated: Record<string, null> = {};
    const notUpdated: Record<string, SetError> = {};
    for (const [id, patch] of request.update) {
      const identity = byId.get(id);
      if (!identity) {
        notUpdated[id] = setError('notFound', `no identity ${id}`);
        continue;
      }
      if (!source?.saveProfile) {
        notUpdated[id] = setError('forbidden', 'this server keeps no identity settings');
        continue;
      }
      try {
        const next = applyPatch(id, identity.address, profiles.get(identity.address) ?? emptyProfile(), patch);
        await source.saveProfile(ctx.account.mailboxId, identity.address, next);
        profiles.set(identity.address, next);
        updated[id] = null;
      } catch (err) {
        if (err && typeof err === 'object' && 'type' in err && !(err instanceof Error)) notUpdated[id] = err as SetError;
        else throw err;
      }
    }
    return {
      accountId: ctx.account.accountId, oldState, newState: identityState(identities, profiles),
      created: {}, updated, destroyed: [], notCreated, notUpdated, notDestroyed,
    };
  },
};

function applyPatch(id: string, address: string, current: IdentityProfile, patch: Record<string, unknown>): IdentityProfile {
  const next: IdentityProfile = { ...current, signatures: current.signatures.map((s) => ({ ...s })) };
  // `signatures` first, so a patch may replace them and then set the default's text in the same update.
  const keys = Object.keys(patch).sort((a, b) => Number(b === 'signatures') - Number(a === 'signatures'));
  for (const key of keys) {
    const value = patch[key];
    switch (key) {
      case 'id': if (value !== id) throw setError('invalidProperties', 'id cannot change', [key]); break;
      case 'email': if (typeof value !== 'string' || value.toLowerCase() !== address.toLowerCase()) throw setError('invalidProperties', 'email cannot change: it is the address this identity sends as', [key]); break;
      case 'mayDelete': if (value !== false) throw setError('invalidProperties', 'mayDelete is set by the server', [key]); break;
      case 'name':
        if (typeof value !== 'string' || value.length > MAX_NAME_LENGTH || /[\r\n]/.test(value)) {
          throw setError('invalidProperties', `name must be one line of at most ${MAX_NAME_LENGTH} characters`, [key]);
        }
        next.name = value;
        break;
      case 'replyTo': case 'bcc':
        next[key] = addressesOf(key, value);
        break;
      case 'textSignature': case 'htmlSignature': {
        const text = signatureText(key, value);
        let chosen = next.signatures.find((s) => s.isDefault);
        if (!chosen) {
          chosen = { name: '', textSignature: '', htmlSignature: '', isDefault: true };
          next.signatures.unshift(chosen);
          if (next.signatures.length > MAX_SIGNATURES) throw setError('invalidProperties', `at most ${MAX_SIGNATURES} signatures per identity`, [key]);
        }
        chosen[key] = text;
        break;
      }
      case 'signatures':
        next.signatures = signaturesOf(value);
        break;
      default:
        throw setError('invalidProperties', `unknown or read-only property ${key}`, [key]);
    }
  }
  return next;
}

function addressesOf(key: string, value: unknown): IdentityAddress[] | null {
  if (value === null) return null;
  if (!Array.isArray(value) || value.length > MAX_ADDRESSES) throw setError('invalidProperties', `${key} must be null or a list of at most ${MAX_ADDRESSES} {name, email}`, [key]);
  return value.map((a: unknown) => {
    const o = (a ?? {}) as Record<string, unknown>;
    const email = typeof o.email === 'string' ? o.email.trim() : '';
    if (!/^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/.test(email) || email.length > 320) {
      throw setError('invalidProperties', `${key}: ${JSON.stringify(o.email ?? null)} is not an email address like name@example.com`, [key]);
    }
    if (o.name !== undefined && o.name !== null && (typeof o.name !== 'string' || o.name.length > MAX_NAME_LENGTH || /[\r\n]/.test(o.name))) {
      throw setError('invalidProperties', `${key}: a name must be one line of at most ${MAX_NAME_LENGTH} characters, or null`, [key]);
    }
    return { name: (o.name as string | null | undefined) ?? null, email };
  });
}

function signatureText(key: string, value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_SIGNATURE_LENGTH) throw setError('invalidProperties', `${key} must be a string of at most ${MAX_SIGNATURE_LENGTH} characters`, [key]);
  return value;
}

function signaturesOf(value: unknown): IdentitySignature[] {
  if (!Array.isArray(value) || value.length > MAX_SIGNATURES) throw setError('invalidProperties', `signatures must be a list of at most ${MAX_SIGNATURES}`, ['signatures']);
  const list = value.map((s: unknown) => {
    const o = (s ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(o).filter((k) => !['name', 'textSignature', 'htmlSignature', 'isDefault'].includes(k));
    if (unknown.length) throw setError('invalidProperties', `a signature has name, textSignature, htmlSignature and isDefault, not ${unknown.join(', ')}`, ['signatures']);
    if (typeof o.name !== 'string' || o.name.length > 100) throw setError('invalidProperties', 'each signature needs a name of at most 100 characters', ['signatures']);
    return {
      name: o.name,
      textSignature: signatureText('textSignature', o.textSignature ?? ''),
      htmlSignature: signatureText('htmlSignature', o.htmlSignature ?? ''),
      isDefault: o.isDefault === true,
    };
  });
  if (list.length > 0 && list.filter((s) => s.isDefault).length !== 1) {
    throw setError('invalidProperties', 'exactly one signature must have isDefault true', ['signatures']);
  }
  return list;
}
