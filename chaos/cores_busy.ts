/**
 * How busy this process and every process it started are, from /proc: the share of one
 * core their threads used over a window. A thread left spinning shows as ~1 (or, on a machine
 * busy with other work, at least its fair share, far above what an idle process uses).
 */
const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux this runs on

function cpuTicksOfTree(root: number): number {
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    } catch {
      continue; // ended meanwhile
    }
    // Fields after "(comm)": state, ppid, … utime (14th field of the line) and stime (15th).
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    parents.set(pid, Number(rest[1]));
    ticks.set(pid, Number(rest[11]) + Number(rest[12]));
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parents.get(p) ?? 0, hops++) {
      if (p === root) return true;
    }
    return false;
  };
  let sum = 0;
  for (const [pid, t] of ticks) if (inTree(pid)) sum += t;
  return sum;
}

/** Cores this process and its children kept busy over `windowMs` (0.0 idle, ~1.0 one spinning thread). */
export async function coresBusy(windowMs = 1500): Promise<number> {
  const before = cpuTicksOfTree(Deno.pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const used = (cpuTicksOfTree(Deno.pid) - before) / TICKS_PER_SECOND;
  return Math.max(0, used / ((performance.now() - t0) / 1000));
}
