const ICONS: Record<string, string> = {
  // jobs and tasks
  waiting: '⧗',
  queued: '○',
  active: '▶',
  completed: '✓',
  failed: '✕',
  'soft-failed': '!',
  canceled: '⊘',
  paused: '❚❚',
  'pause-requested': '❚❚',
  'cancel-requested': '⊘',
  requeueing: '↻',
  archived: '▣',
  // workers
  starting: '↑',
  awake: '●',
  asleep: '☾',
  testing: '◆',
  offline: '○',
  error: '✕',
};

/** The glyph that shows a status without colour. */
export function statusIcon(status: string): string {
  return ICONS[status] ?? '?';
}

/** A status readable without colour: icon, optional text, colour; screen readers hear the word. */
export function StatusBadge(props: { status: string; compact?: boolean; pending?: boolean }) {
  const { status, compact, pending } = props;
  const label = status.replace(/-/g, ' ');
  const passing = pending || status.endsWith('-requested') || status === 'requeueing';
  return (
    <span
      className={`status status-${status}${passing ? ' status-passing' : ''}`}
      title={label}
      aria-label={compact ? label : undefined}
      role={compact ? 'img' : undefined}
    >
      <span className="status-icon" aria-hidden="true">
        {statusIcon(status)}
      </span>
      {!compact && <span className="status-text">{label}</span>}
    </span>
  );
}
