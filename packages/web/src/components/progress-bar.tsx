import { formatProgress } from '../format/progress';

/** A thin bar with the exact "X of Y tasks" on hover and for screen readers. */
export function ProgressBar(props: {
  done: number;
  total: number;
  unit?: string;
  failed?: number;
}) {
  const { fraction, text } = formatProgress(props.done, props.total, props.unit);
  const failedFraction = props.total > 0 ? Math.min(1, (props.failed ?? 0) / props.total) : 0;
  const percent = Math.round(fraction * 100);
  return (
    <span
      className="progress"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-valuetext={text}
      title={text}
    >
      <span className="progress-track">
        <span className="progress-fill" style={{ width: `${fraction * 100}%` }} />
        {failedFraction > 0 && (
          <span
            className="progress-failed"
            style={{ left: `${fraction * 100}%`, width: `${failedFraction * 100}%` }}
          />
        )}
      </span>
      <span className="progress-label num">{percent}%</span>
    </span>
  );
}
