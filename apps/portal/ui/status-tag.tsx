'use client';
/** Status and role labels in colours that keep white text above WCAG AA contrast (antd's light presets do not). */
import { Tag } from 'antd';
import type { ReactNode } from 'react';

const TONES = { good: '#2e7d32', bad: '#c62828', info: '#1557b0', neutral: '#595959' } as const;

export function StatusTag({ tone, children, testId }: { tone: keyof typeof TONES; children: ReactNode; testId?: string }) {
  return (
    <Tag color={TONES[tone]} style={{ marginInlineEnd: 0 }} data-testid={testId}>
      {children}
    </Tag>
  );
}
