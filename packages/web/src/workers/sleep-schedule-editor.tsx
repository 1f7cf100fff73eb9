import { useEffect, useState } from 'react';
import type { DayOfWeek, SleepSchedule } from '../api/api-types';
import { useServices } from '../app-context';
import { ErrorLine } from '../components/error-line';
import { sleepScheduleProblems } from './sleep-schedule-problems';

const DAYS: Array<{ day: DayOfWeek; label: string }> = [
  { day: 'mo', label: 'Mon' },
  { day: 'tu', label: 'Tue' },
  { day: 'we', label: 'Wed' },
  { day: 'th', label: 'Thu' },
  { day: 'fr', label: 'Fri' },
  { day: 'sa', label: 'Sat' },
  { day: 'su', label: 'Sun' },
];

function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Edits one worker's sleep schedule: active, days, start, end, time zone. */
export function SleepScheduleEditor(props: {
  workerId: string;
  schedule: SleepSchedule | null;
  onSaved(): void;
}) {
  const { api } = useServices();
  const empty: SleepSchedule = {
    isActive: true,
    daysOfWeek: [],
    startTime: '22:00',
    endTime: '07:00',
    timeZone: browserTimeZone(),
  };
  const [draft, setDraft] = useState<SleepSchedule>(props.schedule ?? empty);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    setDraft(props.schedule ?? empty);
    // Reset only when another worker or a saved schedule comes in.
  }, [props.workerId, JSON.stringify(props.schedule)]);
  const problems = sleepScheduleProblems(draft);

  function toggleDay(day: DayOfWeek) {
    setDraft((d) => ({
      ...d,
      daysOfWeek: d.daysOfWeek.includes(day)
        ? d.daysOfWeek.filter((x) => x !== day)
        : [...d.daysOfWeek, day],
    }));
  }
  async function save() {
    setError(null);
    setSaved(false);
    try {
      await api.call('put', '/api/v1/workers/{workerId}/sleep-schedule', {
        path: { workerId: props.workerId },
        body: draft,
      });
      setSaved(true);
      props.onSaved();
    } catch (e) {
      setError(e);
    }
  }
  async function remove() {
    setError(null);
    try {
      await api.call('delete', '/api/v1/workers/{workerId}/sleep-schedule', {
        path: { workerId: props.workerId },
      });
      props.onSaved();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <fieldset className="schedule">
      <legend>Sleep schedule</legend>
      <label className="inline-field">
        <input
          type="checkbox"
          checked={draft.isActive}
          onChange={(e) => setDraft({ ...draft, isActive: e.target.checked })}
        />
        Active
      </label>
      <div className="days" role="group" aria-label="Days (none means every day)">
        {DAYS.map(({ day, label }) => (
          <label key={day} className="inline-field">
            <input
              type="checkbox"
              checked={draft.daysOfWeek.includes(day)}
              onChange={() => toggleDay(day)}
            />
            {label}
          </label>
        ))}
      </div>
      <div className="row-fields">
        <label>
          Sleep from
          <input
            type="time"
            value={draft.startTime}
            onChange={(e) => setDraft({ ...draft, startTime: e.target.value })}
          />
        </label>
        <label>
          until
          <input
            type="time"
            value={draft.endTime}
            onChange={(e) => setDraft({ ...draft, endTime: e.target.value })}
          />
        </label>
        <label>
          Time zone
          <input
            value={draft.timeZone}
            onChange={(e) => setDraft({ ...draft, timeZone: e.target.value })}
          />
        </label>
      </div>
      <p className="muted small">
        No day ticked means every day. An end before the start runs past midnight.
      </p>
      {problems.length > 0 && (
        <ul className="problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <div className="actions">
        <button
          type="button"
          className="btn"
          disabled={problems.length > 0}
          onClick={() => void save()}
        >
          Save schedule
        </button>
        {props.schedule && (
          <button type="button" className="btn" onClick={() => void remove()}>
            Remove schedule
          </button>
        )}
        {saved && <span role="status">Saved.</span>}
      </div>
      <ErrorLine error={error} />
    </fieldset>
  );
}
