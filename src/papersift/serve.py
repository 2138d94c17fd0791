"""``papersift serve``: the archive site on 127.0.0.1, where a click on Like or Dislike
goes straight into the store (the next run learns from it).

Only the loopback interface is served. ``POST /api/feedback`` takes one verdict as JSON;
a request from another site's page is refused: it must say ``application/json`` (which a
cross-site form cannot, and a cross-site script only after a preflight this server never
allows) and, when the browser names its origin, come from this server's own pages.
``GET /api/feedback`` lists the stored verdicts, so the pages show them.
"""

from __future__ import annotations

import functools
import json
import logging
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from papersift.feedback import record, verdict_from
from papersift.store import Store

log = logging.getLogger(__name__)
FEEDBACK_PATH = "/api/feedback"
LIVE_SCRIPT = "/assets/live.js"  # the built site's says false; served, it says true
MAX_BODY = 4096


def make_server(site_dir: Path, store_path: Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server of ``site_dir`` on 127.0.0.1:``port`` (0: any free port) writing verdicts
    into the store at ``store_path``; call ``serve_forever()``."""
    handler = functools.partial(_Handler, store_path, directory=str(site_dir))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, store_path: Path, *args: Any, **kwargs: Any):
        self.store_path = store_path
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == LIVE_SCRIPT:  # the pages' "served live" flag
            self._send(HTTPStatus.OK, b"window.PAPERSIFT_LIVE = true;\n", "text/javascript")
            return
        if self.path.split("?", 1)[0] == FEEDBACK_PATH:
            with Store(self.store_path) as store:
                self._json(HTTPStatus.OK, {"labels": store.feedback_labels()})
            return
        super().do_GET()

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != FEEDBACK_PATH:
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
            verdict = verdict_from(json.loads(self.rfile.read(length)))
        except (ValueError, RecursionError) as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        with Store(self.store_path) as store:
            record(store, [verdict])
        log.info("%s: %s", verdict.arxiv_id, "liked" if verdict.like else "disliked")
        self._json(HTTPStatus.OK, {"arxiv_id": verdict.arxiv_id, "like": verdict.like})

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
