/** The console's language: the user's choice (cookie), else the browser's Accept-Language, else Simplified Chinese. */
import { cookies, headers } from 'next/headers';
import { getRequestConfig } from 'next-intl/server';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export function pickLocale(cookie: string | undefined, acceptLanguage: string | null): Locale {
  if (cookie === 'zh-CN' || cookie === 'en') return cookie;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0].trim().toLowerCase();
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return 'zh-CN';
}

export default getRequestConfig(async () => {
  const locale = pickLocale((await cookies()).get('dizi_locale')?.value, (await headers()).get('accept-language'));
  return { locale, messages: (await import(`../messages/${locale}.json`)).default, timeZone: 'UTC' };
});
