import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useMemo, useRef, type KeyboardEvent } from 'react';
import type { TaskStatus } from '../api/api-types';
import { useNow } from '../app-context';
import { StatusBadge } from '../components/status-badge';
import { nextRowIndex } from '../components/table-keys';
import { formatAgo, formatDateTime } from '../format/time';
import type { TaskSort, TaskSortColumn, TaskStore } from './task-table-model';

/** Every row has this height, so live updates never shift the rows below. */
export const TASK_ROW_HEIGHT = 26;

const COLUMNS: Array<{ column: TaskSortColumn; label: string; className: string }> = [
  { column: 'status', label: 'Status', className: 'tcol-status' },
  { column: 'index', label: '#', className: 'tcol-index' },
  { column: 'name', label: 'Name', className: 'tcol-name' },
  { column: 'type', label: 'Type', className: 'tcol-type' },
  { column: 'worker', label: 'Worker', className: 'tcol-worker' },
  { column: 'progress', label: 'Progress', className: 'tcol-progress' },
  { column: 'updated', label: 'Updated', className: 'tcol-time' },
];

export interface TaskTableProps {
  store: TaskStore;
  rows: readonly number[];
  sort: TaskSort;
  onSort(column: TaskSortColumn): void;
  selected: ReadonlySet<string>;
  onToggle: (taskId: string) => void;
  activeTaskId: string | null;
  onOpen: (taskId: string) => void;
  /** Closes the open task's panel (Escape). */
  onClose?: () => void;
}

/**
 * The task table: a virtualised grid (only the rows in view are in the DOM), so a job with 100,000
 * tasks renders and scrolls like one with ten.
 */
export function TaskTable(props: TaskTableProps) {
  const { store, rows } = props;
  const c = store.columns;
  const now = useNow();
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => TASK_ROW_HEIGHT,
    overscan: 8,
  });
  // Scrolling re-renders this component every frame; finding the active row in 100,000 must not.
  const activePosition = useMemo(
    () => (props.activeTaskId ? rows.findIndex((row) => c.ids[row] === props.activeTaskId) : -1),
    [rows, c.ids, props.activeTaskId],
  );

  useEffect(() => {
    if (activePosition >= 0) virtualizer.scrollToIndex(activePosition, { align: 'auto' });
    // Only when the active task moves, not on every live update.
  }, [activePosition]);

  function onKey(event: KeyboardEvent<HTMLDivElement>) {
    const pageSize = Math.max(
      1,
      Math.floor((scrollRef.current?.clientHeight ?? 260) / TASK_ROW_HEIGHT) - 1,
    );
    const next = nextRowIndex(event.key, activePosition, rows.length, pageSize);
    if (next !== null) {
      event.preventDefault();
      const id = c.ids[rows[next] as number];
      if (id) props.onOpen(id);
      return;
    }
    if (event.key === ' ' && props.activeTaskId) {
      event.preventDefault();
      props.onToggle(props.activeTaskId);
    } else if (event.key === 'Enter' && props.activeTaskId) {
      event.preventDefault();
      props.onOpen(props.activeTaskId);
    } else if (event.key === 'Escape' && props.activeTaskId && props.onClose) {
      event.preventDefault();
      props.onClose();
    }
  }

  return (
    <div className="task-grid" role="grid" aria-rowcount={rows.length + 1} aria-label="Tasks">
      <div className="task-row task-head" role="row" aria-rowindex={1}>
        <span className="tcol-check" role="columnheader" aria-label="Selected" />
        {COLUMNS.map(({ column, label, className }) => (
          <span
            key={column}
            role="columnheader"
            className={className}
            aria-sort={
              props.sort.column === column
                ? props.sort.descending
                  ? 'descending'
                  : 'ascending'
                : 'none'
            }
          >
            <button type="button" className="sort-button" onClick={() => props.onSort(column)}>
              {label}
              <span aria-hidden="true" className="sort-mark">
                {props.sort.column === column ? (props.sort.descending ? '▼' : '▲') : ''}
              </span>
            </button>
          </span>
        ))}
      </div>
      <div
        className="task-scroll"
        ref={scrollRef}
        tabIndex={0}
        onKeyDown={onKey}
        aria-label="Task rows: arrow keys move, Space selects, Enter opens, Escape closes"
        data-testid="task-scroll"
      >
        <div className="task-canvas" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index] as number;
            const id = c.ids[row] as string;
            return (
              <TaskRowView
                key={id}
                id={id}
                position={item.index}
                start={item.start}
                status={c.statuses[row] as TaskStatus}
                index={c.indexes[row] as number}
                name={c.names[row] as string}
                type={c.types[row] as string}
                worker={c.workerNames[row] ?? ''}
                progress={c.progress[row] ?? 0}
                updated={c.updated[row] as string}
                now={now}
                selected={props.selected.has(id)}
                active={id === props.activeTaskId}
                onOpen={props.onOpen}
                onToggle={props.onToggle}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}

interface TaskRowViewProps {
  id: string;
  position: number;
  start: number;
  status: TaskStatus;
  index: number;
  name: string;
  type: string;
  worker: string;
  progress: number;
  updated: string;
  now: number;
  selected: boolean;
  active: boolean;
  onOpen: (taskId: string) => void;
  onToggle: (taskId: string) => void;
}

// Memoised on plain values: while scrolling only the rows that come into view render, and a live
// update re-renders only the row whose task changed.
const TaskRowView = memo(function TaskRowView(props: TaskRowViewProps) {
  const { id, status } = props;
  return (
    <div
      role="row"
      aria-rowindex={props.position + 2}
      aria-selected={props.selected}
      data-task-id={id}
      className={`task-row${props.selected ? ' row-selected' : ''}${props.active ? ' row-active' : ''}`}
      style={{ transform: `translateY(${props.start}px)`, height: TASK_ROW_HEIGHT }}
      onClick={() => props.onOpen(id)}
    >
      <span className="tcol-check" role="gridcell">
        <input
          type="checkbox"
          tabIndex={-1}
          aria-label={`Select task ${props.name}`}
          checked={props.selected}
          onClick={(e) => e.stopPropagation()}
          onChange={() => props.onToggle(id)}
        />
      </span>
      <span className="tcol-status" role="gridcell">
        <StatusBadge status={status} />
      </span>
      <span className="tcol-index num" role="gridcell">
        {props.index}
      </span>
      <span className="tcol-name" role="gridcell" title={props.name}>
        {props.name}
      </span>
      <span className="tcol-type" role="gridcell">
        {props.type}
      </span>
      <span className="tcol-worker" role="gridcell">
        {props.worker}
      </span>
      <span className="tcol-progress num" role="gridcell">
        {status === 'active' ? `${Math.round(props.progress * 100)}%` : ''}
      </span>
      <span className="tcol-time num" role="gridcell" title={formatDateTime(props.updated)}>
        {formatAgo(props.updated, props.now)}
      </span>
    </div>
  );
});
