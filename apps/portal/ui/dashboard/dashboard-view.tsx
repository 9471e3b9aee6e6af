'use client';
/** The operators' dashboard: charts and tables of figures the API computed in the database. */
import { useMemo } from 'react';
import { Card, Col, Progress, Row, Statistic, Table, Typography } from 'antd';
import { useFormatter, useTranslations } from 'next-intl';
import type { Dashboard } from '../../lib/api-client';
import { formatBytes } from '../format';
import { ChartOption, ChartTable, EChart } from './echart';

const COLORS = { inbound: '#1557b0', outbound: '#2e7d32', refused: '#c62828' };

export function DashboardView({ data }: { data: Dashboard }) {
  const t = useTranslations('dashboard');
  const format = useFormatter();
  const hourLabel = (iso: string) => iso.slice(11, 16);
  const dayLabel = (iso: string) => iso.slice(5, 10);

  const mailChart = (rows: Dashboard['mailPerHour'], label: (iso: string) => string, kind: 'bar' | 'line'): ChartOption => ({
    color: [COLORS.inbound, COLORS.outbound, COLORS.refused],
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: rows.map((r) => label(r.at)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: (['inbound', 'outbound', 'refused'] as const).map((k) => ({ name: t(k), type: kind, data: rows.map((r) => r[k]), ...(kind === 'bar' ? { stack: undefined } : { smooth: true }) })),
  });
  const perHour = useMemo(() => mailChart(data.mailPerHour, hourLabel, 'line'), [data, t]);
  const perDay = useMemo(() => mailChart(data.mailPerDay, dayLabel, 'bar'), [data, t]);
  // The same figures as tables (the charts' text alternative): full UTC hour or day, then one column a series.
  const mailTable = (rows: Dashboard['mailPerHour'], first: string, label: (iso: string) => string): ChartTable => ({
    columns: [first, t('inbound'), t('outbound'), t('refused')],
    rows: rows.map((r) => [label(r.at), r.inbound, r.outbound, r.refused]),
  });
  const perHourTable = useMemo(() => mailTable(data.mailPerHour, t('hourUtc'), (iso) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`), [data, t]);
  const perDayTable = useMemo(() => mailTable(data.mailPerDay, t('dayUtc'), (iso) => iso.slice(0, 10)), [data, t]);
  const queueTable = useMemo<ChartTable>(
    () => ({ columns: [t('hourUtc'), t('waiting')], rows: data.queuePerHour.map((r) => [`${r.at.slice(0, 10)} ${r.at.slice(11, 16)}`, r.waiting]) }),
    [data, t],
  );
  const queue = useMemo<ChartOption>(
    () => ({
      color: ['#b26a00'],
      tooltip: { trigger: 'axis' },
      grid: { left: 40, right: 16, top: 16, bottom: 28 },
      xAxis: { type: 'category', data: data.queuePerHour.map((r) => hourLabel(r.at)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{ name: t('waiting'), type: 'line', areaStyle: {}, data: data.queuePerHour.map((r) => r.waiting) }],
    }),
    [data, t],
  );

  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22, marginTop: 0 }}>
        {t('title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('generated', { time: data.generatedAt.slice(0, 16).replace('T', ' ') })}</Typography.Paragraph>
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={16}>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('mailPerHour')}</h2>}>
            <EChart option={perHour} label={t('mailPerHour')} table={perHourTable} />
          </Card>
        </Col>
        <Col xs={24} xl={8}>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('queueNow')}</h2>}>
            <Row gutter={16}>
              <Col span={12}>
                <Statistic title={t('queued')} value={data.queueNow.queued} />
              </Col>
              <Col span={12}>
                <Statistic title={t('deferred')} value={data.queueNow.deferred} />
              </Col>
            </Row>
            <h3 style={{ fontSize: 14, margin: '16px 0 0' }}>{t('queuePerHour')}</h3>
            <EChart option={queue} label={t('queuePerHour')} table={queueTable} height={160} />
          </Card>
        </Col>
        <Col xs={24}>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('mailPerDay')}</h2>}>
            <EChart option={perDay} label={t('mailPerDay')} table={perDayTable} />
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('storageByTenant')}</h2>}>
            <Table
              size="small"
              rowKey="tenantId"
              pagination={false}
              locale={{ emptyText: t('empty') }}
              dataSource={data.storageByTenant}
              scroll={{ x: true }}
              columns={[
                { title: t('tenant'), dataIndex: 'name' },
                { title: t('used'), dataIndex: 'usedBytes', render: (v: number) => formatBytes(v, format) },
                {
                  title: t('limit'),
                  key: 'limit',
                  render: (_: unknown, r: Dashboard['storageByTenant'][number]) =>
                    r.maxStorageBytes ? <Progress percent={Math.min(100, Math.round((r.usedBytes / r.maxStorageBytes) * 1000) / 10)} status={r.usedBytes >= r.maxStorageBytes ? 'exception' : 'normal'} size="small" aria-label={`${r.name} ${formatBytes(r.maxStorageBytes, format)}`} /> : '—',
                },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('topSenders')}</h2>}>
            <Table
              size="small"
              rowKey="sender"
              pagination={false}
              locale={{ emptyText: t('empty') }}
              dataSource={data.topSenders}
              columns={[
                { title: t('sender'), dataIndex: 'sender', render: (v: string) => v || t('nullSender') },
                { title: t('messages'), dataIndex: 'messages', align: 'right' },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24}>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t('refusals')}</h2>}>
            <Table
              size="small"
              rowKey="reason"
              pagination={false}
              locale={{ emptyText: t('empty') }}
              dataSource={data.refusalsByReason}
              columns={[
                { title: t('reason'), dataIndex: 'reason' },
                { title: t('count'), dataIndex: 'count', align: 'right' },
              ]}
            />
          </Card>
        </Col>
      </Row>
    </>
  );
}
