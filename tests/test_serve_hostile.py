"""`papersift serve` serves the site and nothing else: requests must name this server
as their Host (a DNS-rebound page names its own), only regular files inside the site
folder are served (no link out of it, no folder listing), and a busy store answers 503
at once with one line."""

from __future__ import annotations

import sqlite3
import time

import httpx

from conftest import serving
from papersift.serve import make_server
from papersift.store import Store
from test_site import build_archive


def served_archive(tmp_path):
    build_archive(tmp_path)
    store = tmp_path / "papersift.sqlite"
    Store(store).close()
    return make_server(tmp_path / "site", store, port=0), store


def test_a_page_that_names_another_host_gets_nothing(tmp_path):
    server, _ = served_archive(tmp_path)
    with serving(server) as url:
        port = server.server_address[1]
        rebound = {"Host": f"attacker.example:{port}"}
        assert httpx.get(url + "index.html", headers=rebound).status_code == 421
        listed = httpx.get(url + "api/feedback", headers=rebound)
        assert listed.status_code == 421 and "labels" not in listed.text
        clicked = httpx.post(url + "api/feedback", json={"arxiv_id": "2604.16301",
                                                        "like": True},
                             headers={**rebound, "Origin": f"http://attacker.example:{port}"})
        assert clicked.status_code == 421
        assert httpx.get(url + "api/feedback").json() == {"labels": {}}
        for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            assert httpx.get(url + "index.html", headers={"Host": host}).status_code == 200


def test_only_the_sites_own_files_are_served(tmp_path):
    server, _ = served_archive(tmp_path)
    site = tmp_path / "site"
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "notes.html").write_text("private notes")
    (site / "notes.html").symlink_to(outside / "notes.html")
    (site / "private").symlink_to(outside, target_is_directory=True)
    with serving(server) as url:
        for path in ("notes.html", "private/notes.html", "private/", "assets/",
                     "../papersift.sqlite", "%2e%2e/papersift.sqlite", "2026-04/../../json/"):
            answer = httpx.get(url + path)
            assert answer.status_code == 404, path
            assert "private notes" not in answer.text and "Directory listing" not in answer.text
        assert httpx.get(url + "2026-04/").status_code == 200  # the month's index.html
        assert httpx.get(url + "2026-04/2026-04-13.html").status_code == 200


def test_a_busy_store_answers_503_at_once_with_one_line(tmp_path, capfd):
    server, store = served_archive(tmp_path)
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a run writing the store
    try:
        with serving(server) as url:
            started = time.monotonic()
            answer = httpx.post(url + "api/feedback", json={"arxiv_id": "2604.16301",
                                                          "like": True}, timeout=60)
            assert time.monotonic() - started < 20
            assert answer.status_code == 503 and "busy" in answer.json()["error"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "Traceback" not in capfd.readouterr().err
