"""Loopback ports for the processes the tests start: a free one, or one held busy."""

import contextlib
import socket
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def occupied_port() -> Iterator[int]:
    """A loopback port held open (listening) for the block: what a busy port looks like."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]
