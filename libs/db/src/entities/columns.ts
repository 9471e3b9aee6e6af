/** Column helpers shared by the entities: bigint byte counts arrive from pg as strings. */
import { ValueTransformer } from 'typeorm';

export const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
