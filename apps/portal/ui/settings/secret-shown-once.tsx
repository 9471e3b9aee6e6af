'use client';
/**
 * The one card that shows a freshly made secret (an API key, a registration code) the only time the API returns it:
 * a success notice with the secret copyable, closable; once closed the secret cannot be shown again.
 */
import type { ReactNode } from 'react';
import { Alert, Typography } from 'antd';

export function SecretShownOnce({ title, secret, onClose, testId }: { title: ReactNode; secret: string; onClose: () => void; testId: string }) {
  return (
    <Alert
      type="success"
      showIcon
      closable
      onClose={onClose}
      style={{ marginBottom: 12 }}
      title={title}
      description={
        <Typography.Paragraph copyable={{ text: secret }} style={{ margin: 0, overflowWrap: 'anywhere' }} data-testid={testId}>
          {secret}
        </Typography.Paragraph>
      }
    />
  );
}
