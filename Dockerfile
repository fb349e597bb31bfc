# syntax=docker/dockerfile:1
# The service as an image: SQLite on the /data volume by default, or DATABASE_URL=postgres://…
#   docker build -t tripline .
#   docker run -p 8080:8080 -v tripline-data:/data --stop-timeout 30 tripline

# Compiles the TypeScript. `npm ci` would run `prepare` (the build) before the sources are here, so
# scripts are skipped: the build needs no native module.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY migrations migrations
RUN npm run build

# Production dependencies only. better-sqlite3 fetches a prebuilt binary, or compiles one (Python 3, make,
# a C++ compiler) when none fits; it is the one package whose install script runs.
FROM node:20-bookworm-slim AS prod-deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3

FROM node:20-bookworm-slim
# Python rules run in sandboxed workers: the host's Python 3 with the modules Panther's helpers import,
# and bubblewrap for the sandbox (user namespaces must be allowed where the container runs).
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 python3-dateutil python3-pycountry bubblewrap \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=8080 \
  DATABASE_URL=sqlite:/data/tripline.sqlite
WORKDIR /app
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY bin bin
COPY python python
COPY rules rules
RUN mkdir /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node runs as PID 1 and handles SIGTERM itself: requests in flight finish, then it exits 0.
CMD ["node", "--enable-source-maps", "dist/src/main.js"]
