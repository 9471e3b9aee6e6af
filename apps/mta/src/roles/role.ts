import type { MtaContext } from '../context';

/** A running role of a mail node; stop() finishes in-flight work (or leaves it for the sweeper) and closes. */
export interface RunningRole {
  name: string;
  stop(): Promise<void>;
}

export type RoleStarter = (ctx: MtaContext) => Promise<RunningRole>;
