"""Engine settings, all from the environment (documented here, in one place)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: the project checkout: workflows/, bpmn/ and forms/ live here
DEFAULT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    #: SQLAlchemy URL. MOTCUA_DATABASE_URL; default: embedded SQLite under instance/
    database_url: str
    #: where procedures are read from. MOTCUA_ROOT; default: the checkout
    root: Path = DEFAULT_ROOT
    #: restored workflows kept per process (0: none). MOTCUA_WORKFLOW_CACHE; default 128
    workflow_cache_size: int = 128
    #: the mail server, as smtp://[user:password@]host[:port] (STARTTLS when the server offers it) or
    #: smtps://… (TLS from the start). MOTCUA_SMTP_URL; none: mail is not sent (logged, see engine.mail)
    smtp_url: str | None = None
    #: the sender of the portal's mail. MOTCUA_MAIL_FROM
    mail_from: str = "Một cửa trực tuyến <no-reply@motcua.local>"
    #: the portal's public address, for links in mail (never taken from a request's Host header in production).
    #: MOTCUA_BASE_URL, e.g. https://dichvucong.example.gov.vn
    base_url: str | None = None
    #: citizen accounts one client address may create in 15 minutes (engine.logins). MOTCUA_REGISTRATIONS_PER_ADDRESS;
    #: default 20 (many people may share a mobile carrier's address; a load test from one machine sets it high)
    registrations_per_address: int = 20
    #: the largest file a citizen may attach to a dossier, in bytes (engine.attachments). MOTCUA_UPLOAD_MAX_BYTES;
    #: default 10 MB (a scanned page as PDF or photo is well under it; the national portal takes about as much)
    upload_max_bytes: int = 10 * 1024 * 1024
    #: requests one API client may make (web.api), as the ``limits`` library writes it. MOTCUA_API_RATE_LIMIT;
    #: default 300 a minute (polling the feed every few seconds and reading each dossier it lists stays well under)
    api_rate_limit: str = "300/minute"
    #: requests of the API without a token (the public catalog, a refused token) from one client address.
    #: MOTCUA_API_PUBLIC_RATE_LIMIT; default 60 a minute
    api_public_rate_limit: str = "60/minute"
    #: where those counts are kept: memory:// (each web worker counts on its own, so N workers allow N times the
    #: limit) or redis://host:port[/db] (all workers share them). MOTCUA_RATE_LIMIT_STORAGE; default memory://
    rate_limit_storage: str = "memory://"
    #: the PKCS#12 file (key and certificate) the slips are signed with (engine.signing). MOTCUA_SIGNING_P12; none:
    #: the slips are not signed (``motcua serve`` makes a demonstration one under instance/)
    signing_p12: Path | None = None
    #: its password. MOTCUA_SIGNING_P12_PASSWORD
    signing_password: str | None = None
    #: staff accounts (officials, administrators, designers) must turn two-step login on before anything else
    #: (engine.two_step). MOTCUA_STAFF_TWO_STEP=required; default optional (the demonstration's accounts)
    staff_two_step_required: bool = False
    #: the keys secrets are sealed with in the database (engine.sealed: two-step login's authenticator secrets),
    #: kept apart from it. MOTCUA_DATA_KEY: one key, or several comma separated while changing them (the first
    #: seals, any opens; then ``motcua reseal``); in development (MOTCUA_DEV=1) without it, a random key kept in
    #: instance/data_key; none: two-step login cannot be turned on
    data_keys: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        root = Path(os.environ.get("MOTCUA_ROOT") or DEFAULT_ROOT)
        url = os.environ.get("MOTCUA_DATABASE_URL") or f"sqlite:///{root / 'instance' / 'motcua.db'}"
        values: dict[str, object] = {"database_url": url, "root": root,
                                     "workflow_cache_size": int(os.environ.get("MOTCUA_WORKFLOW_CACHE") or 128),
                                     "smtp_url": os.environ.get("MOTCUA_SMTP_URL") or None,
                                     "mail_from": os.environ.get("MOTCUA_MAIL_FROM") or cls.mail_from,
                                     "base_url": os.environ.get("MOTCUA_BASE_URL") or None,
                                     "registrations_per_address": int(os.environ.get("MOTCUA_REGISTRATIONS_PER_ADDRESS")
                                                                      or cls.registrations_per_address),
                                     "upload_max_bytes": int(os.environ.get("MOTCUA_UPLOAD_MAX_BYTES")
                                                             or cls.upload_max_bytes),
                                     "api_rate_limit": os.environ.get("MOTCUA_API_RATE_LIMIT") or cls.api_rate_limit,
                                     "api_public_rate_limit": os.environ.get("MOTCUA_API_PUBLIC_RATE_LIMIT")
                                     or cls.api_public_rate_limit,
                                     "rate_limit_storage": os.environ.get("MOTCUA_RATE_LIMIT_STORAGE")
                                     or cls.rate_limit_storage,
                                     "signing_p12": Path(os.environ["MOTCUA_SIGNING_P12"])
                                     if os.environ.get("MOTCUA_SIGNING_P12") else None,
                                     "signing_password": os.environ.get("MOTCUA_SIGNING_P12_PASSWORD") or None,
                                     "staff_two_step_required": _choice("MOTCUA_STAFF_TWO_STEP",
                                                                        {"optional": False, "required": True}),
                                     "data_keys": _data_keys(root / "instance")}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _data_keys(instance: Path) -> tuple[str, ...]:
    """MOTCUA_DATA_KEY's keys; in development without it, a random one kept under instance/ (made the first time)."""
    keys = tuple(k.strip() for k in (os.environ.get("MOTCUA_DATA_KEY") or "").split(",") if k.strip())
    if keys or os.environ.get("MOTCUA_DEV") != "1":
        return keys
    import secrets

    path = instance / "data_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return (path.read_text().strip(),)


def _choice(name: str, values: dict[str, bool]) -> bool:
    """The meaning of environment variable ``name`` (one of ``values``' keys; unset: the first one)."""
    given = (os.environ.get(name) or next(iter(values))).strip().lower()
    if given not in values:
        raise ValueError(f"{name} must be one of {', '.join(values)} (not {given!r})")
    return values[given]
