#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""notify-listen SOCKET OUT: play systemd's side of sd_notify(3).

Binds a Unix datagram socket at SOCKET and appends every message received
to OUT as "<monotonic ms> <message with newlines as |>", until SIGTERM.
The integration tests point NOTIFY_SOCKET at it.
"""
import os
import signal
import socket
import sys
import time


def main():
    path, out = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(out, "a", buffering=1) as f:
        print("listening", flush=True)
        while True:
            data = sock.recv(65536)
            now = int(time.monotonic() * 1000)
            f.write("%d %s\n" % (now, data.decode(errors="replace").strip().replace("\n", "|")))


if __name__ == "__main__":
    main()
