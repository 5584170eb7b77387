import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REGISTRY_DIR } from "./registry";

/**
 * Python helpers the lab runs inside namespaces. They live here as text (not as files next to
 * the sources) so they survive bundling; helperPath() writes them under /run/lg-netlab/bin.
 */

/** A delay line between two namespaces: a TUN device in each, packets copied after a delay. */
const WIRE_PY = `#!/usr/bin/env python3
"""A delay line between two network namespaces (the kernel here has no netem).

Opens a TUN device in each namespace and copies every packet to the other side after a
fixed one-way delay. Prints "ready" once both devices exist; exits on SIGTERM.

usage: wire.py DELAY_MS NS_A IFNAME_A NS_B IFNAME_B
"""
import ctypes
import fcntl
import heapq
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if hasattr(os, "setns"):
            os.setns(fd, CLONE_NEWNET)
        else:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.setns(fd, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, os.strerror(err), path)
    finally:
        os.close(fd)


def open_tun(namespace, name):
    # The device is created in the namespace the process is in at TUNSETIFF time.
    setns("/run/netns/" + namespace)
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def main():
    delay = float(sys.argv[1]) / 1000.0
    fd_a = open_tun(sys.argv[2], sys.argv[3])
    fd_b = open_tun(sys.argv[4], sys.argv[5])
    other = {fd_a: fd_b, fd_b: fd_a}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    pending = []  # (due time, sequence, destination fd, packet)
    seq = 0
    while True:
        timeout = None
        if pending:
            timeout = max(0.0, pending[0][0] - time.monotonic())
        readable, _, _ = select.select([fd_a, fd_b], [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                seq += 1
                heapq.heappush(pending, (now + delay, seq, other[fd], packet))
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, fd, packet = heapq.heappop(pending)
            try:
                os.write(fd, packet)
            except OSError:
                pass  # the device is down or its queue is full: the packet is lost, as on a wire


if __name__ == "__main__":
    main()
`;

/** A TCP listener on a port (IPv4 and IPv6) that accepts and closes connections. */
const TCP_LISTEN_PY = `#!/usr/bin/env python3
"""Accepts TCP connections on a port (IPv4 and IPv6) and closes them at once.

The kernel answers SYNs of a listening socket, which is all a TCP trace needs; accepting
keeps the backlog from filling. usage: tcp-listen.py PORT
"""
import socket
import sys

port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
sock.bind(("::", port))
sock.listen(128)
print("listening", flush=True)
while True:
    conn, _ = sock.accept()
    conn.close()
`;

const HELPERS = { "wire.py": WIRE_PY, "tcp-listen.py": TCP_LISTEN_PY } as const;

export type HelperName = keyof typeof HELPERS;

/** Path of a helper script, written (or refreshed) on first use. */
export function helperPath(name: HelperName): string {
  const dir = join(REGISTRY_DIR, "bin");
  const path = join(dir, name);
  let current = "";
  try {
    current = readFileSync(path, "utf8");
  } catch {}
  if (current !== HELPERS[name]) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, HELPERS[name], { mode: 0o755 });
    renameSync(tmp, path);
  }
  return path;
}
