"""Database tables (SQLAlchemy 2.0 typed models on one declarative base, migrated with Alembic).

Many-to-one relationships are read-only (``viewonly``): rows are linked by setting their foreign-key columns,
and the relationships are there to load what a view shows. This keeps them out of every flush's unit of work,
which otherwise weighs each of them at every step (about a sixth of a step's cost).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String,
                        Text, UniqueConstraint, true)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from .i18n import folded_name


def utcnow() -> dt.datetime:
    from . import clock

    return clock.now()


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Agency(Base):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # e-ID code (Decision 20/2020/QĐ-TTg)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))  # commune | province
    # the account fees are paid into by bank transfer (engine.payments): the bank's NAPAS code (BIN), the account
    bank_bin: Mapped[str | None] = mapped_column(String(6))
    bank_account: Mapped[str | None] = mapped_column(String(19))
    bank_account_name: Mapped[str | None] = mapped_column(String(100))

    days: Mapped[list[AgencyDay]] = relationship(cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"


class AgencyDay(Base):
    """An agency's exception to the national calendar: an extra day off, or a make-up working day."""

    __tablename__ = "agency_day"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)  # True: a make-up working day; False: a day off
    note: Mapped[str | None] = mapped_column(String(200))


class Person:
    """Who signs in and acts: what the engine and the pages ask of a person, from the columns of ``user_account``
    (``kind``, ``active``, ``roles`` and the profile). Both the ORM row :class:`User` and the plain record
    :class:`engine.accounts.Actor` (the signed-in user of a request) are persons."""

    __slots__ = ()  # (a person has id, email, full_name, kind, active, agency_id, roles and the profile's fields)

    @property
    def is_official(self) -> bool:
        return self.kind == "official"

    @property
    def is_citizen(self) -> bool:
        return self.kind == "citizen"

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    @property
    def is_designer(self) -> bool:
        return self.kind == "designer"

    def profile(self) -> dict[str, Any]:
        """The profile fields forms may prefill from (``ui:prefill``)."""
        return {
            "full_name": self.full_name, "email": self.email, "phone": self.phone, "id_number": self.id_number,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None, "address": self.address,
        }

    # Flask-Login's user protocol, written out so that engine/ needs no Flask import.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """What the session keeps of the person: the id and a stamp of the password, so that a session started
        before the password changed (reset, or changed elsewhere), or before two-step login was turned on or off,
        is signed out at its next request."""
        return f"{self.id}.{self.password_stamp}"


def password_stamp(password_hash: str, totp_secret: str | None = None) -> str:
    """A short fingerprint of a password hash and of the two-step secret (never either itself) that changes whenever
    the password does, or two-step login is turned on or off: the sessions started before then end."""
    second = f"|{totp_secret}".encode() if totp_secret else b""
    return hashlib.sha256(password_hash.encode() + second).hexdigest()[:16]


class User(Base, Person):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(String(200))
    # the name without diacritics nor case (engine.i18n.folded_name), kept with it: an official finds an
    # applicant's dossiers by their name written either way (engine.accounts.applicants_matching)
    name_folded: Mapped[str | None] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # citizen | official | admin | designer
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    # profile, given once and reused to prefill forms
    # (indexed: an official finds an applicant's dossiers by them, engine.accounts.applicants_matching)
    phone: Mapped[str | None] = mapped_column(String(30), index=True)
    id_number: Mapped[str | None] = mapped_column(String(20), index=True)
    birth_date: Mapped[dt.date | None]
    address: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # mail about the person's dossiers (engine.notices): whether to send it, and in which language (vi | en)
    notify_by_mail: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    language: Mapped[str] = mapped_column(String(2), default="vi", server_default="vi")
    # two-step login (engine.two_step): the authenticator's secret, sealed (engine.sealed; None: off), the last
    # time step a code was taken for (none twice), the SHA-256 of the recovery codes not used yet
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    totp_recovery: Mapped[list[str] | None] = mapped_column(JSON)

    agency: Mapped[Agency | None] = relationship(viewonly=True)
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan")

    @validates("full_name")
    def _name_changed(self, _key: str, name: str) -> str:
        self.name_folded = folded_name(name) if name is not None else None
        return name

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    @property
    def password_stamp(self) -> str:
        return password_stamp(self.password_hash, self.totp_secret)

    @property
    def two_step(self) -> bool:
        return self.totp_secret is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.kind}>"


class UserRole(Base):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(60), primary_key=True)


class LoginFailure(Base):
    """A login refused for a wrong password or an unknown email, kept for :mod:`engine.logins`'s window (rows
    older than it are deleted as new ones come). ``email`` is what was typed, lower-cased, whether or not an
    account has it; ``source`` is the client's address."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_email", "email", "at"),
        Index("ix_login_failure_source", "source", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    source: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class SignIn(Base):
    """A login that succeeded, kept :data:`engine.logins.SIGN_INS_KEPT` for the person to see on their security
    page (when, from which address, how): a sign-in they did not make shows. ``method``: password (with no second
    step), code (and the authenticator's code), recovery (and a recovery code), register (a new account)."""

    __tablename__ = "sign_in"
    __table_args__ = (Index("ix_sign_in_user", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))


class Registration(Base):
    """A citizen account created, with the client's address, kept for :mod:`engine.logins`'s window (rows older
    than it are deleted as new ones come): how many accounts one address created lately."""

    __tablename__ = "registration"
    __table_args__ = (Index("ix_registration_source", "source", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class PasswordReset(Base):
    """A link sent to reset a forgotten password (:func:`engine.accounts.request_password_reset`): only the SHA-256
    of its secret is kept; it works once, before ``expires_at``."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ProcedureVersion(Base):
    """An immutable deployed version of a procedure: its files, keyed by their content hash."""

    __tablename__ = "procedure_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_code: Mapped[str] = mapped_column(String(80), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # large, and needed once per process (the runtime caches versions by hash): loaded only when asked for
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    files: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)  # relative path → text: BPMN and forms
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)  # serialized specs (restored, not reparsed)
    deployed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    current: Mapped[bool] = mapped_column(Boolean, default=True)


class DailySequence(Base):
    """Last dossier number handed out per receiving agency and day."""

    __tablename__ = "daily_sequence"

    agency_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[str] = mapped_column(String(6), primary_key=True)  # yyMMdd
    last: Mapped[int] = mapped_column(Integer, default=0)


class Dossier(Base):
    __tablename__ = "dossier"
    __table_args__ = (
        Index("ix_dossier_applicant_created", "applicant_id", "created_at", "id"),  # "my dossiers", newest first
        # an agency's dossiers received, and finished (or still open: NULL), in a period (engine.statistics)
        Index("ix_dossier_agency_submitted", "agency_id", "submitted_at"),
        Index("ix_dossier_agency_finished", "agency_id", "finished_at"),
        # an agency's dossiers by when their status last changed: the integration API's feed (engine.integration)
        Index("ix_dossier_agency_status_changed", "agency_id", "status_changed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(64), unique=True)
    procedure_code: Mapped[str] = mapped_column(String(80), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("procedure_version.id"))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))  # (indexed first in the two below)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    appointment_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # (None while a draft)
    delivery_method: Mapped[str | None] = mapped_column(String(20))
    # the legal clock: stopped since this time while a deadlineClock=pause task is open
    clock_paused_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    extended_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # the earliest due BPMN timer of this dossier: what the timer run looks for
    next_timer_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the dossier's collected form data
    # serialized workflow state (JSON text, without the spec); read only when the dossier's workflow runs.
    # Text, not JSON: the engine serializes it once and parses it once, with no conversion in between.
    workflow: Mapped[str] = mapped_column(Text, deferred=True)
    serializer_version: Mapped[str] = mapped_column(String(10))
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    version: Mapped[ProcedureVersion] = relationship(viewonly=True)
    applicant: Mapped[User] = relationship(viewonly=True)
    agency: Mapped[Agency] = relationship(viewonly=True)

    __mapper_args__ = {"version_id_col": row_version}


class HumanTask(Base):
    """A queryable row per human task of a dossier: what inboxes and "my dossiers" read."""

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("dossier_id", "task_guid"),
        Index("ix_human_task_queue", "state", "agency_id", "role"),
        Index("ix_human_task_claimed", "claimed_by_id", "state"),  # an official's "my tasks"
        # an agency's tasks completed in a period, per official (engine.statistics.by_official)
        Index("ix_human_task_agency_completed", "agency_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(120))
    title_vi: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(60))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    form_key: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(12), default="open")  # open | completed | cancelled
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # input kept between the pages of a form

    dossier: Mapped[Dossier] = relationship(viewonly=True)
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id], viewonly=True)


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))  # dossier.started, task.claimed, task.completed, status …
    element: Mapped[str | None] = mapped_column(String(120))  # BPMN id
    label_vi: Mapped[str] = mapped_column(Text)
    label_en: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ApiClient(Base):
    """A system of an agency that reads its dossiers through the integration API (engine.integration), by a
    bearer token of which only the SHA-256 is kept."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(12))  # the token's first characters, to tell tokens apart
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # (None: made before tokens expired)
    # where the worker posts the agency's status changes (engine.webhooks), signed with the secret; the cursor is
    # the last change delivered (status_changed_at, dossier id), as the feed's
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(64))
    webhook_after_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    webhook_after_id: Mapped[int] = mapped_column(Integer, default=0)
    webhook_failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row; reset by a delivery
    webhook_retry_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    webhook_error: Mapped[str | None] = mapped_column(String(300))
    webhook_delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # a worker delivering to this client holds it until then (another worker leaves it alone meanwhile)
    webhook_lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    agency: Mapped[Agency] = relationship()


class Attachment(Base):
    """A file the applicant attached to a dossier for one of its procedure's documents (``components`` of the
    manifest; :mod:`engine.attachments`). ``sent_at`` is empty while the applicant may still take it back (a draft,
    or a supplement not sent yet); officials see only the files sent. The content is read only when downloaded."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    component: Mapped[str] = mapped_column(String(80))  # the manifest's component code
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(60))  # as read from the content, not as the browser said
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class Payment(Base):
    """The fees of a dossier (:mod:`engine.payments`): "declared" when the applicant said they transferred them,
    "paid" when the official who returned the result recorded them received."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), unique=True)
    amount: Mapped[int] = mapped_column(Integer)  # VND
    status: Mapped[str] = mapped_column(String(10))  # declared | paid
    declared_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    method: Mapped[str | None] = mapped_column(String(10))  # transfer | cash
    reference: Mapped[str | None] = mapped_column(String(60))  # the bank transaction's, or the receipt's, number
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Reminder(Base):
    """An official's reminder of the day (:mod:`engine.reminders`), with how many tasks it listed: once a day."""

    __tablename__ = "reminder"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # in Vietnam
    tasks: Mapped[int] = mapped_column(Integer)


class Rating(Base):
    """The applicant's rating of the service, once per dossier, when it is decided (:mod:`engine.ratings`)."""

    __tablename__ = "rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), unique=True)
    score: Mapped[int] = mapped_column(Integer)  # 1 (very dissatisfied) … 5 (very satisfied)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class Outboxed:
    """A mail waiting in an outbox (:mod:`engine.outbox`): owed in the transaction of the change it tells of, sent
    by ``motcua worker``. ``next_attempt_at`` is when a sender may take it: while one is sending it, a little later
    (a lease), and after a failure, the time of the next try."""

    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(10))  # pending | sent | skipped | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class Notice(Outboxed, Base):
    """A mail to a dossier's applicant about a change of its status (:mod:`engine.notices`), written in the
    transaction of the step that changed the status."""

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # the status reached, or "supplied" (a supplement sent)
    reason: Mapped[str | None] = mapped_column(Text)  # the official's written reason, if the step had one


class TaskNotice(Outboxed, Base):
    """A mail to an official given a task by a head of office or a colleague (:mod:`engine.task_mail`), written in
    the transaction of the giving."""

    __tablename__ = "task_notice"
    __table_args__ = (Index("ix_task_notice_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))  # the official given it
    given_by: Mapped[str] = mapped_column(String(200))  # the name of whoever gave it


class AccountAlert(Outboxed, Base):
    """A mail to a person about a change of how their account is protected (:mod:`engine.alerts`), written in the
    transaction of the change."""

    __tablename__ = "account_alert"
    __table_args__ = (Index("ix_account_alert_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # engine.alerts.KINDS
    source: Mapped[str | None] = mapped_column(String(64))  # the client's address, when the person made the change
    recovery_left: Mapped[int | None] = mapped_column(Integer)  # the recovery codes left, after one was used
