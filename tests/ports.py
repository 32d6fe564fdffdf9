"""Loopback ports: for a server a test starts, or an address where nothing answers."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nothing listens on once this returns (the system's choice of a free one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
