#!/usr/bin/env python3
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
