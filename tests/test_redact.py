"""The one redaction step: known secrets and credential-shaped strings, nothing else."""

from __future__ import annotations

import dataclasses

from papersift.redact import Redactor

ENVIRONMENT = {
    "OPENAI_API_KEY": "sk-live-0123456789abcdefXYZ",
    "GITHUB_TOKEN": "a-github-token-value-1234",
    "SMTP_PASSWORD": "correct horse battery staple",
    "SLACK_WEBHOOK_URL": "https://hooks.example.com/T0/B0/abcdefgh",
    "PAPERSIFT_KEYWORDS": "quantization",  # a KEY in the name is not a key
    "PWD": "/home/reader/papers",
    "SHORT_TOKEN": "abc",  # too short to mask without masking ordinary words
}


def test_secret_named_variables_are_masked_wherever_they_appear():
    redact = Redactor.from_environment(environ=ENVIRONMENT)
    text = ("key sk-live-0123456789abcdefXYZ, token a-github-token-value-1234, mail "
            "password correct horse battery staple, hook https://hooks.example.com/T0/B0/abcdefgh")
    assert redact(text) == "key ***, token ***, mail password ***, hook ***"


def test_ordinary_text_and_paths_are_left_alone():
    redact = Redactor.from_environment(environ=ENVIRONMENT)
    text = "Post-training quantization of the KV cache (abc) in /home/reader/papers."
    assert redact(text) == text


def test_credential_shapes_are_masked_even_when_unknown():
    redact = Redactor()
    assert redact("Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9") == "Authorization: Bearer ***"
    assert redact("Invalid key sk-proj-ABCDEFGHIJKLMNOPQRSTUV.") == "Invalid key ***."
    assert redact("ghp_abcdefghijklmnopqrstuvwxyz0123") == "***"
    assert redact("xoxb-123456789012-abcdefghij") == "***"
    assert redact("https://api.example.com/v1?api_key=s3cr3t&model=x") == \
        "https://api.example.com/v1?api_key=***&model=x"
    assert redact("https://hooks.slack.com/services/T0/B0/XyZ") == "https://***"


def test_records_are_redacted_field_by_field():
    @dataclasses.dataclass(frozen=True)
    class Reason:
        paper: str
        why: tuple[str, ...]

    redact = Redactor(["sk-test-secret-123"])
    record = redact.apply({"x": [Reason("2604.00001", ("key sk-test-secret-123",))]})
    assert record == {"x": [Reason("2604.00001", ("key ***",))]}
