"""The digest by email: an HTML part and a plain-text part, over SMTP with STARTTLS or
SSL (certificates verified; ``SSL_CERT_FILE`` names a private CA), to several people."""

from __future__ import annotations

import email.utils
import smtplib
import ssl
from email.message import EmailMessage

from jinja2 import Environment, PackageLoader, StrictUndefined
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from papersift.config import EmailConfig, NotifyConfig, Secrets
from papersift.notify.push import Push, PushError, headline, shorten
from papersift.render import summary_label, when
from papersift.render.latex import latex_html, latex_text


def build_email(push: Push, settings: EmailConfig) -> EmailMessage:
    """The message as it will be sent (both parts, every selected paper)."""
    env = Environment(loader=PackageLoader("papersift.notify", "templates"),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      autoescape=True)
    env.filters["shorten"] = shorten
    env.filters["when"] = when
    env.filters["summary_label"] = summary_label
    context = {"push": push, "papers": push.papers, "status": push.status,
               "headline": headline(push), "run": push.record.get("run", {})}
    message = EmailMessage()
    day = push.day or "today"
    if push.is_digest:
        subject = settings.subject.format(count=len(push.papers), date=day)
        if push.status.get("outcome") not in (None, "digest"):
            subject += f" ({push.status['outcome'].replace('_', ' ')})"
    else:
        subject = f"papersift: {push.status.get('outcome', 'status').replace('_', ' ')} ({day})"
    message["Subject"] = " ".join(subject.split())
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(domain=settings.sender.rsplit("@", 1)[-1])
    message["X-Papersift-Outcome"] = push.status.get("outcome", "")
    env.autoescape = False
    env.filters["tex"] = latex_text
    message.set_content(env.get_template("email.txt.j2").render(**context))
    env.autoescape = True
    env.filters["tex"] = latex_html
    message.add_alternative(env.get_template("email.html.j2").render(**context),
                            subtype="html")
    return message


def send_email(push: Push, settings: EmailConfig, notify: NotifyConfig,
               secrets: Secrets) -> None:
    """Send the push; ``PushError`` (one line, no password) when it cannot be delivered."""
    if settings.username and not secrets.smtp_password:
        raise PushError(f"email: notify.email.username = {settings.username!r} needs the "
                        "password in PAPERSIFT_SMTP_PASSWORD")
    message = build_email(push, settings)
    where = f"email via {settings.host}:{settings.port}"
    retrying = Retrying(
        stop=stop_after_attempt(notify.attempts),
        wait=wait_exponential(multiplier=notify.backoff_seconds, max=60),
        retry=retry_if_exception(_transient), reraise=True)
    try:
        refused = retrying(_deliver, message, settings, secrets.smtp_password,
                           notify.timeout_seconds)
    except smtplib.SMTPAuthenticationError as exc:
        raise PushError(f"{where}: login refused for {settings.username!r} "
                        f"({_reply(exc)})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise PushError(f"{where}: every recipient refused "
                        f"({', '.join(exc.recipients)})") from None
    except smtplib.SMTPResponseException as exc:
        raise PushError(f"{where}: {_reply(exc)}") from None
    except ssl.SSLError as exc:
        raise PushError(f"{where}: TLS failed ({exc.reason or exc})") from None
    except (smtplib.SMTPException, OSError) as exc:
        detail = (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).rstrip(".")
        tries = f" after {notify.attempts} attempts" if _transient(exc) else ""
        raise PushError(f"{where}: {detail}{tries}") from None
    if refused:
        raise PushError(f"{where}: sent, but refused for {', '.join(sorted(refused))}")


def _deliver(message: EmailMessage, settings: EmailConfig, password: str | None,
             timeout: float) -> dict[str, object]:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, password or "")
        return smtp.send_message(message, from_addr=settings.sender, to_addrs=settings.to)


def _transient(exc: BaseException) -> bool:
    """Worth another try: the connection, or a 4xx "try again later" reply. Every
    ``SMTPException`` is an ``OSError``, so the protocol's own errors are sorted first."""
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return not isinstance(exc, smtplib.SMTPAuthenticationError) and \
            400 <= exc.smtp_code < 500
    if isinstance(exc, (smtplib.SMTPException, ssl.SSLError)):
        return False
    return isinstance(exc, OSError)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
        else str(exc.smtp_error)
    return f"{exc.smtp_code} {' '.join(text.split())}"
