"""A reference folder is read, never trusted (a hostile checkout: links out of it, a
dangling link where papersift writes, an output path outside --to, days from the
future, duplicates, values no JSON has): only regular files inside it are read, nothing
is written outside the target or through a link, what is passed over is named, and an
import is all or nothing."""

from __future__ import annotations

import json
import os

from typer.testing import CliRunner

from papersift.cli import app
from test_import import CONFIG_INI, reference_folder


def run_import(source, target, *extra):
    return CliRunner().invoke(app, ["import", str(source), "--to", str(target), *extra])


def test_links_out_of_the_folder_are_never_followed(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://ada:pw-9f8e7d6c@db.example/x")
    source, target, outside = tmp_path / "ref", tmp_path / "mine", tmp_path / "outside"
    reference_folder(source)
    outside.mkdir()
    (outside / "secret.txt").write_text("the secret plans\n")
    topics = source / "prompts" / "paper_topics.txt"
    topics.unlink()
    topics.symlink_to("/proc/self/environ")
    (source / "configs" / "paper_topics.txt").symlink_to(outside / "secret.txt")
    (source / "configs" / "authors.txt").unlink()
    (source / "configs" / "authors.txt").symlink_to(outside / "secret.txt")
    result = run_import(source, target)
    assert result.exit_code == 2, result.output
    assert "no paper_topics.txt" in result.output and "symbolic link" in result.output
    assert not target.exists() or not any(target.iterdir())

    topics.unlink()
    topics.write_text("1. Sparse attention.\n")
    stolen = json.loads((source / "out" / "json" / "2026-04" /
                         "2026-04-13-output.json").read_text())
    (outside / "2026-04-12-output.json").write_text(json.dumps(stolen))
    (source / "out" / "json" / "2026-04" / "2026-04-12-output.json").symlink_to(
        outside / "2026-04-12-output.json")
    (source / "out" / "json" / "elsewhere").symlink_to(outside, target_is_directory=True)
    result = run_import(source, target)
    assert result.exit_code == 0, result.output
    written = "".join(p.read_text(errors="replace") for p in target.rglob("*")
                      if p.is_file() and p.suffix in (".md", ".toml", ".json", ".html"))
    assert "pw-9f8e7d6c" not in written and "the secret plans" not in written
    assert "Sparse attention" in (target / "interests.md").read_text()
    assert not (target / "out" / "json" / "2026-04" / "2026-04-12.json").exists()
    assert "2026-04-12-output.json" in result.output and "elsewhere" in result.output


def test_nothing_is_written_through_a_link_or_outside_the_target(tmp_path):
    source, target, home = tmp_path / "ref", tmp_path / "mine", tmp_path / "home"
    reference_folder(source)
    target.mkdir()
    (home / ".ssh").mkdir(parents=True)
    (target / "interests.md").symlink_to(home / ".ssh" / "authorized_keys")  # dangling
    result = run_import(source, target)
    assert result.exit_code == 2 and "symbolic link" in result.output, result.output
    assert not (home / ".ssh" / "authorized_keys").exists()
    assert not (target / "papersift.toml").exists()  # all or nothing

    (target / "interests.md").unlink()
    (target / "prompts").symlink_to(home, target_is_directory=True)
    result = run_import(source, target)
    assert result.exit_code == 2, result.output
    assert not (home / "rubric.md").exists() and not (target / "papersift.toml").exists()


def test_the_references_output_path_stays_under_the_target(tmp_path):
    source, target, victim = tmp_path / "ref", tmp_path / "mine", tmp_path / "victim"
    reference_folder(source)
    victim.mkdir()
    (victim / "latest.md").write_text("my own notes\n")
    for path in (str(victim), "../victim"):
        ini = CONFIG_INI.replace("output_path = out/", f"output_path = {path}")
        (source / "configs" / "config.ini").write_text(ini)
        result = run_import(source, target / path.strip("./").replace("/", "_"))
        assert result.exit_code == 0, result.output
        assert "output_path" in result.output and "outside" in result.output
    assert (victim / "latest.md").read_text() == "my own notes\n"
    assert sorted(p.name for p in victim.iterdir()) == ["latest.md"]


def test_future_duplicate_and_bad_days_are_named_and_the_rest_imported(tmp_path):
    source, target = tmp_path / "ref", tmp_path / "mine"
    reference_folder(source)
    month = source / "out" / "json" / "2026-04"
    (source / "out" / "json" / "9999-12").mkdir()
    (source / "out" / "json" / "9999-12" / "9999-12-31-output.json").write_text(
        (month / "2026-04-13-output.json").read_text())
    (source / "out" / "json" / "copy").mkdir()
    (source / "out" / "json" / "copy" / "2026-04-13-output.json").write_text(
        (month / "2026-04-13-output.json").read_text())
    (month / "2026-04-15-output.json").write_text('{"x": {"RELEVANCE": Infinity}}')
    (month / "2026-04-16-output.json").write_text("[" * 100_000)
    ini = CONFIG_INI.replace("[HOTSPOTS]", "[HOTSPOTS]\nnote = 100%(done)s")
    (source / "configs" / "config.ini").write_text(ini)
    result = run_import(source, target)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "archive: 2 days" in said
    for name in ("9999-12-31-output.json", "2026-04-15-output.json",
                 "2026-04-16-output.json", "copy/2026-04-13-output.json"):
        assert name in said, name
    assert not (target / "out" / "latest.md").read_text().count("9999")
    assert sorted(p.name for p in (target / "out" / "json").rglob("????-??-??.json")) == [
        "2026-04-13.json", "2026-04-14.json"]


def test_a_failed_import_leaves_nothing_behind(tmp_path):
    source, target = tmp_path / "ref", tmp_path / "mine"
    reference_folder(source)
    target.mkdir()
    (target / "out").write_text("a file where the outputs go\n")  # the import fails late
    ini = CONFIG_INI.replace("output_path = out/", "output_path = out/inner")
    (source / "configs" / "config.ini").write_text(ini)
    result = run_import(source, target)
    assert result.exit_code != 0
    assert sorted(os.listdir(target)) == ["out"]
    result = run_import(source, tmp_path / "retry")
    assert result.exit_code == 0, result.output


def test_a_hard_link_to_a_file_elsewhere_is_not_read(tmp_path):
    source, target, home = tmp_path / "ref", tmp_path / "mine", tmp_path / "home"
    reference_folder(source)
    home.mkdir()
    (home / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY----- abc\n")
    topics = source / "prompts" / "paper_topics.txt"
    topics.unlink()
    os.link(home / "id_rsa", topics)
    result = run_import(source, target)
    assert result.exit_code == 2 and "hard link" in result.output, result.output
    assert not target.exists() or "PRIVATE KEY" not in "".join(
        p.read_text() for p in target.rglob("*") if p.is_file())
