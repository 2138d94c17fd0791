"""``papersift serve``: the archive site on 127.0.0.1, where a click on Like or Dislike
goes straight into the store (the next run learns from it).

Only the loopback interface is served. ``POST /api/feedback`` takes one verdict as JSON
(on a site of several readers, ``POST /NAME/api/feedback``: the reader whose pages
they are);
a request from another site's page is refused: it must say ``application/json`` (which a
cross-site form cannot, and a cross-site script only after a preflight this server never
allows) and, when the browser names its origin, come from this server's own pages.
``GET /api/feedback`` lists the stored verdicts, so the pages show them.

It serves the site and nothing else: a request must name this server as its Host
(``127.0.0.1`` or ``localhost`` with its port: a page of another site that a DNS trick
points here names its own), only regular files inside the site folder are served (no
link out of it, no folder listing), and a store that a run holds answers 503 at once.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
from dataclasses import replace
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from papersift import DEFAULT_PROFILE
from papersift.errors import PapersiftError
from papersift.feedback import record, verdict_from
from papersift.folders import why_not_readable
from papersift.store import Store
from papersift.text import load_json

log = logging.getLogger(__name__)
FEEDBACK_PATH = "/api/feedback"
LIVE_SCRIPT = "/assets/live.js"  # the built site's says false; served, it says true
MAX_BODY = 4096
STORE_WAIT_SECONDS = 5.0  # a click waits this long for a run to let go of the store


def make_server(site_dir: Path, store_path: Path, port: int = 8000,
                readers: tuple[str, ...] = ()) -> ThreadingHTTPServer:
    """A server of ``site_dir`` on 127.0.0.1:``port`` (0: any free port) writing verdicts
    into the store at ``store_path`` (``readers``: the profiles whose sites are
    ``site_dir/NAME``, each click the reader's of its page); call ``serve_forever()``."""
    handler = functools.partial(_Handler, store_path, readers, directory=str(site_dir))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, store_path: Path, readers: tuple[str, ...], *args: Any,
                 **kwargs: Any):
        self.store_path, self.readers = store_path, readers
        super().__init__(*args, **kwargs)

    def _reader_at(self, endpoint: str) -> str | None:
        """The reader whose ``endpoint`` (``FEEDBACK_PATH``, ``LIVE_SCRIPT``) the request
        names, or None when it names none."""
        path = self.path.split("?", 1)[0]
        if not self.readers:
            return DEFAULT_PROFILE if path == endpoint else None
        return next((r for r in self.readers if path == f"/{r}{endpoint}"), None)

    def _own_host(self) -> bool:
        """The request names this server (not a rebound name of another site)."""
        port = self.server.server_address[1]
        host = self.headers.get("Host", "")
        if host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            return True
        self._json(HTTPStatus.MISDIRECTED_REQUEST,
                   {"error": f"this server answers to 127.0.0.1:{port} only"})
        return False

    def do_HEAD(self) -> None:
        if self._own_host():
            super().do_HEAD()

    def do_GET(self) -> None:
        if not self._own_host():
            return
        if self._reader_at(LIVE_SCRIPT) is not None:  # the pages' "served live" flag
            self._send(HTTPStatus.OK, b"window.PAPERSIFT_LIVE = true;\n", "text/javascript")
            return
        reader = self._reader_at(FEEDBACK_PATH)
        if reader is not None:
            self._with_store(reader, lambda store: self._json(
                HTTPStatus.OK, {"labels": store.feedback_labels()}))
            return
        super().do_GET()

    def send_head(self) -> Any:
        """Only a regular file inside the site folder (a folder's ``index.html``)."""
        path = self.translate_path(self.path)
        if os.path.isdir(path) and not os.path.islink(path):
            if not self.path.split("?", 1)[0].endswith("/"):
                return super().send_head()  # the redirect to "folder/"
            path = os.path.join(path, "index.html")
        if why_not_readable(Path(self.directory), Path(path)) is not None:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path: Any) -> None:
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    def do_POST(self) -> None:
        if not self._own_host():
            return
        reader = self._reader_at(FEEDBACK_PATH)
        if reader is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": "no such endpoint"})
            return
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"http://{self.headers.get('Host', '')}":
            self._json(HTTPStatus.FORBIDDEN, {"error": "a page of another site"})
            return
        if self.headers.get_content_type() != "application/json":
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send application/json"})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            self._json(HTTPStatus.BAD_REQUEST, {"error": f"a body of 1 to {MAX_BODY} bytes"})
            return
        try:
            # the reader of the page clicked on, whatever the body says
            verdict = replace(verdict_from(load_json(self.rfile.read(length))), profile=None)
        except ValueError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return

        def store_it(store: Store) -> None:
            record(store, [verdict])
            log.info("%s: %s", verdict.arxiv_id, "liked" if verdict.like else "disliked")
            self._json(HTTPStatus.OK, {"arxiv_id": verdict.arxiv_id, "like": verdict.like})

        self._with_store(reader, store_it)

    def _with_store(self, reader: str, use: Any) -> None:
        """``use(store)``, as ``reader``'s; a store that is busy (a run writing it) or
        broken: one line, 503, and the page says the click was not kept."""
        try:
            with Store(self.store_path, busy_timeout=STORE_WAIT_SECONDS,
                       profile=reader) as store:
                use(store)
        except (PapersiftError, sqlite3.Error) as exc:
            reason = " ".join(str(exc).split())
            log.warning("%s: %s", self.path.split("?", 1)[0], reason)
            self._json(HTTPStatus.SERVICE_UNAVAILABLE,
                       {"error": f"the store is busy or unreadable ({reason}); try again"})

    def _json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)
