import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { load, requireSession } from '../../../../lib/server-api';
import { NodeTable } from '../../../../ui/nodes/node-table';

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations('nodes'))('title') };
}

export default async function NodesPage() {
  const { api } = await requireSession();
  return <NodeTable list={await load(api.nodes())} />;
}
