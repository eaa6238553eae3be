# syntax=docker/dockerfile:1
# Multi-stage: build with dev dependencies, run with production ones only, as a non-root user.
# Node 24 LTS, as package.json's engines. Install scripts are skipped: the image brings its own Node
# (the `node` devDependency is for machines whose system Node is older) and the build is explicit.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/no-native-binary ./scripts/no-native-binary
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
COPY fhir-profiles ./fhir-profiles
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/var/lib/opennhis
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/no-native-binary ./scripts/no-native-binary
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY fhir-profiles ./fhir-profiles
COPY openapi.yaml openapi-national.yaml ./
RUN mkdir -p /var/lib/opennhis && chown node:node /var/lib/opennhis
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
