"""HTTP limits against hostile servers on 127.0.0.1: a drip-feeding server, huge and
compressed bodies, and Retry-After — every request ends, and ends with one clear line."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from papersift.http import HttpClient, HTTPFailure, RetryPolicy, request

NO_WAIT = RetryPolicy(attempts=2, backoff_seconds=0, max_backoff_seconds=5)


@contextmanager
def raw_server(behaviour: Callable[[socket.socket], None]) -> Iterator[str]:
    """A TCP server on 127.0.0.1 whose every connection is handled by ``behaviour``."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=_handle, args=(connection,), daemon=True).start()

    def _handle(connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                behaviour(connection)
            except OSError:
                pass  # the client hung up: that is the point

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed"
    finally:
        stop.set()
        thread.join()
        listener.close()


def drip_body(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\n")
    for _ in range(600):  # ten minutes at one byte a second
        connection.sendall(b"x")
        time.sleep(1)


def drip_headers(connection: socket.socket) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 600:
        connection.sendall(bytes([byte]))
        time.sleep(1)


@pytest.mark.parametrize("behaviour", [drip_body, drip_headers])
def test_a_server_dripping_bytes_cannot_hold_a_request(behaviour):
    with raw_server(behaviour) as url, HttpClient(timeout=1.5) as client:
        started = time.monotonic()
        with pytest.raises(HTTPFailure) as error:
            request(client, "GET", url, policy=NO_WAIT)
        elapsed = time.monotonic() - started
    assert str(error.value) == f"{url}: timed out after 2 attempts"
    assert elapsed < 60  # two attempts of 1.5 s each, not the ten minutes the server wants


def test_a_huge_body_is_cut_off_at_the_cap(httpserver: HTTPServer):
    def endless(_: Request) -> Response:
        chunk = b"z" * 2**20
        return Response((chunk for _ in range(3 * 1024)), content_type="text/plain")  # 3 GB

    httpserver.expect_request("/big").respond_with_handler(endless)
    with (HttpClient(timeout=30, max_bytes=4 * 2**20) as client,
          pytest.raises(HTTPFailure, match="answer larger than 4 MB")):
        request(client, "GET", httpserver.url_for("/big"), policy=NO_WAIT)


def test_a_compressed_bomb_is_measured_after_decompression(httpserver: HTTPServer):
    bomb = gzip.compress(b"\0" * (64 * 2**20))  # 64 MB of zeros in ~64 kB
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"})
    with (HttpClient(timeout=30, max_bytes=4 * 2**20) as client,
          pytest.raises(HTTPFailure, match="answer larger than 4 MB")):
        request(client, "GET", httpserver.url_for("/bomb"), policy=NO_WAIT)


def test_a_compressed_answer_within_the_cap_reads_normally(httpserver: HTTPServer):
    httpserver.expect_request("/small").respond_with_data(
        gzip.compress(b"hello " * 1000), headers={"Content-Encoding": "gzip"})
    with HttpClient(timeout=30) as client:
        response = request(client, "GET", httpserver.url_for("/small"), policy=NO_WAIT)
    assert response.text == "hello " * 1000


def test_retry_after_is_waited_for(httpserver: HTTPServer):
    seen: list[float] = []

    def busy_then_fine(_: Request) -> Response:
        seen.append(time.monotonic())
        if len(seen) == 1:
            return Response("busy", status=503, headers={"Retry-After": "1"})
        return Response("ok")

    httpserver.expect_request("/feed").respond_with_handler(busy_then_fine)
    with HttpClient(timeout=10) as client:
        response = request(client, "GET", httpserver.url_for("/feed"), policy=NO_WAIT)
    assert response.text == "ok"
    assert seen[1] - seen[0] >= 0.9  # the backoff alone would retry at once


def test_a_retry_after_longer_than_papersift_waits_fails_at_once(httpserver: HTTPServer):
    httpserver.expect_request("/feed").respond_with_data(
        "busy", status=429, headers={"Retry-After": "3600"})
    with HttpClient(timeout=10) as client, pytest.raises(HTTPFailure) as error:
        request(client, "GET", httpserver.url_for("/feed"),
                policy=RetryPolicy(attempts=4, backoff_seconds=0, max_backoff_seconds=60))
    assert "asks to wait 3600 s (Retry-After), more than the 60 s papersift waits" in \
        str(error.value)
    assert len(httpserver.log) == 1


def test_secret_headers_never_follow_a_redirect_to_another_origin():
    """A key or a secret header is for the origin it was configured for: a GET is
    followed elsewhere without them, a POST answered with a redirect is not delivered."""
    from conftest import own_server

    with own_server() as home, own_server() as elsewhere:
        seen: list[dict[str, str]] = []

        def record(request: Request) -> Response:
            seen.append(dict(request.headers))
            return Response("{}", content_type="application/json")

        elsewhere.expect_request("/landing").respond_with_handler(record)
        home.expect_request("/same").respond_with_handler(record)
        home.expect_request("/moved").respond_with_data(
            "", status=302, headers={"Location": elsewhere.url_for("/landing")})
        home.expect_request("/moved-here").respond_with_data(
            "", status=307, headers={"Location": home.url_for("/same")})
        secret = {"x-api-key": "s2-key-12345678", "X-Hook-Token": "hook-123456789"}
        with HttpClient(5, headers=secret) as client:
            assert request(client, "GET", home.url_for("/moved")).status_code == 200
            assert request(client, "GET", home.url_for("/moved-here")).status_code == 200
            with pytest.raises(HTTPFailure, match=r"redirect to http://127.*not delivered"):
                request(client, "POST", home.url_for("/moved"), json={"digest": 1})
        landing, same = seen
        assert not {k.lower() for k in secret} & {k.lower() for k in landing}
        assert same.get("X-Api-Key") == "s2-key-12345678"  # the same origin keeps it
        assert all(r.path != "/landing" or r.method == "GET"
                   for r, _ in elsewhere.log)
