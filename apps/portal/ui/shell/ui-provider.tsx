'use client';
/** The one design system of the portal: antd with the user's language and the Dizi theme. */
import type { ReactNode } from 'react';
import { App, ConfigProvider } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';

export function UiProvider({ locale, children }: { locale: string; children: ReactNode }) {
  return (
    <ConfigProvider
      locale={locale === 'zh-CN' ? zhCN : enUS}
      // #1557b0 and #c62828 on white keep links, primary and danger buttons above WCAG AA contrast (4.5:1); antd's defaults do not.
      // No space put between two Chinese characters of a button ("删 除"): the visible text stays part of its aria-label (WCAG 2.5.3).
      button={{ autoInsertSpace: false }}
      theme={{ token: { colorError: '#c62828', colorPrimary: '#1557b0', colorLink: '#1557b0', borderRadius: 6, colorTextDescription: 'rgba(0,0,0,0.65)', colorTextTertiary: 'rgba(0,0,0,0.6)' } }}
    >
      <App>{children}</App>
    </ConfigProvider>
  );
}
