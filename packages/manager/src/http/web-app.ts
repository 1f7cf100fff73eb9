import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';

const PLACEHOLDER = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Farm manager</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>Farm manager is running</h1>
<p>The web app has not been built, so there is nothing to show here yet.
Build it with <code>npm run build -w @farm/web</code> (or <code>npm run build</code> at the root) and reload.</p>
<p>The API works already: see the <a href="/api/docs">API explorer</a>,
<a href="/api/v1/version">/api/v1/version</a> and <a href="/healthz">/healthz</a>.</p>
</body>
</html>
`;

/**
 * Serves the web app's build from `webDir` (hashed assets cached for a year, `index.html` never
 * cached) with a fallback to `index.html` for client-side routes. API paths are left to the API's
 * own 404. Without a build it serves a page saying how to make one.
 */
export function createWebAppRouter(webDir: string | undefined): Router {
  const router = Router();
  const indexFile = webDir ? path.resolve(webDir, 'index.html') : undefined;
  if (webDir) {
    router.use(
      express.static(webDir, {
        index: false,
        setHeaders: (res, file) => {
          // Vite puts content hashes in asset names, so those never change under the same URL.
          const immutable = file.includes(`${path.sep}assets${path.sep}`);
          res.setHeader(
            'Cache-Control',
            immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      }),
    );
  }
  router.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || isApiPath(req.path)) {
      next();
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    // Checked per request so a build made while the manager runs shows up without a restart.
    if (indexFile && existsSync(indexFile)) res.sendFile(indexFile);
    else res.status(200).type('html').send(PLACEHOLDER);
  });
  return router;
}

/** Paths that belong to the API or the probes, never to the web app's fallback. */
export function isApiPath(requestPath: string): boolean {
  return (
    requestPath === '/api' ||
    requestPath.startsWith('/api/') ||
    requestPath === '/healthz' ||
    requestPath === '/readyz' ||
    requestPath === '/metrics'
  );
}
