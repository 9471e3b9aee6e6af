import type { z } from 'zod';
import type { tokenResponse } from '@dizi/contracts/auth.contract';

export type TokenResponse = z.infer<typeof tokenResponse>;
