#!/usr/bin/env python3
"""Pings HOST every INTERVAL seconds until STOPFILE exists; prints the replies received,
the sent count and the longest time between two consecutive replies (ms). Root (raw ICMP)."""
import os, socket, struct, sys, time

host, interval, stopfile = sys.argv[1], float(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setblocking(False)
ident = os.getpid() & 0xFFFF


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    c = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    c = (c >> 16) + (c & 0xFFFF)
    c += c >> 16
    return ~c & 0xFFFF


sent = received = 0
last_reply = first_reply = None
max_gap = 0.0
seq = 0
next_send = time.monotonic()
while not os.path.exists(stopfile):
    now = time.monotonic()
    if now >= next_send:
        seq = (seq + 1) & 0xFFFF
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + b"k6t"), ident, seq) + b"k6t"
        try:
            s.sendto(pkt, (host, 0))
        except OSError:
            pass
        sent += 1
        next_send += interval
    try:
        while True:
            data = s.recv(2048)
            icmp = data[(data[0] & 0x0F) * 4:]
            typ, _, _, rid, _ = struct.unpack("!BBHHH", icmp[:8])
            if typ == 0 and rid == ident:
                t = time.monotonic()
                if last_reply is not None:
                    max_gap = max(max_gap, t - last_reply)
                else:
                    first_reply = t
                last_reply = t
                received += 1
    except BlockingIOError:
        pass
    time.sleep(0.001)
if last_reply is not None:
    max_gap = max(max_gap, time.monotonic() - last_reply)
print(f"sent={sent} received={received} max_gap_ms={max_gap * 1000:.0f}")
