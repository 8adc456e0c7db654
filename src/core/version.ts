// The Outpost version, reported by every component (proxies and control plane compare it), and the
// commit a packaged executable was built from (set by `npm run package`, docs/packaging.md).
export const OUTPOST_VERSION = '0.1.0';

declare const __OUTPOST_COMMIT__: string | undefined;

/** `git describe` of the tree the executable was built from; undefined when running from source. */
export const OUTPOST_COMMIT: string | undefined = typeof __OUTPOST_COMMIT__ === 'string' ? __OUTPOST_COMMIT__ : undefined;

/** What `outpost --version` prints: `outpost 0.1.0`, or `outpost 0.1.0 (commit e56be43)` for a packaged build. */
export function versionLine(): string {
  return `outpost ${OUTPOST_VERSION}${OUTPOST_COMMIT ? ` (commit ${OUTPOST_COMMIT})` : ''}`;
}
