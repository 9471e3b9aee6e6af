/**
 * Mailbox/set (RFC 8621 §2.5): create (with a role, stored as the folder's SPECIAL-USE), rename or move (name,
 * parentId), subscribe (the same subscription IMAP LSUB shows), destroy. Folder names are full paths in the store.
 */
import {
  FOLDER_DELIMITER, FolderExistsError, FolderNotFoundError, FolderOperationError, INBOX, InvalidFolderNameError, type Folder,
} from '@dizi/mail-store/ports/message-store';
import { MAIL } from '../capabilities';
import { checkAccount, optionalBoolean, resolveId } from '../args';
import { MethodError, setError, type SetError } from '../errors';
import { leafName, parentName, roleOf, SPECIAL_USE_OF_ROLE, toMailbox } from '../mailbox-view';
import type { JmapMethod, MethodContext } from '../method';
import { parseSetRequest } from '../set-request';
import { mailboxMarks, mailboxState } from '../state';

const SETTABLE = ['name', 'parentId', 'role', 'sortOrder', 'isSubscribed'];

export const mailboxSet: JmapMethod = {
  name: 'Mailbox/set',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const request = parseSetRequest(args, ctx);
    const removeEmails = optionalBoolean(args, 'onDestroyRemoveEmails', false);
    const mailboxId = ctx.account.mailboxId;
    const oldState = mailboxState(mailboxMarks(await ctx.store.listFolders(mailboxId)));
    if (request.ifInState !== undefined && request.ifInState !== oldState) {
      throw new MethodError('stateMismatch', 'the mailboxes changed since ifInState');
    }
    const created: Record<string, unknown> = {};
    const notCreated: Record<string, SetError> = {};
    const updated: Record<string, null> = {};
    const notUpdated: Record<string, SetError> = {};
    const destroyed: string[] = [];
    const notDestroyed: Record<string, SetError> = {};

    for (const [cid, props] of request.create) {
      try {
        const folders = await ctx.store.listFolders(mailboxId);
        const bad = Object.keys(props).filter((p) => !SETTABLE.includes(p));
        if (bad.length > 0) throw setError('invalidProperties', 'only name, parentId, role, sortOrder and isSubscribed can be set', bad);
        const name = fullName(props.name, props.parentId === undefined ? null : props.parentId, folders, ctx);
        const role = props.role ?? null;
        if (role !== null && (typeof role !== 'string' || !SPECIAL_USE_OF_ROLE[role])) throw setError('invalidProperties', `role must be one of ${Object.keys(SPECIAL_USE_OF_ROLE).join(', ')}`, ['role']);
        if (role !== null && folders.some((f) => roleOf(f) === role)) throw setError('invalidProperties', `another mailbox has the role ${role}`, ['role']);
        const subscribed = props.isSubscribed === undefined ? true : props.isSubscribed;
        if (typeof subscribed !== 'boolean') throw setError('invalidProperties', 'isSubscribed must be true or false', ['isSubscribed']);
        const folder = await ctx.store.createFolder(mailboxId, name, { specialUse: role ? SPECIAL_USE_OF_ROLE[role] : undefined, subscribed });
        ctx.createdIds.set(cid, folder.id);
        const shown = toMailbox(folder, new Map());
        created[cid] = { id: folder.id, sortOrder: shown.sortOrder, totalEmails: 0, unreadEmails: 0, totalThreads: 0, unreadThreads: 0, myRights: shown.myRights };
      } catch (err) {
        notCreated[cid] = asSetError(err);
      }
    }

    for (const [rawId, props] of request.update) {
      const id = resolveId(rawId, ctx);
      try {
        const folders = await ctx.store.listFolders(mailboxId);
        const folder = folders.find((f) => f.id === id);
        if (!folder) throw setError('notFound', `no mailbox ${id}`);
        const bad = Object.keys(props).filter((p) => !SETTABLE.includes(p));
        if (bad.length > 0) throw setError('invalidProperties', 'only name, parentId, role, sortOrder and isSubscribed can be set', bad);
        if (props.role !== undefined && props.role !== roleOf(folder)) throw setError('invalidProperties', 'the role of an existing mailbox cannot be changed', ['role']);
        if (props.sortOrder !== undefined && props.sortOrder !== toMailbox(folder, new Map()).sortOrder) {
          throw setError('invalidProperties', 'sortOrder is chosen by the server', ['sortOrder']);
        }
        if (props.name !== undefined || props.parentId !== undefined) {
          const byName = new Map(folders.map((f) => [f.name, f]));
          const parent = props.parentId !== undefined ? props.parentId : byName.get(parentName(folder.name) ?? '')?.id ?? null;
          const name = fullName(props.name ?? leafName(folder.name), parent, folders, ctx);
          if (name !== folder.name) {
            if (folder.name === INBOX) throw setError('forbidden', 'INBOX cannot be renamed or moved');
            await ctx.store.renameFolder(mailboxId, { id }, name);
          }
        }
        if (props.isSubscribed !== undefined) {
          if (typeof props.isSubscribed !== 'boolean') throw setError('invalidProperties', 'isSubscribed must be true or false', ['isSubscribed']);
          await ctx.store.setSubscribed(mailboxId, { id }, props.isSubscribed);
        }
        updated[id] = null;
      } catch (err) {
        notUpdated[id] = asSetError(err);
      }
    }

    for (const rawId of request.destroy) {
      const id = resolveId(rawId, ctx);
      try {
        const folders = await ctx.store.listFolders(mailboxId);
        const folder = folders.find((f) => f.id === id);
        if (!folder) throw setError('notFound', `no mailbox ${id}`);
        if (folder.name === INBOX) throw setError('forbidden', 'INBOX cannot be destroyed');
        if (folders.some((f) => f.name.startsWith(folder.name + FOLDER_DELIMITER))) throw setError('mailboxHasChild', 'destroy its child mailboxes first');
        if (folder.messageCount > 0 && !removeEmails) throw setError('mailboxHasEmail', 'the mailbox has emails; set onDestroyRemoveEmails to remove them too');
        await ctx.store.deleteFolder(mailboxId, { id });
        destroyed.push(id);
      } catch (err) {
        notDestroyed[id] = asSetError(err);
      }
    }

    return {
      accountId: ctx.account.accountId,
      oldState,
      newState: mailboxState(mailboxMarks(await ctx.store.listFolders(mailboxId))),
      created, updated, destroyed, notCreated, notUpdated, notDestroyed,
    };
  },
};

/** The full path of a mailbox called `name` under `parentId` (null: top level). */
function fullName(name: unknown, parentId: unknown, folders: Folder[], ctx: MethodContext): string {
  if (typeof name !== 'string' || name.length === 0) throw setError('invalidProperties', 'name must be a non-empty string', ['name']);
  if (name.includes(FOLDER_DELIMITER)) throw setError('invalidProperties', `name cannot contain ${FOLDER_DELIMITER}`, ['name']);
  if (parentId === null) return name;
  if (typeof parentId !== 'string') throw setError('invalidProperties', 'parentId must be a mailbox id or null', ['parentId']);
  const parent = folders.find((f) => f.id === resolveId(parentId, ctx));
  if (!parent) throw setError('invalidProperties', `no mailbox ${parentId} to be the parent`, ['parentId']);
  return parent.name + FOLDER_DELIMITER + name;
}

function asSetError(err: unknown): SetError {
  if (err && typeof err === 'object' && 'type' in err && !(err instanceof Error)) return err as SetError;
  if (err instanceof FolderExistsError) return setError('invalidProperties', 'a mailbox with that name already exists there', ['name']);
  if (err instanceof InvalidFolderNameError) return setError('invalidProperties', err.message, ['name']);
  if (err instanceof FolderOperationError) return setError('forbidden', err.message);
  if (err instanceof FolderNotFoundError) return setError('notFound', err.message);
  throw err;
}
