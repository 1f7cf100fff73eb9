# Farm: one image for the manager and the worker (the compose file picks the command).
# Build: docker build -t farm .  (the manager; `--target worker` adds FFmpeg for workers)
# Run: see docker-compose.yml and docs/deploy.md.

# --- build: install everything, compile TypeScript and the web app ---
FROM node:20-bookworm-slim AS build
WORKDIR /farm
# Manifests first, so the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
COPY packages/core/package.json packages/core/
COPY packages/manager/package.json packages/manager/
COPY packages/worker/package.json packages/worker/
COPY packages/submitter-cli/package.json packages/submitter-cli/
COPY packages/web/package.json packages/web/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY packages packages
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: the built packages and production dependencies, run as a non-root user ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    FARM_DATA_DIR=/var/lib/farm \
    FARM_PORT=8080 \
    FARM_DISCOVERY=false
WORKDIR /farm
COPY --from=build /farm/package.json /farm/package-lock.json ./
COPY --from=build /farm/node_modules node_modules
COPY --from=build /farm/packages packages
# The image's own `node` user (uid 1000) owns the data folder and the shared storage mount point.
RUN mkdir -p /var/lib/farm /srv/farm-storage \
    && chown -R node:node /var/lib/farm /srv/farm-storage
USER node
EXPOSE 8080
VOLUME ["/var/lib/farm"]
# Node answers the health check itself: the slim image has neither curl nor wget.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.FARM_PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "packages/manager/dist/main.js"]

# --- worker: the same image plus FFmpeg (add Blender in an image built FROM this one) ---
FROM runtime AS worker
USER root
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*
USER node
HEALTHCHECK NONE
CMD ["node", "packages/worker/dist/main.js"]

# The default target: the manager.
FROM runtime AS manager
