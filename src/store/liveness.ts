/** Whether the process a row names (a pause's, a lock's, a worker's pid) still runs. */

/** Whether a process of this machine is alive. */
export const pidAlive = (pid: number | null | undefined): boolean => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};
