#!/usr/bin/python3
"""Holds one TCP connection to an echo server and uses it until a stop file appears.

  tcp_hold.py HOST PORT INTERVAL_S STOPFILE

Sends a numbered line every INTERVAL_S and reads its echo back. Prints one line at the end:
  held=1 lines=N max_gap_ms=G      the same connection carried every line, in order
  held=0 lines=N error=...         it broke (reset, closed, a wrong echo, or 30 s silent)
max_gap_ms is the longest time between two echoes: how long the connection stalled.
"""
import os
import socket
import sys
import time

host, port, interval, stop = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
sock = socket.create_connection((host, port), timeout=5)
sock.settimeout(30)
reader = sock.makefile("rb")
lines, last, max_gap, error = 0, time.monotonic(), 0.0, None
try:
    while not os.path.exists(stop):
        want = b"k6t-%d\n" % lines
        sock.sendall(want)
        got = reader.readline()
        if got != want:
            error = "echo %r for %r" % (got, want)
            break
        now = time.monotonic()
        max_gap = max(max_gap, now - last)
        last = now
        lines += 1
        time.sleep(interval)
except OSError as e:
    error = "%s: %s" % (type(e).__name__, e)
if error:
    print("held=0 lines=%d error=%s" % (lines, error), flush=True)
    sys.exit(1)
print("held=1 lines=%d max_gap_ms=%d" % (lines, max_gap * 1000), flush=True)
