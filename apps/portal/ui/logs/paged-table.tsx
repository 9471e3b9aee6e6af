'use client';
/**
 * The one table of the operator's logs (mail log, queue, audit log): a page of the API's list, its filters and page
 * number in the URL (so a filtered view can be shared and reloaded), newest first, wide tables scrolling inside
 * their own box (antd's own scroll.x adds an aria-hidden row holding focusable checkboxes).
 */
import { useCallback } from 'react';
import { Table, TableProps } from 'antd';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useTranslations } from 'next-intl';

/** Changes URL query parameters (undefined removes one) and loads the page again with them. */
export function useUrlFilters(onNavigate?: () => void) {
  const router = useRouter();
  const path = usePathname();
  const params = useSearchParams();
  const navigate = useCallback(
    (changes: Record<string, string | undefined>) => {
      const next = new URLSearchParams(params.toString());
      for (const [k, v] of Object.entries(changes)) if (v) next.set(k, v); else next.delete(k);
      onNavigate?.();
      router.push(`${path}?${next}`);
    },
    [params, path, router, onNavigate],
  );
  return { params, navigate };
}

interface Page<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
}

export function PagedTable<T extends { id: string }>({
  page,
  navigate,
  minWidth,
  ...table
}: { page: Page<T>; navigate: (changes: Record<string, string | undefined>) => void; minWidth?: number } & Omit<TableProps<T>, 'dataSource' | 'pagination' | 'rowKey'>) {
  const t = useTranslations('common');
  return (
    <div style={{ overflowX: 'auto' }}>
      <Table<T>
        rowKey="id"
        size="small"
        style={minWidth ? { minWidth } : undefined}
        dataSource={page.items}
        pagination={{
          current: Math.floor(page.offset / page.limit) + 1,
          pageSize: page.limit,
          total: page.total,
          showSizeChanger: false,
          showTotal: (n) => t('total', { count: n }),
          onChange: (p) => navigate({ offset: String((p - 1) * page.limit) }),
        }}
        {...table}
      />
    </div>
  );
}
