/**
 * Whether a process with this pid exists on this host (signal 0 probes without sending anything; EPERM
 * means it exists but belongs to another user). Used to tell a lock whose holder died from a live one.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
