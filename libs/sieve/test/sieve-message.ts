/** Builds SieveMessage inputs for tests from a header block and a plain-text body. */
import type { BodyTransform, SieveMessage } from '../src/message';

export interface TestMessageInput {
  headers: string;
  body?: string;
  from?: string;
  to?: string;
  auth?: string;
  size?: number;
  /** Parts for body :content tests: content type and decoded text. */
  parts?: { type: string; text: string }[];
}

export function testMessage(input: TestMessageInput): SieveMessage {
  const unfolded = input.headers.replace(/\r?\n[ \t]+/g, ' ');
  const headers = unfolded
    .split(/\r?\n/)
    .filter((l) => l.includes(':'))
    .map((l) => ({ name: l.slice(0, l.indexOf(':')).trim(), value: l.slice(l.indexOf(':') + 1).trim() }));
  const body = input.body ?? '';
  const parts = input.parts ?? [{ type: 'text/plain', text: body }];
  return {
    headers,
    size: input.size ?? Buffer.byteLength(`${input.headers}\r\n\r\n${body}`),
    envelope: { from: input.from ?? 'sender@example.org', to: input.to ?? 'user@example.com', auth: input.auth },
    body: (t: BodyTransform) => {
      if (t.kind === 'raw') return [body];
      if (t.kind === 'text') return parts.filter((p) => p.type.startsWith('text/')).map((p) => p.text);
      return parts
        .filter((p) => t.types.some((want) => want === '' || p.type === want || (!want.includes('/') && p.type.startsWith(`${want}/`))))
        .map((p) => p.text);
    },
  };
}
