# The image `outpost install --image` points the control-plane Deployments at.
# UNTESTED: this machine has no container runtime, so this file has never been built or run; it
# is a starting point, not a supported artifact (docs/kubernetes.md, "Installing into a cluster").
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/outpost
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY native ./native
COPY src ./src
COPY proto ./proto
COPY bin ./bin
# `npm ci` builds the SO_ORIGINAL_DST addon and, through `prepare`, the CLI into dist/.
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /opt/outpost
COPY --from=build /opt/outpost /opt/outpost
# The uid the Deployments run as (runAsNonRoot, runAsUser 2102), like the VM proxy user.
USER 2102:2102
ENTRYPOINT ["node", "/opt/outpost/bin/outpost.js"]
