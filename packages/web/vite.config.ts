import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The manager serves this build at `/`; in development `vite` proxies the API to a local manager.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/api': { target: 'http://localhost:8080', ws: true },
      '/healthz': 'http://localhost:8080',
    },
  },
});
