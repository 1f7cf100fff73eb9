import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { JobSetting } from '../api/api-types';
import { ApiError, errorLine } from '../api/api-error';
import { useLoad, usePermissions, useServices } from '../app-context';
import { ErrorLine } from '../components/error-line';
import { navigate, useLocation } from '../routing/router';
import {
  checkSubmitForm,
  fieldOfIssuePath,
  formSettings,
  initialFormValues,
  type FormValues,
} from '../submit/settings-form-model';

/** Choose a job type, fill in a form generated from its settings, check it and submit. */
export function SubmitPage() {
  const { api } = useServices();
  const { search } = useLocation();
  const types = useLoad((signal) => api.call('get', '/api/v1/job-types', { signal }), []);
  const [typeName, setTypeName] = useState<string>(search.get('type') ?? '');
  const jobType = types.data?.jobTypes.find((t) => t.name === typeName);
  const [name, setName] = useState('');
  const [priority, setPriority] = useState('50');
  const [project, setProject] = useState('');
  const [paused, setPaused] = useState(false);
  const [values, setValues] = useState<FormValues>({});
  const [touched, setTouched] = useState(false);
  const [serverProblems, setServerProblems] = useState<Record<string, string[]>>({});
  const [submitError, setSubmitError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const permissions = usePermissions();

  useEffect(() => {
    if (!typeName && types.data?.jobTypes[0]) setTypeName(types.data.jobTypes[0].name);
  }, [types.data, typeName]);
  useEffect(() => {
    setValues(jobType ? initialFormValues(jobType.settings) : {});
    setServerProblems({});
    setTouched(false);
  }, [jobType]);

  const settings = useMemo(() => (jobType ? formSettings(jobType.settings) : []), [jobType]);
  const check = checkSubmitForm(jobType?.settings ?? [], values, { name, priority });
  const problems: Record<string, string[]> = touched ? { ...check.problems } : {};
  for (const [key, list] of Object.entries(serverProblems))
    problems[key] = [...(problems[key] ?? []), ...list];

  async function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    setSubmitError(null);
    setServerProblems({});
    if (!jobType || check.count > 0) return;
    setBusy(true);
    try {
      const job = await api.call('post', '/api/v1/jobs', {
        body: {
          name: name.trim(),
          type: jobType.name,
          typeEtag: jobType.etag,
          priority: Number(priority),
          settings: check.settings,
          ...(project.trim() ? { project: project.trim() } : {}),
          ...(paused ? { initialStatus: 'paused' as const } : {}),
        },
      });
      navigate(`/jobs/${job.id}`);
    } catch (error) {
      setSubmitError(error);
      if (error instanceof ApiError) {
        const byField: Record<string, string[]> = {};
        for (const issue of error.issues)
          (byField[fieldOfIssuePath(issue.path)] ??= []).push(issue.message);
        setServerProblems(byField);
      }
    } finally {
      setBusy(false);
    }
  }

  const problemList = Object.entries(problems).flatMap(([key, list]) =>
    list.map((message) => ({ key, message })),
  );
  return (
    <section className="page submit-page" aria-labelledby="submit-title">
      <div className="page-head">
        <h1 id="submit-title">Submit a job</h1>
      </div>
      <ErrorLine error={types.error} prefix="Could not load the job types" />
      <form
        className="form"
        onSubmit={(e) => void submit(e)}
        noValidate
        aria-describedby="form-problems"
      >
        <Field label="Job type" id="f-type">
          <select id="f-type" value={typeName} onChange={(e) => setTypeName(e.target.value)}>
            {types.data?.jobTypes.map((t) => (
              <option key={t.name} value={t.name}>
                {t.label} ({t.name})
              </option>
            ))}
          </select>
          {jobType?.description && <p className="hint">{jobType.description}</p>}
        </Field>
        <Field label="Job name" id="f-name" required problems={problems.name}>
          <input
            id="f-name"
            name="name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={!!problems.name}
          />
        </Field>
        <div className="row-fields">
          <Field
            label="Priority"
            id="f-priority"
            problems={problems.priority}
            hint="0 to 100; higher runs first"
          >
            <input
              id="f-priority"
              type="number"
              min={0}
              max={100}
              value={priority}
              className="num narrow"
              onChange={(e) => setPriority(e.target.value)}
              aria-invalid={!!problems.priority}
            />
          </Field>
          <Field
            label="Project"
            id="f-project"
            hint="Empty: your default project"
            problems={problems.project}
          >
            <input id="f-project" value={project} onChange={(e) => setProject(e.target.value)} />
          </Field>
          <label className="inline-field">
            <input type="checkbox" checked={paused} onChange={(e) => setPaused(e.target.checked)} />
            Submit paused
          </label>
        </div>
        {settings.length > 0 && <h2>Settings</h2>}
        {settings.map((setting) => (
          <SettingField
            key={setting.key}
            setting={setting}
            value={values[setting.key]}
            problems={problems[setting.key]}
            onChange={(value) => setValues((v) => ({ ...v, [setting.key]: value }))}
          />
        ))}
        <div id="form-problems" aria-live="polite">
          {problemList.length > 0 && (
            <div className="problems-box" role="alert">
              <p>
                {problemList.length === 1 ? 'One problem' : `${problemList.length} problems`} to fix
                before submitting:
              </p>
              <ul className="problems">
                {problemList.map(({ key, message }, i) => (
                  <li key={`${key}-${i}`}>
                    <a href={`#f-${key}`}>{labelOf(key, settings)}</a> {message}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {submitError !== null && Object.keys(serverProblems).length === 0 && (
            <p className="error-line" role="alert">
              {errorLine(submitError)}
            </p>
          )}
        </div>
        <div className="actions">
          <button
            type="submit"
            className="btn btn-primary"
            disabled={busy || !jobType || !permissions.writeJobs}
          >
            {busy ? 'Submitting…' : 'Submit job'}
          </button>
        </div>
      </form>
    </section>
  );
}

function labelOf(key: string, settings: readonly JobSetting[]): string {
  if (key === 'name') return 'Job name';
  if (key === 'priority') return 'Priority';
  if (key === 'project') return 'Project';
  return settings.find((s) => s.key === key)?.label ?? key;
}

function Field(props: {
  label: string;
  id: string;
  required?: boolean;
  hint?: string;
  problems?: string[];
  children: React.ReactNode;
}) {
  return (
    <div className={`field${props.problems?.length ? ' field-invalid' : ''}`}>
      <label htmlFor={props.id}>
        {props.label}
        {props.required && <span aria-hidden="true"> *</span>}
      </label>
      {props.children}
      {props.hint && <p className="hint">{props.hint}</p>}
      {props.problems?.map((p) => (
        <p key={p} className="field-problem" id={`${props.id}-problem`}>
          {props.label} {p}
        </p>
      ))}
    </div>
  );
}

function SettingField(props: {
  setting: JobSetting;
  value: string | boolean | undefined;
  problems: string[] | undefined;
  onChange(value: string | boolean): void;
}) {
  const { setting } = props;
  const id = `f-${setting.key}`;
  const label = setting.label ?? setting.key;
  const readOnly = setting.editable === false;
  const hint = [
    setting.description,
    setting.eval && !setting.default
      ? `Usually filled in by the submitting tool (${setting.evalInfo?.description ?? setting.eval}).`
      : '',
  ]
    .filter(Boolean)
    .join(' ');
  let control: React.ReactNode;
  if (setting.type === 'bool') {
    control = (
      <input
        id={id}
        type="checkbox"
        checked={props.value === true}
        disabled={readOnly}
        onChange={(e) => props.onChange(e.target.checked)}
      />
    );
  } else if (setting.choices && setting.choices.length > 0) {
    control = (
      <select
        id={id}
        value={String(props.value ?? '')}
        disabled={readOnly}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={!!props.problems}
      >
        {!setting.required || props.value === '' ? <option value="">—</option> : null}
        {setting.choices.map((choice) => (
          <option key={String(choice)} value={String(choice)}>
            {String(choice)}
          </option>
        ))}
      </select>
    );
  } else {
    const numeric = setting.type === 'int32' || setting.type === 'float';
    const min = setting.propargs?.min;
    const max = setting.propargs?.max;
    control = (
      <input
        id={id}
        name={setting.key}
        type="text"
        inputMode={numeric ? (setting.type === 'int32' ? 'numeric' : 'decimal') : undefined}
        className={
          numeric ? 'num narrow' : setting.subtype?.includes('path') ? 'mono wide' : 'wide'
        }
        value={String(props.value ?? '')}
        readOnly={readOnly}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={!!props.problems}
        placeholder={
          numeric && (typeof min === 'number' || typeof max === 'number')
            ? `${typeof min === 'number' ? min : ''}…${typeof max === 'number' ? max : ''}`
            : undefined
        }
      />
    );
  }
  return (
    <Field
      label={label}
      id={id}
      required={setting.required}
      hint={hint || undefined}
      problems={props.problems}
    >
      {control}
    </Field>
  );
}
