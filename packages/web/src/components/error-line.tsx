import { errorLine } from '../api/api-error';

/** An error as one clear line (the manager's message), or nothing. */
export function ErrorLine(props: { error: unknown; prefix?: string }) {
  if (!props.error) return null;
  return (
    <p className="error-line" role="alert">
      {props.prefix ? `${props.prefix}: ` : ''}
      {errorLine(props.error)}
    </p>
  );
}
