/**
 * What the helper benchmark reads from /proc: a process's CPU time and peak RSS, the drop
 * counters of the network namespace's raw sockets, a process's socket receive buffers. The parsers are pure (tested on saved text in
 * helpers-report.test.ts); the readers below them touch /proc.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** The fields of /proc/PID/stat after the command name (field 3, state, first). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** utime + stime of /proc/PID/stat, in clock ticks. */
export function cpuTicksOf(stat: string): number {
  const f = statFields(stat);
  // utime and stime are fields 14 and 15 of the file; f[0] is field 3.
  return Number(f[11]) + Number(f[12]);
}

/** The parent process id of /proc/PID/stat (field 4). */
export function parentPidOf(stat: string): number {
  return Number(statFields(stat)[1]);
}

/** The command name of /proc/PID/stat (field 2, between the parentheses). */
export function commandOf(stat: string): string {
  return stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
}

/** VmHWM (peak resident set) of /proc/PID/status, in kB; 0 when absent. */
export function peakRssKbOf(status: string): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) : 0;
}

/** One raw socket's drop counter: datagrams the kernel dropped because its receive buffer was full. */
export interface SocketDrops {
  family: 4 | 6;
  /** The socket's protocol (1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6, 255 raw IP). */
  protocol: number;
  drops: number;
}

/**
 * The drop counters of every raw socket in /proc/net/raw (family 4) or raw6 (family 6) text: per
 * socket, its protocol (the "port" of its local address) and the last column, `drops`.
 */
export function rawSocketDrops(netRaw: string, family: 4 | 6): SocketDrops[] {
  const sockets: SocketDrops[] = [];
  for (const line of netRaw.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 13) continue;
    const protocol = Number.parseInt((cols[1] as string).split(":")[1] ?? "", 16);
    sockets.push({ family, protocol, drops: Number(cols[12]) });
  }
  return sockets;
}

/** One raw socket's receive buffer (SO_RCVBUF as getsockopt reads it: twice what was asked). */
export interface SocketBuffer {
  family: 4 | 6;
  protocol: number;
  bytes: number;
}

/**
 * Reads "FAMILY PROTOCOL RCVBUF" lines (what `RCVBUF_SCRIPT` prints, one per socket; family as
 * the socket module numbers it, 2 or 10).
 */
export function parseSocketBuffers(text: string): SocketBuffer[] {
  const buffers: SocketBuffer[] = [];
  for (const line of text.split("\n")) {
    const m = /^(2|10) (\d+) (\d+)$/.exec(line.trim());
    if (m) buffers.push({ family: m[1] === "2" ? 4 : 6, protocol: Number(m[2]), bytes: Number(m[3]) });
  }
  return buffers;
}

/** What the benchmark reports about one process. */
export interface ProcessReading {
  pid: number;
  command: string;
  cpuTicks: number;
  peakRssKb: number;
}

/** Reads a live process's CPU ticks and peak RSS (any user's: stat and status are world-readable). */
export function readProcess(pid: number): ProcessReading {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return {
    pid,
    command: commandOf(stat),
    cpuTicks: cpuTicksOf(stat),
    peakRssKb: peakRssKbOf(readFileSync(`/proc/${pid}/status`, "utf8")),
  };
}

/**
 * The drop counters of every raw socket in this process's network namespace. The benchmark runs
 * in a lab node where only the helpers hold raw sockets, so these are theirs; it reads them so
 * as any user (a capability-raised helper's fds are not readable by its own user).
 */
export function namespaceRawDrops(): SocketDrops[] {
  return [
    ...rawSocketDrops(readFileSync("/proc/self/net/raw", "utf8"), 4),
    ...rawSocketDrops(readFileSync("/proc/self/net/raw6", "utf8"), 6),
  ];
}

/** Ids of the live children of `parent` (every /proc/PID/stat naming it as parent). */
export function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (parentPidOf(readFileSync(`/proc/${name}/stat`, "utf8")) === parent) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** This process's CPU ticks (every thread) so far. */
export function selfCpuTicks(): number {
  return cpuTicksOf(readFileSync("/proc/self/stat", "utf8"));
}

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux). */
export function clockTicksPerSecond(): number {
  return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
}

/**
 * Prints "FAMILY PROTOCOL RCVBUF" for every socket of process argv[1]: takes a copy of each fd
 * with pidfd_getfd (syscall 438; needs ptrace access, i.e. root) and asks getsockopt. Neither
 * ss nor /proc shows a raw socket's receive buffer.
 */
const RCVBUF_SCRIPT = `
import ctypes, os, socket, sys
pid = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
pidfd = os.pidfd_open(pid)
for name in os.listdir(f"/proc/{pid}/fd"):
    try:
        if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
            continue
    except OSError:
        continue
    fd = libc.syscall(438, pidfd, int(name), 0)
    if fd < 0:
        continue
    s = socket.socket(fileno=fd)
    print(int(s.family), s.proto, s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    s.close()
`;

/** The receive buffers of `pid`'s sockets, or null when they cannot be read (not root, no python3). */
export function readSocketBuffers(pid: number): SocketBuffer[] | null {
  try {
    return parseSocketBuffers(
      execFileSync("python3", ["-c", RCVBUF_SCRIPT, String(pid)], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }),
    );
  } catch {
    return null;
  }
}
