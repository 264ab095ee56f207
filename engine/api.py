"""The engine's facade: everything the web layer (or a test, or the CLI) may ask of the engine.

Each method takes the caller's SQLAlchemy session and works inside the caller's transaction: it flushes but
never commits, so that a request commits once (or rolls back) at its boundary. Methods that act on an
object check that the actor may see or change it and raise :class:`~engine.errors.NotFound` (the object is
not theirs to know about) or :class:`~engine.errors.Forbidden`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import (accounts, administration, alerts, attachments, catalog, designs, dossiers, integration, logins, lookup,
               mail, moves, notices, outbox, payments, personal_data, ratings, reminders, signing, slips, statistics,
               task_mail, tasks, timers, two_step, webhooks)
from .config import Settings
from .db import Database, possible_id
from .errors import Forbidden, NotFound, StaleDossier
from .forms import FormDefinition
from .procedures import SUPERVISOR_ROLE
from .i18n import text
from .models import Dossier, Person, User
from .views import (Assignee, Completion, Component, DiagramView, DossierView, Handing, NoticeView, ProcedureInfo,
                    TaskView, TimelineEntry, Workload)


class Engine:
    """One per process: holds the database, the deployed procedure versions and the runtime caches."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.db = Database(self.settings.database_url)
        self.versions = catalog.VersionCache(self.settings.workflow_cache_size)
        self.published = statistics.Published()  # every agency's figures, as the public page shows them
        #: the key the slips are signed with (SigningError now if it cannot be used), or None
        self.signing_key = (signing.load(self.settings.signing_p12, self.settings.signing_password)
                            if self.settings.signing_p12 else None)

    def session(self) -> Session:
        return self.db.session()

    # -- set-up ------------------------------------------------------------------------------------------------
    def upgrade_database(self) -> None:
        """Apply the Alembic migrations (creates the schema on an empty database)."""
        self.db.upgrade()

    def not_ready(self) -> str | None:
        """Why this process cannot serve now (the database away, or its schema not this code's), or None."""
        return self.db.schema_problem()

    def deploy(self, session: Session, root: Path | None = None) -> list[catalog.Deployed]:
        """Load every procedure from ``workflows/`` + ``bpmn/`` + ``forms/`` and store new versions.

        Raises :class:`~engine.errors.ProcedureError` listing every problem if any procedure is broken.
        """
        return catalog.deploy(session, root or self.settings.root)

    # -- catalog -----------------------------------------------------------------------------------------------
    def procedures(self, session: Session, query: str | None = None, field: str | None = None,
                   agency_id: int | None = None) -> list[ProcedureInfo]:
        """Deployed procedures, optionally filtered by keyword (with or without diacritics), field code and the agency
        that handles them (an agency handles the procedures of its level; an unknown agency, none)."""
        level = None
        if agency_id is not None:
            level = catalog.agency_level(session, agency_id)
            if level is None:
                return []
        return catalog.search(session, self.versions, query, field, level)

    def look_up(self, session: Session, code: str, id_number: str, source: str | None) -> lookup.PublicDossier:
        """Where a dossier stands, for anyone with its code and its applicant's personal ID number
        (:func:`engine.lookup.look_up`: a wrong pair is NotFound and counted against ``source``; commit it)."""
        return lookup.look_up(session, self.versions, code, id_number, source)

    def catalog_agencies(self, session: Session) -> list[tuple[int, str, str, str]]:
        """Every agency (id, names, level), for finding procedures by agency."""
        return catalog.agencies(session)

    def procedure(self, session: Session, code: str) -> ProcedureInfo:
        return catalog.info(session, self.versions, code)

    def agencies_for(self, session: Session, code: str, level: str | None = None) -> list[tuple[int, str, str]]:
        """Agencies (id, name vi, name en) that receive dossiers of this procedure."""
        return catalog.agencies_for(session, self.versions, code, level)

    # -- dossiers ----------------------------------------------------------------------------------------------
    def start_dossier(self, session: Session, code: str, applicant: Person, agency_id: int | None = None) -> DossierView:
        """Start a draft dossier on the procedure's current version; its first task is the applicant's."""
        return dossiers.start(session, self.versions, code, applicant, agency_id)

    def dossier(self, session: Session, dossier_id: int, actor: Person) -> DossierView:
        return dossiers.view(session, self.versions, dossiers.get_for(session, dossier_id, actor), actor)

    def dossier_by_code(self, session: Session, code: str, actor: Person) -> DossierView:
        return dossiers.view(session, self.versions, dossiers.get_by_code_for(session, code, actor), actor)

    def dossiers_of(self, session: Session, applicant: Person, limit: int = 50, offset: int = 0) -> list[DossierView]:
        """A page of the applicant's own dossiers, newest first (without answers or task rows)."""
        return dossiers.of_applicant(session, self.versions, applicant, limit, offset)

    def dossiers_of_agency(self, session: Session, official: Person, status: str | None = None,
                           procedure: str | None = None, overdue: bool = False, limit: int = 50,
                           offset: int = 0, applicant: str | None = None) -> list[DossierView]:
        """A page of the dossiers the official's agency received, newest first, filtered by status, procedure,
        "still open past the due date" or the applicant's personal ID number, email or phone (list views). Raises
        Forbidden for anyone but an agency's official, FormInvalid for an applicant not written as one of these."""
        return dossiers.of_agency(session, self.versions, official, status, procedure, overdue, limit, offset,
                                  applicant)

    def timeline(self, session: Session, dossier_id: int, actor: Person) -> list[TimelineEntry]:
        return dossiers.timeline(session, dossiers.get_for(session, dossier_id, actor))

    def mail_notices(self, session: Session, dossier_id: int, actor: Person) -> list[NoticeView]:
        """The mail owed to the dossier's applicant about it, and what became of each."""
        return notices.of_dossier(session, dossiers.get_for(session, dossier_id, actor))

    def personal_data(self, session: Session, citizen: Person) -> dict[str, Any]:
        """Everything kept about the citizen (profile, dossiers, answers, files, history, fees, ratings), as
        JSON-able data to download (:mod:`engine.personal_data`)."""
        return personal_data.export(session, self.versions, citizen)

    def rating(self, session: Session, dossier_id: int, actor: Person) -> ratings.RatingState:
        """The applicant's rating of the dossier's service, if given, and whether the actor may give it now."""
        return ratings.state(session, dossiers.get_for(session, dossier_id, actor), actor)

    def rate(self, session: Session, dossier_id: int, applicant: Person, score: Any,
             comment: str | None = None) -> ratings.RatingView:
        """The applicant rates a decided dossier, once (score 1–5, an optional comment). Raises NotFound,
        Forbidden (not decided, or rated already) or FormInvalid."""
        return ratings.rate(session, dossiers.get_for(session, dossier_id, applicant), applicant, score, comment)

    # -- documents attached -------------------------------------------------------------------------------------
    def documents(self, session: Session, dossier_id: int, actor: Person) -> list[attachments.AttachmentView]:
        """The files attached to the dossier: all for its applicant, those sent for the agency's officials."""
        return attachments.of_dossier(session, dossiers.get_for(session, dossier_id, actor), actor)

    def components(self, session: Session, dossier_id: int, actor: Person) -> tuple[Component, ...]:
        """The documents the dossier's procedure (at the dossier's version) asks for."""
        dossier = dossiers.get_for(session, dossier_id, actor)
        return self.versions.of(session, dossier.version_id).info.components

    def attach(self, session: Session, dossier_id: int, applicant: Person, component: str, filename: str | None,
               data: bytes) -> attachments.AttachmentView:
        """The applicant attaches a file (PDF, JPEG or PNG, up to ``settings.upload_max_bytes``) for one of the
        procedure's documents, while the dossier is a draft or waits for a supplement. Raises NotFound, Forbidden
        or FormInvalid (keyed by ``attachments.key(component)``)."""
        dossier = dossiers.get_for(session, dossier_id, applicant)
        components = self.versions.of(session, dossier.version_id).info.components
        return attachments.attach(session, components, dossier, applicant, component, filename, data,
                                  self.settings.upload_max_bytes)

    def detach(self, session: Session, dossier_id: int, applicant: Person, attachment_id: int) -> str:
        """The applicant takes back a file not sent yet; returns its name."""
        return attachments.remove(session, dossiers.get_for(session, dossier_id, applicant), applicant, attachment_id)

    def attach_result(self, session: Session, task_id: int, official: Person, filename: str | None,
                      data: bytes) -> attachments.AttachmentView:
        """The official holding a task that takes the electronic result (``resultFile``) attaches it; the task's
        completion gives it to the applicant. Raises NotFound, TaskNotOpen, Forbidden (not theirs to hold) or
        FormInvalid (keyed ``doc-result``)."""
        row = tasks.result_task(session, self.versions, task_id, official)
        return attachments.store(session, row.dossier, official, attachments.RESULT, filename, data,
                                 self.settings.upload_max_bytes)

    def detach_result(self, session: Session, task_id: int, official: Person, attachment_id: int) -> str:
        """The official takes back a result file not given to the applicant yet; returns its name."""
        row = tasks.result_task(session, self.versions, task_id, official)
        return attachments.remove_result(session, row.dossier, attachment_id)

    def document(self, session: Session, dossier_id: int, actor: Person,
                 attachment_id: int) -> tuple[attachments.AttachmentView, bytes]:
        """One attached file and its content, for whoever may see it."""
        return attachments.content(session, dossiers.get_for(session, dossier_id, actor), actor, attachment_id)

    # -- administration -------------------------------------------------------------------------------------------
    def agencies(self, session: Session, admin: Person) -> list[administration.AgencyView]:
        return administration.agencies(session, admin)

    def agency(self, session: Session, admin: Person, agency_id: int) -> administration.AgencyView:
        return administration.agency(session, admin, agency_id)

    def save_agency(self, session: Session, admin: Person, agency_id: int | None,
                    values: Mapping[str, Any]) -> administration.AgencyView:
        """Create (``agency_id`` None) or change an agency: code, names, level, the account fees are paid into.
        Raises Forbidden (not an administrator), NotFound or FormInvalid."""
        return administration.save_agency(session, admin, agency_id, dict(values))

    def agency_days(self, session: Session, admin: Person, agency_id: int) -> list[administration.AgencyDayView]:
        return administration.agency_days(session, admin, agency_id)

    def set_agency_day(self, session: Session, admin: Person, agency_id: int, day: Any, working: bool,
                       note: str = "") -> None:
        """An agency's extra day off or make-up working day (due dates computed from now on count with it)."""
        administration.set_agency_day(session, admin, agency_id, day, working, note)

    def remove_agency_day(self, session: Session, admin: Person, agency_id: int, day: Any) -> None:
        administration.remove_agency_day(session, admin, agency_id, day)

    def admin_log(self, session: Session, admin: Person, limit: int = 100,
                  offset: int = 0) -> list[administration.AdminEvent]:
        """What administrators changed, newest first (agencies, officials' accounts, calendars)."""
        return administration.admin_log(session, admin, limit, offset)

    def roles(self, session: Session) -> dict[str, Any]:
        """The officials' roles the current procedures name, with their names."""
        return catalog.roles(session, self.versions)

    def officials(self, session: Session, admin: Person) -> list[administration.OfficialView]:
        return administration.officials(session, admin)

    def official(self, session: Session, admin: Person, user_id: int) -> administration.OfficialView:
        return administration.official(session, admin, user_id)

    def designers(self, session: Session, admin: Person) -> list[administration.DesignerView]:
        return administration.designers(session, admin)

    def designer(self, session: Session, admin: Person, user_id: int) -> administration.DesignerView:
        return administration.designer(session, admin, user_id)

    def save_designer(self, session: Session, admin: Person, user_id: int | None,
                      values: Mapping[str, Any]) -> administration.DesignerView:
        """Create (``user_id`` None; then mail them a link to set their password) or change a process designer's
        account. Raises Forbidden, NotFound or FormInvalid."""
        return administration.save_designer(session, admin, user_id, dict(values))

    def save_official(self, session: Session, admin: Person, user_id: int | None,
                      values: Mapping[str, Any]) -> administration.OfficialView:
        """Create (``user_id`` None; then mail them a link to set their password, :meth:`send_password_reset`)
        or change an official's account. Raises Forbidden, NotFound or FormInvalid."""
        return administration.save_official(session, admin, user_id, dict(values), set(self.roles(session)))

    # -- fees ----------------------------------------------------------------------------------------------------
    def fee(self, session: Session, dossier_id: int, actor: Person) -> payments.FeeView | None:
        """The dossier's fees: due (with the agency's account and a VietQR code to pay them), said to be
        transferred, or paid; None when there are none to show."""
        dossier = dossiers.get_for(session, dossier_id, actor)
        return payments.state(session, self.versions.of(session, dossier.version_id).fee_tasks, dossier)

    def declare_transfer(self, session: Session, dossier_id: int, applicant: Person) -> None:
        """The applicant says they transferred the fees due; the official collecting them sees it."""
        dossier = dossiers.get_for(session, dossier_id, applicant)
        payments.declare(session, self.versions.of(session, dossier.version_id).fee_tasks, dossier, applicant)

    # -- slips (Circular 01/2018/TT-VPCP) ----------------------------------------------------------------------
    def slips(self, session: Session, dossier_id: int, actor: Person,
              timeline: list[TimelineEntry] | None = None) -> list[slips.SlipKind]:
        """The standard slips the dossier has now (receipt, supplement request, refusal, apology; the control sheet
        for its agency's officials), from its ``timeline`` when the caller has read it."""
        dossier = dossiers.get_for(session, dossier_id, actor)
        return slips.available(dossiers.timeline(session, dossier) if timeline is None else timeline,
                               actor.is_official)

    def slip(self, session: Session, dossier_id: int, actor: Person, kind: str) -> bytes:
        """One of the dossier's slips as an A5 PDF, signed with the portal's key when it has one. Raises NotFound
        when it has no such slip for the actor."""
        facts = self._slip_facts(session, dossier_id, actor)
        pdf = slips.render(kind, facts, actor.is_official, self.settings.root)
        if self.signing_key is None:
            return pdf
        return signing.sign(pdf, self.signing_key, reason=f"{slips.KINDS[kind].title['vi']} – {facts.dossier.code}",
                            location=facts.dossier.agency_name["vi"])

    def _slip_facts(self, session: Session, dossier_id: int, actor: Person) -> slips.Facts:
        dossier = dossiers.get_for(session, dossier_id, actor)
        rt = self.versions.of(session, dossier.version_id)
        sent: dict[str, list[str]] = {}
        for f in attachments.of_dossier(session, dossier, actor):
            if f.sent:
                sent.setdefault(f.component, []).append(f.filename)
        applicant = dossier.applicant
        return slips.Facts(
            dossier=dossiers.view(session, self.versions, dossier, actor, detailed=False),
            timeline=dossiers.timeline(session, dossier), components=rt.info.components, files=sent,
            time_limit=rt.info.time_limit,
            applicant={"address": applicant.address or "", "phone": applicant.phone or "", "email": applicant.email})

    def diagram(self, session: Session, dossier_id: int, actor: Person) -> DiagramView:
        """The dossier's diagram and where it stands in it (for the live tracking view)."""
        return dossiers.diagram(session, self.versions, dossiers.get_for(session, dossier_id, actor))

    def withdraw(self, session: Session, dossier_id: int, applicant: Person, reason: str) -> None:
        """The applicant withdraws a dossier before a decision (status cancelled), giving a reason."""
        try:
            dossiers.withdraw(session, self.versions, dossiers.get_for(session, dossier_id, applicant), applicant, reason)
        except StaleDataError:
            raise StaleDossier() from None

    def fire_due_timers(self, session: Session, limit: int = 200) -> int:
        """Fire the BPMN timers due by the engine's clock (the worker calls this); returns dossiers run."""
        return timers.fire_due_timers(session, self.versions, limit)

    def send_due_notices(self, limit: int = 100) -> notices.Sent:
        """Send the mail owed to applicants about their dossiers (the worker calls this). Unlike the other methods
        it opens and commits its own short transactions: one to take each mail, one to mark it sent."""
        return notices.send_due(self.session, self.settings, self.versions, limit)

    def send_due_task_notices(self, limit: int = 100) -> outbox.Sent:
        """Mail the officials given tasks (the worker calls this; :mod:`engine.task_mail`); like
        :meth:`send_due_notices` it commits its own transactions."""
        return task_mail.send_due(self.session, self.settings, self.versions, limit)

    def send_due_alerts(self, limit: int = 100) -> outbox.Sent:
        """Send the mail owed to people about changes to how their accounts are protected (the worker calls this;
        :mod:`engine.alerts`); like :meth:`send_due_notices` it commits its own transactions."""
        return alerts.send_due(self.session, self.settings, limit)

    def deliver_webhooks(self) -> webhooks.Delivered:
        """Post the status changes owed to the API clients with a webhook (the worker calls this); it commits its
        own short transactions, none open while a post is on its way (:mod:`engine.webhooks`)."""
        return webhooks.deliver_due(self.session, self.versions)

    def test_webhook(self, admin: Person, client_id: int) -> str | None:
        """Post a signed ping to an API client's webhook now: None when the system took it, else why not. It uses
        its own transactions: the caller must not hold one (on SQLite, a writer's lock) while it waits."""
        return webhooks.test(self.session, admin, client_id)

    def send_reminders(self) -> reminders.Reminded:
        """Send officials today's reminders of tasks due, once a working day from 7:30 (the worker calls this);
        like :meth:`send_due_notices` it commits its own transactions."""
        return reminders.send_due(self.session, self.settings)

    def public_statistics(self, session: Session, year: int, month: int | None = None) -> statistics.AgencyReport:
        """Every agency's figures for a month or a year, for anyone (no fees; counted at most once every
        :data:`engine.statistics.PUBLISHED_FOR`)."""
        return self.published.of(session, year, month)

    def statistics(self, session: Session, official: Person, year: int, month: int | None = None) -> statistics.Report:
        """The figures of the official's agency for a month, or a year (:mod:`engine.statistics`); for a head of
        office, each official's too."""
        if not official.is_official or official.agency_id is None:
            raise Forbidden(text("Chỉ cán bộ của cơ quan mới xem được thống kê của cơ quan.",
                                 "Only an agency's officials can see its statistics."))
        start, end = statistics.period(year, month)
        report = statistics.report(session, official.agency_id, start, end)
        if SUPERVISOR_ROLE in official.roles:  # (each official's figures are for the head of office)
            report.by_official = statistics.by_official(session, official.agency_id, start, end)
        return report

    # -- tasks -------------------------------------------------------------------------------------------------
    def task(self, session: Session, task_id: int, actor: Person) -> TaskView:
        return tasks.view(session, self.versions, tasks.get_for(session, task_id, actor), claimant=actor)

    def form(self, session: Session, task_id: int, actor: Person) -> FormDefinition:
        """The form of a task, from the version its dossier runs on."""
        return tasks.form_of(session, self.versions, tasks.get_for(session, task_id, actor))

    def prefill(self, session: Session, task_id: int, actor: Person) -> dict[str, Any]:
        """Typed data to prefill a task's form: the saved draft, else the dossier's data and the profile."""
        return tasks.prefill(session, self.versions, tasks.get_for(session, task_id, actor), actor)

    def save_draft(self, session: Session, task_id: int, actor: Person, data: Mapping[str, Any]) -> None:
        """Keep (typed) input between the pages of a form; merged into any earlier draft."""
        tasks.save_draft(session, tasks.get_for(session, task_id, actor, acting=True), data)

    def queue(self, session: Session, official: Person, limit: int = 200, offset: int = 0,
              order: str | None = None) -> list[TaskView]:
        """Open, unclaimed tasks of the official's roles in their agency, oldest first or by ``order``
        (:data:`engine.tasks.ORDERS`; at most ``limit``, after the first ``offset``)."""
        return tasks.queue(session, self.versions, official, limit, offset, order)

    def queue_size(self, session: Session, official: Person) -> int:
        """How many tasks :meth:`queue` holds in all."""
        return tasks.queue_size(session, official)

    def my_tasks(self, session: Session, user: Person, limit: int = 200, order: str | None = None) -> list[TaskView]:
        """Open tasks claimed by an official, or an applicant's own open tasks (at most ``limit``; oldest first or
        by ``order``)."""
        return tasks.mine(session, self.versions, user, limit, order)

    def claim(self, session: Session, task_id: int, official: Person) -> TaskView:
        """Claim a task atomically: of two officials racing, exactly one wins, the other gets AlreadyClaimed."""
        try:
            return tasks.claim(session, self.versions, task_id, official)
        except StaleDataError:
            raise StaleDossier() from None

    def release(self, session: Session, task_id: int, official: Person, seen: int | None = None) -> None:
        """Put the task back in its group queue: its holder, or a head of office naming the holder ``seen``."""
        tasks.release(session, task_id, official, seen)

    def assignees(self, session: Session, task: int | TaskView, actor: Person) -> list[Assignee]:
        """Whom the head of office, or the official holding the task (its id, or its view just read), may give it
        to (Forbidden for others)."""
        return tasks.assignees(session, task, actor)

    def assign(self, session: Session, task_id: int, actor: Person, assignee_id: Any, seen: int | None) -> TaskView:
        """Give the open task to an official (:func:`engine.tasks.assign`); AlreadyClaimed if whoever held it is
        no longer ``seen``."""
        return tasks.assign(session, self.versions, task_id, actor, assignee_id, seen)

    def assign_many(self, session: Session, chosen: Iterable[tuple[Any, Any]], actor: Person,
                    assignee_id: Any) -> Handing:
        """A head of office gives several tasks (each id with the holder the page showed) to one official; each
        is given or not, with why (:func:`engine.tasks.assign_many`)."""
        return tasks.assign_many(session, self.versions, chosen, actor, assignee_id)

    def agency_tasks(self, session: Session, official: Person, limit: int = 200, offset: int = 0,
                     unclaimed: bool = False, order: str | None = None) -> tuple[list[TaskView], int]:
        """A head of office's view: the agency's open tasks, whoever holds them (or those nobody holds), and their
        number."""
        return tasks.of_agency(session, self.versions, official, limit, offset, unclaimed, order)

    def workloads(self, session: Session, official: Person) -> list[Workload]:
        """A head of office's view: each official of the agency, the open tasks they hold, how many are overdue."""
        return tasks.workloads(session, official)

    def complete(self, session: Session, task_id: int, actor: Person, data: Mapping[str, Any]) -> Completion:
        """Validate ``data`` (raw form input or typed values) against the task's form and complete it.

        Runs the engine steps that follow, updates the task table, status, dates and audit trail.
        Raises FormInvalid (every error, per field, vi and en), TaskNotOpen, AlreadyClaimed, StaleDossier.
        """
        try:
            return tasks.complete(session, self.versions, task_id, actor, data)
        except StaleDataError:  # a flush found the dossier changed since this request read it
            raise StaleDossier() from None

    # -- accounts ----------------------------------------------------------------------------------------------
    def register_citizen(self, session: Session, email: str, password: str, full_name: str, source: str | None = None,
                         **profile: Any) -> User:
        """Create a citizen account (argon2 hash); raises FormInvalid for a taken email or weak password. Given the
        client's address (``source``), raises TooManyRegistrations when it created too many accounts lately
        (:attr:`Settings.registrations_per_address`)."""
        limit = self.settings.registrations_per_address if source is not None else None
        return accounts.register_citizen(session, email, password, full_name, source, limit, **profile)

    def authenticate(self, session: Session, email: str, password: str, source: str | None = None) -> User | None:
        return accounts.authenticate(session, email, password, source)

    def send_password_reset(self, session: Session, email: str, link_for: Callable[[str], str], lang: str = "vi") -> bool:
        """Mail a link to reset the password of the active account with this email (``link_for`` makes the link's
        absolute address from its secret). False when nothing was sent: no such account, too many links lately, or
        no mail server configured (:mod:`engine.mail`). Raises :class:`engine.mail.MailFailed`; the caller then
        rolls back, so the link is not kept."""
        found = accounts.request_password_reset(session, email)
        if found is None:
            return False
        user, token = found
        subject, body = accounts.reset_mail(user, link_for(token), lang)
        return mail.send(self.settings, user.email, subject, body)

    def reset_link_works(self, session: Session, token: str) -> bool:
        return accounts.reset_link_works(session, token)

    def reset_password(self, session: Session, token: str, password: str, source: str | None = None) -> User:
        """Raises ResetLinkInvalid or FormInvalid (a password too short)."""
        return accounts.reset_password(session, token, password, source)

    def change_password(self, session: Session, user: Person, current: str, new: str,
                        source: str | None = None) -> User:
        """Raises FormInvalid (a wrong current password, counted as a failed login; a new one too short) or
        TooManyAttempts."""
        return accounts.change_password(session, user, current, new, source)

    def user(self, session: Session, user_id: int) -> accounts.Actor | None:
        """The user as the plain record a request acts as (Flask-Login's loader): one query, with the roles and
        the agency every page of an official needs."""
        return accounts.actor(session, user_id)

    def update_profile(self, session: Session, user: Person, **profile: Any) -> None:
        accounts.update_profile(session, user, **profile)

    # -- two-step login (engine.two_step) ----------------------------------------------------------------------
    def two_step_setup(self, person: Person, secret: str | None = None) -> two_step.Setup:
        """A new authenticator secret for ``person`` (or ``secret`` again while they set it up); nothing stored."""
        return two_step.setup_for(person, secret)

    def enable_two_step(self, session: Session, person: Person, secret: str, code: str, password: str,
                        source: str | None = None) -> list[str]:
        """Turn two-step login on; the recovery codes, to show once (FormInvalid: wrong code or password; NoKey:
        the server has no key to seal the secret with, engine.sealed)."""
        return two_step.enable(session, self.settings, person, secret, code, password, source)

    def disable_two_step(self, session: Session, person: Person, password: str, source: str | None = None) -> None:
        two_step.disable(session, person, password, source)

    def reset_two_step(self, session: Session, admin: Person, user_id: int) -> Any:
        """An administrator turns two-step login off for a staff account (a lost phone)."""
        return two_step.reset(session, admin, user_id)

    def verify_two_step(self, session: Session, user_id: int, code: str, source: str | None = None) -> Any:
        """The login's second step: the account (and the recovery codes left, if one was used) if ``code`` is
        right, else None (counted)."""
        return two_step.verify(session, self.settings, user_id, code, source)

    def new_recovery_codes(self, session: Session, person: Person, password: str,
                           source: str | None = None) -> list[str]:
        """Ten new recovery codes, to show once; the old ones stop working (FormInvalid: a wrong password)."""
        return two_step.new_recovery_codes(session, person, password, source)

    def recent_sign_ins(self, session: Session, person: Person, limit: int = 10) -> list[Any]:
        """The person's last logins, newest first (when, from which address, how: engine.logins.signed_in)."""
        return logins.recent(session, person.id, limit)

    def recovery_codes_left(self, session: Session, person: Person) -> int:
        return two_step.recovery_left(session, person)

    # -- process designers -------------------------------------------------------------------------------------
    def designs(self, session: Session, designer: Person) -> list[designs.ProcedureVersions]:
        """Every deployed procedure with its versions, newest first, and how many dossiers run on each."""
        return designs.overview(session, self.versions, designer)

    def design(self, session: Session, designer: Person, code: str) -> designs.ProcedureVersions:
        return designs.procedure(session, self.versions, designer, code)

    def version_bpmn(self, session: Session, designer: Person, code: str, number: int) -> tuple[str, str]:
        """Version ``number`` of a procedure's diagram as deployed: (file name, BPMN XML)."""
        version = self.design(session, designer, code).number(number)
        return designs.version_file(session, self.versions, designer, version.id)

    def compare_versions(self, session: Session, designer: Person, code: str, old: int,
                         new: int | None = None) -> designs.VersionDiff:
        """What changed from version ``old`` of a procedure to version ``new`` (default: the current one)."""
        found = self.design(session, designer, code)
        target = found.number(new) if new is not None else found.current
        if target is None or target.number == old:
            raise NotFound(designs.NO_VERSION)
        return designs.compare(session, self.versions, designer, found.number(old), target)

    def migration_plan(self, session: Session, designer: Person, code: str, number: int,
                       limit: int = 200) -> moves.MigrationPlan:
        """Which running dossiers of version ``number`` can move onto the current version, and why not."""
        found = self.design(session, designer, code)
        if found.current is None:
            raise NotFound(designs.NO_VERSION)
        return moves.plan(session, self.versions, designer, found.number(number), found.current, limit)

    def move_dossier(self, session: Session, designer: Person, dossier_id: int) -> None:
        """Move one running dossier onto its procedure's current version, in the caller's transaction; raises
        moves.NotMovable (what the current version lacks), NotRunnable or StaleDossier."""
        dossier = session.get(Dossier, dossier_id) if possible_id(dossier_id) else None
        if dossier is None:
            raise NotFound(dossiers.NO_DOSSIER)
        current = self.design(session, designer, dossier.procedure_code).current
        if current is None:
            raise NotFound(designs.NO_VERSION)
        moves.move(session, self.versions, designer, dossier, self.versions.of(session, current.id), current.number)

    def move_dossiers(self, designer: Person, code: str, number: int, limit: int | None = None,
                      after: int = 0) -> moves.MigrationReport:
        """Move every running dossier of version ``number`` (after id ``after``, at most ``limit`` looked at: the
        report's ``resume_after`` says where to go on) that can move onto the current version. Like
        :meth:`send_due_notices` it commits its own transactions: one per dossier."""
        with self.session() as session:
            found = self.design(session, designer, code)
            source, target = found.number(number), found.current
        if target is None:
            raise NotFound(designs.NO_VERSION)
        return moves.move_all(self.session, self.versions, designer, source, target, limit=limit, after=after)

    def procedures_on_disk(self, session: Session, designer: Person) -> designs.OnDisk:
        """The procedures in the project's files checked, and compared with what is deployed."""
        return designs.on_disk(session, designer, self.settings.root)

    def deploy_from_disk(self, session: Session, designer: Person) -> list[catalog.Deployed]:
        """Deploy the project's files as :meth:`deploy` does, on a designer's request (kept in the log)."""
        return designs.deploy(session, designer, self.settings.root)

    def design_log(self, session: Session, designer: Person, limit: int = 20) -> list[designs.DesignEvent]:
        """What designers did (deployments, dossiers moved), newest first."""
        return designs.design_log(session, designer, limit)

    # -- the integration API -----------------------------------------------------------------------------------
    def api_clients(self, session: Session, admin: Person) -> list[integration.ClientView]:
        return integration.clients(session, admin)

    def create_api_client(self, session: Session, admin: Person, name: str, agency_id: Any,
                          valid_days: Any = integration.DEFAULT_VALIDITY,
                          webhook_url: str = "") -> integration.NewClient:
        """A new API client of an agency, with its bearer token (valid ``valid_days``) and, given a webhook, the
        secret its posts are signed with: both shown this once (only the token's hash is kept). Raises
        FormInvalid."""
        return integration.create_client(session, admin, name, agency_id, valid_days, webhook_url)

    def api_client_view(self, session: Session, admin: Person, client_id: int) -> integration.ClientView:
        return integration.client(session, admin, client_id)

    def renew_api_token(self, session: Session, admin: Person, client_id: int,
                        valid_days: Any) -> integration.NewClient:
        """A new token for the client (shown this once); the old one stops working. FormInvalid, Forbidden."""
        return integration.renew_token(session, admin, client_id, valid_days)

    def set_api_webhook(self, session: Session, admin: Person, client_id: int, url: str) -> integration.NewClient:
        """Where the client's changes are posted (empty: nowhere), with a new secret shown once. FormInvalid."""
        return integration.set_webhook(session, admin, client_id, url)

    def revoke_api_client(self, session: Session, admin: Person, client_id: int) -> integration.ClientView:
        return integration.revoke_client(session, admin, client_id)

    def api_client(self, session: Session, token: str | None) -> integration.Client | None:
        """The active API client whose bearer token this is, or None."""
        return integration.client_for(session, token)

    def api_dossier(self, session: Session, client: integration.Client, code: str) -> dict[str, Any]:
        """A dossier of the client's agency by its code, as JSON-able data (NotFound otherwise)."""
        return integration.dossier(session, self.versions, client, code)

    def api_feed(self, session: Session, client: integration.Client, since: str | None,
                 cursor: str | None = None) -> dict[str, Any]:
        """The client's agency's dossiers by when their status last changed (FormInvalid: a bad time or cursor)."""
        return integration.feed(session, self.versions, client, integration.parse_since(since), cursor)

    def api_catalog(self, session: Session) -> list[dict[str, Any]]:
        return integration.catalog(session, self.versions)

    def diagram_on_disk(self, designer: Person, code: str) -> tuple[str, str]:
        """A procedure's diagram file as it is on disk now: (file name, XML)."""
        return designs.diagram_on_disk(designer, self.settings.root, code)

    def check_diagram(self, designer: Person, code: str, xml: str) -> list[Any]:
        """The problems of the procedure with this diagram in place of its file (nothing written)."""
        return designs.check_diagram(designer, self.settings.root, code, xml)

    def import_model(self, session: Session, designer: Person, archive: bytes, code: str | None = None) -> Any:
        """A spiff-arena process model (a ZIP archive) imported as a new procedure, kept only if valid
        (:func:`engine.designs.import_archive`; ImportRefused for what cannot be imported at all)."""
        return designs.import_archive(session, designer, self.settings.root, archive, code)

    def save_diagram(self, session: Session, designer: Person, code: str, xml: str) -> list[Any]:
        """Write the diagram to the procedure's file if it has no problem; else its problems (file unchanged)."""
        return designs.save_diagram(session, designer, self.settings.root, code, xml)
