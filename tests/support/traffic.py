"""Requests that keep flowing in the background while a test checks what they cause."""

import threading

import httpx


def background_traffic(urls: list[str], stop: threading.Event, deadline: float = 240) -> None:
    """GET each URL in turn, about 20 rounds a second, until `stop` is set (or the deadline):
    start it in a thread for traffic that keeps flowing while a test checks."""
    rounds = int(deadline / 0.05)
    with httpx.Client(timeout=5) as client:
        for _ in range(rounds):
            for url in urls:
                client.get(url)
            if stop.wait(0.05):
                return
