// A lock file holding the owner's pid, for directories one process at a time may use (the control
// plane's data dir, a proxy's identity state dir). A lock left by a killed process is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { readIfExists } from './files.js';

/** Takes the lock at `file`, or throws `held(pid)` when a live process holds it. Returns a release function. */
export function takePidLock(file: string, held: (pid: number) => Error): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
        } catch {}
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readIfExists(file));
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
