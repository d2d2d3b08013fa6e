"""The embedded default's outbox relay on its own (``workers.relay.start_in_process_relay``),
for tests that kill it: builds the app from the environment, drains, and keeps on
draining until it is stopped."""

from __future__ import annotations

import signal
import threading

from academy import create_app
from workers.relay import start_in_process_relay


def main() -> None:
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    relay = start_in_process_relay(create_app())
    print("relay started", flush=True)
    stopped.wait()
    relay.stop()


if __name__ == "__main__":
    main()
