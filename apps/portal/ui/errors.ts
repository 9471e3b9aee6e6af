/** What to show for a failed API call: the API's own sentence (it says what to fix), else the status. */
import { ApiRequestError } from '../lib/api-client';

export function errorText(e: unknown): string {
  if (e instanceof ApiRequestError) return e.body.errors?.map((x) => `${x.field}: ${x.message}`).join('; ') || e.message;
  return e instanceof Error ? e.message : String(e);
}
