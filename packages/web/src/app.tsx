import { useEffect, useState } from 'react';

interface VersionInfo {
  name: string;
  version: string;
}

export function App() {
  const [version, setVersion] = useState<VersionInfo | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    fetch('/api/v1/version')
      .then((response) => response.json() as Promise<VersionInfo>)
      .then(setVersion)
      .catch((e: unknown) => setError(String(e)));
  }, []);

  return (
    <main>
      <h1>Farm</h1>
      {version && (
        <p>
          {version.name} {version.version}
        </p>
      )}
      {error && <p role="alert">Cannot reach the manager: {error}</p>}
    </main>
  );
}
