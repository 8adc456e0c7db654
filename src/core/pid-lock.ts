// A lock file holding the owner's pid, for directories one process at a time may use (the control
// plane's data dir, a proxy's identity state dir). A lock left by a killed process is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { readIfExists } from './files.js';

/**
 * Takes the lock at `file`, or throws `held(pid)` when a live process holds it — unless that is
 * `takeOverFrom` (a proxy handing over to its successor): then the lock becomes this process's.
 * Returns a release function.
 */
export function takePidLock(file: string, held: (pid: number) => Error, takeOverFrom?: number): () => void {
  const release = () => {
    try {
      if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
    } catch {}
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readIfExists(file));
      if (pid && takeOverFrom !== undefined && pid === takeOverFrom) {
        writeFileSync(file, String(process.pid), { mode: 0o600 });
        return release;
      }
      if (pid && pidAlive(pid)) throw held(pid);
      try {
        unlinkSync(file); // stale lock from a killed process
      } catch {}
    }
  }
  throw held(Number(readIfExists(file)) || 0);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
