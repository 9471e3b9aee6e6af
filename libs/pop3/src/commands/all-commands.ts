import type { Pop3Command } from '../command';
import { authCommand } from './auth.command';
import { capaCommand } from './capa.command';
import { deleCommand } from './dele.command';
import { listCommand } from './list.command';
import { noopCommand } from './noop.command';
import { passCommand } from './pass.command';
import { quitCommand } from './quit.command';
import { retrCommand } from './retr.command';
import { rsetCommand } from './rset.command';
import { statCommand } from './stat.command';
import { stlsCommand } from './stls.command';
import { topCommand } from './top.command';
import { uidlCommand } from './uidl.command';
import { userCommand } from './user.command';

export const ALL_COMMANDS: Pop3Command[] = [
  capaCommand, userCommand, passCommand, authCommand, stlsCommand, statCommand, listCommand, uidlCommand,
  retrCommand, topCommand, deleCommand, rsetCommand, noopCommand, quitCommand,
];
