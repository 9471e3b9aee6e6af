/**
 * VacationResponse/set (RFC 8621 §8.2): only the singleton can be updated (create and destroy are `singleton`
 * errors). Dates are UTCDates; a reply turned on needs its text; htmlBody can only be null (the reply is text).
 */
import { VACATION } from '../capabilities';
import { checkAccount } from '../args';
import { MethodError, setError, type SetError } from '../errors';
import type { JmapMethod } from '../method';
import { parseSetRequest } from '../set-request';
import { VACATION_ID, VacationRefused, vacationState, type VacationSettings } from '../vacation';

export const vacationResponseSet: JmapMethod = {
  name: 'VacationResponse/set',
  capability: VACATION,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const vacation = ctx.vacation;
    if (!vacation) throw new MethodError('accountNotSupportedByMethod', 'this server keeps no auto-reply');
    const request = parseSetRequest(args, ctx);
    let current = await vacation.get(ctx.account.mailboxId);
    const oldState = vacationState(current);
    if (request.ifInState !== undefined && request.ifInState !== oldState) throw new MethodError('stateMismatch', 'the auto-reply changed since ifInState');

    const notCreated: Record<string, SetError> = {};
    for (const [cid] of request.create) notCreated[cid] = setError('singleton', 'there is one VacationResponse, id singleton: update it');
    const notDestroyed: Record<string, SetError> = {};
    for (const id of request.destroy) notDestroyed[id] = setError('singleton', 'the VacationResponse cannot be destroyed: set isEnabled to false');
    const updated: Record<string, null> = {};
    const notUpdated: Record<string, SetError> = {};
    for (const [id, patch] of request.update) {
      if (id !== VACATION_ID) {
        notUpdated[id] = setError('notFound', `the VacationResponse's id is ${VACATION_ID}`);
        continue;
      }
      try {
        current = await vacation.update(ctx.account.mailboxId, applyPatch(current, patch));
        updated[id] = null;
      } catch (err) {
        if (err instanceof VacationRefused) notUpdated[id] = setError('invalidProperties', err.message, [err.property]);
        else if (err && typeof err === 'object' && 'type' in err && !(err instanceof Error)) notUpdated[id] = err as SetError;
        else throw err;
      }
    }
    return {
      accountId: ctx.account.accountId, oldState, newState: vacationState(current),
      created: {}, updated, destroyed: [], notCreated, notUpdated, notDestroyed,
    };
  },
};

function applyPatch(current: VacationSettings, patch: Record<string, unknown>): VacationSettings {
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    switch (key) {
      case 'id': if (value !== VACATION_ID) throw setError('invalidProperties', 'id cannot change', ['id']); break;
      case 'isEnabled':
        if (typeof value !== 'boolean') throw setError('invalidProperties', 'isEnabled must be true or false', [key]);
        next.isEnabled = value;
        break;
      case 'fromDate': case 'toDate': {
        if (value !== null && (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) || Number.isNaN(Date.parse(value)))) {
          throw setError('invalidProperties', `${key} must be a UTCDate like 2026-07-01T00:00:00Z, or null`, [key]);
        }
        next[key] = value === null ? null : new Date(value);
        break;
      }
      case 'subject': case 'textBody':
        if (value !== null && typeof value !== 'string') throw setError('invalidProperties', `${key} must be a string or null`, [key]);
        next[key] = (value as string | null) ?? '';
        break;
      case 'htmlBody':
        if (value !== null) throw setError('invalidProperties', 'auto-replies are sent as plain text: set textBody (htmlBody stays null)', [key]);
        break;
      default:
        throw setError('invalidProperties', `unknown property ${key}`, [key]);
    }
  }
  return next;
}
