# Keyhold container image. Build: docker build -t keyhold .
# Run: docker run -p 3000:3000 -e KEYHOLD_SECRET=<64 hex chars> -e ISSUER=... keyhold
# (or docker compose up, see docker-compose.yml).

# --- deps: production dependencies only (esbuild builds dist/ below; the deps stage has no sources, hence --ignore-scripts) --------
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && npm cache clean --force

# --- runtime -----------------------------------------------------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=3000 DATA_DIR=/data
WORKDIR /app

# Application files stay owned by root (read-only for the service user).
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY views ./views
COPY console ./console
COPY bin ./bin
COPY scripts ./scripts
# Plain JavaScript in dist/: no TypeScript compiler at run time.
RUN node scripts/build.js

# The only writable place: embedded database (when DATABASE_URL is unset), mail outbox.
RUN install -d -m 0700 -o node -g node /data
VOLUME /data

USER node
EXPOSE 3000

# No curl in the slim image: Node's own fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "scripts/start.js"]
