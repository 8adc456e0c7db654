// Test helper: a whole control plane in this process, on free ports and a temp data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type RunningControlPlane } from '../../src/controlplane/start.js';
import type { ControlPlaneFlags } from '../../src/controlplane/flags.js';
import { createLogger, silentLogger } from '../../src/core/log.js';

export interface TestControlPlane extends RunningControlPlane {
  dataDir: string;
  /** Stops and removes the data dir. */
  dispose(): Promise<void>;
}

/** Every component port set to 0 (free port), unless overridden. */
export const FREE_PORTS: Partial<ControlPlaneFlags> = { 'admin-port': 0, 'identity-port': 0, 'destination-port': 0, 'policy-port': 0, 'health-port': 0, 'viz-port': 0 };

export async function startTestControlPlane(flags: Partial<ControlPlaneFlags> = {}, dataDir?: string): Promise<TestControlPlane> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'outpost-test-'));
  const log = process.env.OUTPOST_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger;
  const cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1', apiPort: 0, flags: { ...FREE_PORTS, ...flags }, log });
  return {
    ...cp,
    dataDir: dir,
    async dispose() {
      await cp.stop();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
