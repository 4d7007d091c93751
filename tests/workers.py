"""Killing a Dask worker from a test: the task that should die writes its process id to a
file and waits; a thread kills that process as soon as the file appears."""

import os
import signal
import threading
import time


def kill_on_mark(pid_file, timeout: float = 60.0):
    """Start a thread that SIGKILLs the process whose id appears in ``pid_file``.

    Returns ``(thread, killed)``: join the thread, then ``killed["pid"]`` is the process
    that was killed (missing if the file never appeared within ``timeout`` seconds).
    """
    killed = {}

    def run():
        deadline = time.monotonic() + timeout
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not pid_file.exists():
            return
        time.sleep(0.2)
        killed["pid"] = int(pid_file.read_text())
        os.kill(killed["pid"], signal.SIGKILL)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, killed
