# Poquan: one image for every instance (Telegram webhooks or polling, Discord shards). Multi-stage: the build
# stage installs every dependency, compiles the TypeScript to dist/ and prunes the development tools; the
# runtime stage holds production dependencies, dist/ and the knowledge, has no compiler and runs as `node`.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# No compiler needed: SQLite comes from libsql's prebuilt binaries, published as npm packages per platform.
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
COPY scripts ./scripts
# `npm ci` runs the `prepare` script, which builds dist/ (`npm run build`); then the dev tools go.
RUN npm ci --no-audit --no-fund \
  && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
  HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json package-lock.json ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node knowledge ./knowledge
# The embedded SQLite store's default path (STORE_URL=sqlite://data/poquan.sqlite); mount a volume here.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
# Liveness only: /readyz also fails while Redis or a platform is down, which a restart would not fix.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself: it stops taking updates and drains answers for SHUTDOWN_GRACE_MS.
# The port is a start option, not `ENV PORT`: `docker run --env-file` with a copy of .env.example sets PORT=
# (empty = unset), which would erase an ENV default; a non-empty PORT still wins.
CMD ["node", "bin/poquan.js", "start", "--default-port", "8080"]
