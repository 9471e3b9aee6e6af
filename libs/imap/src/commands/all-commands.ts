// Every command the server knows, one file each.
import type { ImapCommand } from '../command';
import { appendCommand } from './append.command';
import { authenticateCommand } from './authenticate.command';
import { capabilityCommand } from './capability.command';
import { checkCommand } from './check.command';
import { closeCommand } from './close.command';
import { compressCommand } from './compress.command';
import { copyCommand } from './copy.command';
import { createCommand } from './create.command';
import { deleteCommand } from './delete.command';
import { enableCommand } from './enable.command';
import { examineCommand } from './examine.command';
import { expungeCommand } from './expunge.command';
import { fetchCommand } from './fetch.command';
import { getquotaCommand } from './getquota.command';
import { getquotarootCommand } from './getquotaroot.command';
import { idCommand } from './id.command';
import { idleCommand } from './idle.command';
import { listCommand } from './list.command';
import { loginCommand } from './login.command';
import { logoutCommand } from './logout.command';
import { lsubCommand } from './lsub.command';
import { moveCommand } from './move.command';
import { namespaceCommand } from './namespace.command';
import { noopCommand } from './noop.command';
import { renameCommand } from './rename.command';
import { searchCommand } from './search.command';
import { selectCommand } from './select.command';
import { sortCommand } from './sort.command';
import { starttlsCommand } from './starttls.command';
import { statusCommand } from './status.command';
import { storeCommand } from './store.command';
import { subscribeCommand } from './subscribe.command';
import { threadCommand } from './thread.command';
import { unselectCommand } from './unselect.command';
import { unsubscribeCommand } from './unsubscribe.command';

export const ALL_COMMANDS: ImapCommand[] = [
  appendCommand,
  authenticateCommand,
  capabilityCommand,
  checkCommand,
  closeCommand,
  compressCommand,
  copyCommand,
  createCommand,
  deleteCommand,
  enableCommand,
  examineCommand,
  expungeCommand,
  fetchCommand,
  getquotaCommand,
  getquotarootCommand,
  idCommand,
  idleCommand,
  listCommand,
  loginCommand,
  logoutCommand,
  lsubCommand,
  moveCommand,
  namespaceCommand,
  noopCommand,
  renameCommand,
  searchCommand,
  selectCommand,
  sortCommand,
  starttlsCommand,
  statusCommand,
  storeCommand,
  subscribeCommand,
  threadCommand,
  unselectCommand,
  unsubscribeCommand,
];
