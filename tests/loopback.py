"""A scripted HTTP server on 127.0.0.1 for the client tests (downloads, thumbnails).

Each test queues actions per last path segment (a file name or a model id): a queue
answers its actions in turn and then repeats its last one; a name with no queue gets
``default``. Every request path is recorded, so a test can count what reached the server.
"""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Script:
    """What the server answers, and what it was asked."""

    def __init__(self, default):
        self.actions = {}
        self.requests = []
        self.release = threading.Event()
        self.default = default
        self.url = ""

    def on(self, name, *actions):
        self.actions.setdefault(name, []).extend(actions)

    def count(self, name=None):
        """Requests for ``name`` (the last path segment), or all of them."""
        return sum(name is None or path.endswith("/" + name) for path in self.requests)


def hang(seconds):
    """An action that answers nothing for ``seconds`` (or until the test ends), then closes."""

    def act(handler):
        handler.server.script.release.wait(seconds)

    return act


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        script = self.server.script
        script.requests.append(self.path)
        queue = script.actions.get(self.path.rsplit("/", 1)[-1], [])
        action = queue.pop(0) if len(queue) > 1 else (queue[0] if queue else script.default)
        action(self)

    def log_message(self, *args):
        pass


@contextmanager
def loopback_server(prefix: str, default):
    """Serve on a free port of 127.0.0.1; yields the :class:`Script`, its ``url`` ending in ``prefix``."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.script = Script(default)
    httpd.script.url = f"http://127.0.0.1:{httpd.server_port}{prefix}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd.script
    finally:
        httpd.script.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
