import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { oidcEnabled } from '../../../lib/oidc';
import { safeNext } from '../../../lib/safe-next';
import { SignInForm } from '../../../ui/auth/sign-in-form';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('signIn'))('submit') };
}

const ERRORS = ['missing', 'credentials', 'throttled', 'unavailable', 'not_admin', 'oidc_off', 'oidc_unavailable', 'oidc_flow', 'oidc_refused', 'oidc_no_role'] as const;
const REASONS = ['idle', 'expired', 'signed_out'] as const;

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const p = await searchParams;
  const error = ERRORS.find((e) => e === p.error);
  const reason = REASONS.find((r) => r === p.reason);
  return <SignInForm error={error} reason={reason} as={p.as === 'operator' ? 'operator' : 'mailbox'} next={safeNext(p.next) ?? ''} sso={oidcEnabled()} />;
}
