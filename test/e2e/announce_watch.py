#!/usr/bin/env python3
"""Prints every announce seen on IFACE until STOPFILE exists: "rarp from MAC" (QEMU's own
self-announce) and "garp from MAC IP" (a gratuitous ARP: sender IP == target IP, what a
guest whose virtio-net driver takes VIRTIO_NET_F_GUEST_ANNOUNCE sends when QEMU asks after a
migration). Root (a packet socket); run it in IFACE's netns."""
import os, socket, struct, sys

iface, stopfile = sys.argv[1], sys.argv[2]
ETH_P_ALL, ETH_P_ARP, ETH_P_RARP = 0x0003, 0x0806, 0x8035
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.bind((iface, 0))
s.settimeout(0.1)
print("listening", flush=True)
mac = lambda b: ":".join(f"{x:02x}" for x in b)
while not os.path.exists(stopfile):
    try:
        frame = s.recv(2048)
    except socket.timeout:
        continue
    if len(frame) < 42:
        continue
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype == ETH_P_RARP:
        print("rarp from " + mac(frame[6:12]), flush=True)
    elif ethertype == ETH_P_ARP:
        spa, tpa = frame[28:32], frame[38:42]
        if spa == tpa:
            print(f"garp from {mac(frame[22:28])} {socket.inet_ntoa(spa)}", flush=True)
