import { sparklinePoints } from './host-stats-history';

/** A small inline line graph of values in 0..1 with its latest value as text. */
export function Sparkline(props: {
  values: readonly number[];
  label: string;
  latest: string;
  width?: number;
  height?: number;
}) {
  const width = props.width ?? 120;
  const height = props.height ?? 24;
  return (
    <span className="sparkline">
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${props.label}: ${props.latest}`}
      >
        <rect x="0" y="0" width={width} height={height} className="spark-bg" />
        <polyline
          points={sparklinePoints(props.values, width, height)}
          className="spark-line"
          fill="none"
        />
      </svg>
      <span className="num spark-value">{props.latest}</span>
    </span>
  );
}
