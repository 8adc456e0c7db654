// The Outpost version, reported by every component (proxies and control plane compare it).
export const OUTPOST_VERSION = '0.1.0';
