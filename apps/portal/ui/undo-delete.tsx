'use client';
/**
 * After a confirmed delete: a success message with an Undo button for ten seconds. Undo runs `restore` (which puts
 * the item back as it was) and then `after` (usually a reload); a failed restore is shown as an error message.
 */
import { Button, Space } from 'antd';
import type { MessageInstance } from 'antd/es/message/interface';
import type { ReactNode } from 'react';
import { errorText } from './errors';

export interface UndoDeleteOptions {
  message: MessageInstance;
  /** Unique per deleted item, so a second delete does not replace the first one's undo. */
  key: string;
  text: ReactNode;
  undoLabel: string;
  errorLabel: (message: string) => string;
  restore: () => Promise<unknown>;
  after: () => Promise<unknown> | void;
}

export function showUndoDelete({ message, key, text, undoLabel, errorLabel, restore, after }: UndoDeleteOptions): void {
  message.success({
    key,
    duration: 10,
    content: (
      <Space>
        {text}
        <Button
          size="small"
          onClick={async () => {
            message.destroy(key);
            try {
              await restore();
              await after();
            } catch (e) {
              message.error(errorLabel(errorText(e)));
            }
          }}
        >
          {undoLabel}
        </Button>
      </Space>
    ),
  });
}
