"""The configuration file: starter file valid, and one clear line per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from papersift.cli import app
from papersift.config import EmailConfig, Secrets, SlackConfig, WebhookConfig, load_config
from papersift.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "papersift.toml"
    path.write_text(text)
    return path


def test_init_writes_a_valid_config_and_refuses_to_overwrite(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    config = load_config(tmp_path / "papersift.toml")
    assert config.arxiv.categories == ["cs.LG", "cs.AI"]
    assert config.selection.relevance_cutoff == 8
    assert config.store_path == tmp_path / "out" / "papersift.sqlite"
    assert "Topics" in (tmp_path / "interests.md").read_text()
    before = (tmp_path / "papersift.toml").read_text()
    again = runner.invoke(app, ["init", str(tmp_path)])
    assert again.exit_code == 1
    assert "already exist" in again.output
    assert (tmp_path / "papersift.toml").read_text() == before


def test_every_starter_key_is_documented_by_a_comment(tmp_path):
    CliRunner().invoke(app, ["init", str(tmp_path)])
    text = (tmp_path / "papersift.toml").read_text()
    config = load_config(tmp_path / "papersift.toml")
    for section in ("arxiv", "authors", "llm", "prompts", "selection", "output", "notify"):
        for key in type(getattr(config, section)).model_fields:
            assert f"{key} =" in text or f"[{section}.{key}]" in text, \
                f"[{section}] {key} is missing from the starter file"
    for channel in (EmailConfig, SlackConfig, WebhookConfig):
        for key in channel.model_fields:
            assert f"# {key} =" in text, f"{channel.__name__}.{key} is missing"


@pytest.mark.parametrize("text, message", [
    ('[llm]\ntitle_batch_size = "abc"\n',
     "llm.title_batch_size = 'abc': Input should be a valid integer"),
    ("[selection]\nrelevance_cutoff = 11\n",
     "selection.relevance_cutoff = 11: Input should be less than or equal to 10"),
    ('[arxiv]\nannounce_types = ["new", "fresh"]\n',
     "arxiv.announce_types.1 = 'fresh': Input should be 'new', 'cross', 'replace' or"),
    ('[arxiv]\ncategories = ["machine learning"]\n',
     "arxiv.categories = ['machine learning']: 'machine learning' is not an"),
    ('[llm]\nmodle = "gpt-5"\n', "llm.modle: unknown key (known here: model, base_url"),
    ("[colours]\nx = 1\n", "colours: unknown key"),
    ("[llm\n", "not valid TOML"),
])
def test_bad_values_name_file_key_and_value(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_file_suggests_init(tmp_path):
    with pytest.raises(ConfigError, match="run `papersift init`"):
        load_config(tmp_path / "nope.toml")


def test_cli_reports_config_errors_in_one_line(tmp_path):
    path = write(tmp_path, "[selection]\nnovelty_cutoff = 0\n")
    result = CliRunner().invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "selection.novelty_cutoff = 0" in lines[0]


def test_secrets_come_from_the_environment_only(tmp_path):
    path = write(tmp_path, '[llm]\napi_key = "sk-in-file"\n')
    with pytest.raises(ConfigError, match=r"llm\.api_key: unknown key"):
        load_config(path)
    secrets = Secrets.from_env({"OPENAI_API_KEY": "sk-1", "S2_API_KEY": "s2"})
    assert secrets.values() == ["sk-1", "s2"]


def test_a_config_nested_a_hundred_thousand_deep_is_a_config_error(tmp_path):
    path = write(tmp_path, "x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ConfigError, match="not valid TOML: nested too deeply"):
        load_config(path)
