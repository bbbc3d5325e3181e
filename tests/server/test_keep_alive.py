"""Idle keep-alive connections stay open long enough for client pools to reuse them."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit


def _get_ok(sock: socket.socket, host: str) -> bytes:
    sock.sendall(f"GET /ok HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    data = b""
    while b'{"ok":true' not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data  # the server closed the connection
        data += chunk
    return data


def test_connection_idle_for_six_seconds_is_still_usable(graphdock_server):
    url = urlsplit(graphdock_server)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        assert b"200 OK" in _get_ok(sock, url.netloc)
        time.sleep(6)  # longer than uvicorn's default keep-alive of 5 s
        assert b"200 OK" in _get_ok(sock, url.netloc)
