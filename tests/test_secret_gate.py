"""One redaction gate for everything that leaves the process: a short and a long secret
are planted in every channel that can echo them (an LLM that quotes the key in its
answers, plainly, URL-encoded and in base64; an SMTP server whose 535 reply quotes the
password and the AUTH PLAIN blob; a webhook whose URL carries its token in the path and
that keeps failing under -v), and every byte papersift wrote (terminal, logs, status,
store, Markdown, JSON, site, feeds) is searched for them and their encodings."""

from __future__ import annotations

import base64
import warnings
from pathlib import Path
from urllib.parse import quote

from conftest import free_port, write_project
from test_cli import papersift

LONG_KEY = "sk-gate-" + "Q7v9Lm2Xc4Rt8Wp1Zy6Kd3Hs5Jf0Ng"  # an API key's length
SHORT_PASSWORD = "h5Tq9Wz2Lb"  # 10 characters
HOOK_TOKEN = "tk9Vw3Qx7Z"
USER = "digest-bot"


def encodings(secret: str) -> list[str]:
    """The secret and what a protocol makes of it (URL-encoded; base64 at each of the
    three offsets a secret can have inside a longer blob, the parts it alone decides)."""
    raw = secret.encode()
    forms = {secret, quote(secret, safe="")}
    for offset in range(3):
        first, last = -(-8 * offset // 6), 8 * (offset + len(raw)) // 6
        forms.add(base64.b64encode(b"\0" * offset + raw + b"\0\0\0").decode()[first:last])
    forms.add(base64.b64encode(f"\0{USER}\0{secret}".encode()).decode())
    return sorted(forms)


def everything_written(*folders: Path) -> bytes:
    return b"\n".join(p.read_bytes() for folder in folders for p in folder.rglob("*")
                      if p.is_file())


def test_no_secret_or_encoding_of_one_is_written_anywhere(tmp_path, arxiv, llm, webhook):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    blob = base64.b64encode(f"\0{USER}\0{SHORT_PASSWORD}".encode()).decode()

    def refuse(server, session, envelope, mechanism, auth_data):  # quotes what it got
        return AuthResult(success=False, handled=False, message=(
            f"535 5.7.8 {auth_data.login.decode()}/{auth_data.password.decode()} ({blob}) "
            "refused"))

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    port = free_port()
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=refuse,
                      auth_required=True, auth_require_tls=False)
    smtp.start()
    hook = webhook.url.replace("/hook", f"/hook/{HOOK_TOKEN}")
    webhook.server.expect_request(f"/hook/{HOOK_TOKEN}", method="POST").respond_with_data(
        "scripted failure", status=500)
    llm.comment_suffix = (f" key {LONG_KEY}, {quote(LONG_KEY, safe='')}, "
                          f"{base64.b64encode(LONG_KEY.encode()).decode()}")
    try:
        write_project(tmp_path, arxiv=arxiv, llm=llm, extra=(
            f'[notify.email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            f'plaintext_login = true\nusername = "{USER}"\nsender = "a@example.org"\n'
            'to = ["b@example.org"]\n[notify.webhook]\nheaders = { "X-Hook-Token" = '
            '"${HOOK_SECRET}" }\n[notify]\nbackoff_seconds = 0\n[summary]\nenabled = true'))
        env = {"OPENAI_API_KEY": LONG_KEY, "PAPERSIFT_SMTP_PASSWORD": SHORT_PASSWORD,
               "PAPERSIFT_WEBHOOK_URL": hook, "HOOK_SECRET": HOOK_TOKEN + "x"}
        ran = papersift("run", "--date", "2026-04-14", "-v", cwd=tmp_path, env_extra=env)
        resent = papersift("notify", "--date", "2026-04-14", "-v", cwd=tmp_path,
                           env_extra=env)
    finally:
        smtp.stop()
    assert ran.returncode == 4 and resent.returncode == 4, ran.stderr[-2000:]
    said = (ran.stdout + ran.stderr + resent.stdout + resent.stderr).encode()
    written = said + everything_written(tmp_path / "out")
    assert b"535" in said and b"127.0.0.1" in said  # the failures are told, masked
    for secret in (LONG_KEY, SHORT_PASSWORD, HOOK_TOKEN, HOOK_TOKEN + "x"):
        for form in encodings(secret):
            assert form.encode() not in written, (secret, form)
