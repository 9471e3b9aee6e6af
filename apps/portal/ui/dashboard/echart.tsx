'use client';
/**
 * One ECharts chart (SVG renderer, only the chart types the dashboard uses), sized to its box, with its figures
 * as a table beside it. The chart only exists once the browser has run this component; the table is in the
 * server's HTML, so screen readers, axe and people without JavaScript get the figures too.
 */
import { useEffect, useRef } from 'react';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export type ChartOption = echarts.EChartsCoreOption;
export interface ChartTable {
  columns: string[];
  rows: (string | number)[][];
}

export function EChart({ option, label, table, height = 260 }: { option: ChartOption; label: string; table: ChartTable; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.dataset.chart = 'drawing';
    const chart = echarts.init(el, undefined, { renderer: 'svg' });
    // ECharts' own aria option would replace the box's label with an English sentence of its own (also in
    // the Chinese console): the label stays ours and the figures are in the table below.
    chart.on('finished', () => {
      el.dataset.chart = 'drawn';
    });
    chart.setOption({ aria: { enabled: false }, ...option });
    const resize = new ResizeObserver(() => chart.resize());
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.dispose();
    };
  }, [option]);
  return (
    <figure style={{ margin: 0 }}>
      <div ref={box} role="img" aria-label={label} data-testid="chart" style={{ width: '100%', height }} />
      {/* Hidden by a div: a table's own overflow is not clipped and would lengthen the page. */}
      <div className="visually-hidden">
        <table>
          <caption>{label}</caption>
          <thead>
            <tr>
              {table.columns.map((c) => (
                <th key={c} scope="col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((r) => (
              <tr key={String(r[0])}>
                {r.map((v, i) =>
                  i === 0 ? (
                    <th key={i} scope="row">
                      {v}
                    </th>
                  ) : (
                    <td key={i}>{v}</td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
