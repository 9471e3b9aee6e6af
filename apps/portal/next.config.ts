import { resolve } from 'node:path';
import type { NextConfig } from 'next';
import createNextIntlPlugin from 'next-intl/plugin';

const withNextIntl = createNextIntlPlugin('./i18n/request.ts');

const config: NextConfig = {
  // The workspace libs are TypeScript sources (package exports point at src/*.ts).
  transpilePackages: ['@dizi/contracts', '@dizi/domain', '@dizi/config'],
  poweredByHeader: false,
  reactStrictMode: true,
  // The npm workspace root: node_modules and the libs live there.
  turbopack: { root: resolve(__dirname, '../..') },
  // The consoles are behind sign-in and personal: never cached by shared caches, never framed.
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'same-origin' },
        ],
      },
    ];
  },
};

export default withNextIntl(config);
