"""Tables of the engine: parties, deployments, instances, the task projection, audit and incidents."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from . import clock


def utcnow() -> datetime:
    """Now, from the engine's clock (tests install a FrozenClock to move time)."""
    return clock.now()


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Store naive UTC, hand back aware UTC: SQLite keeps no zone, PostgreSQL must agree with it."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return None if value is None else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, _dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(8))  # ISO 3166-2 (ES-VC) or NUTS (ES52)
    erasmus_oid: Mapped[str | None] = mapped_column(String(9), unique=True)
    pic: Mapped[str | None] = mapped_column(String(9), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What a signature takes that the account does not prove (0008): usual position and place; pre-fill forms.
    position: Mapped[str | None] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(200))
    # The language the pages speak to this person (migration 1702); none: the browser's Accept-Language.
    language: Mapped[str | None] = mapped_column(String(8))

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="selectin")

    @property
    def organisation_ids(self) -> list[int]:
        return [m.organisation_id for m in self.memberships]


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")


class ApiToken(Base):
    """A bearer token; only its SHA-256 is kept, so a database leak yields no usable token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class FileBlob(Base):
    """Deployed file contents, stored once per distinct content."""

    __tablename__ = "file_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)


class Deployment(Base):
    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deployed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(20), default="api")


class ProcessDefinition(Base):
    """One version of one process key; its parsed spec is stored here once, not in every instance."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("key", "version"), UniqueConstraint("key", "content_hash"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    # Deferred: the serialized spec is read only when the spec cache misses, not on every instance load.
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    roles: Mapped[dict[str, Any]]
    user_tasks: Mapped[list[Any]]
    # Names of messages that start this process (message start events), for POST /api/messages.
    message_starts: Mapped[list[Any]] = mapped_column(default=list)
    # Roles whose tasks name their own party (``partyVariable``): bound after start, not at it (1703).
    per_task_roles: Mapped[list[Any]] = mapped_column(default=list)
    # What the process owner should read ({file, element_id, message, line}): slips, translations, ignored.
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    files: Mapped[list[DefinitionFile]] = relationship(lazy="select", order_by="DefinitionFile.filename")


class DecisionDefinition(Base):
    """One version of one DMN decision, deployed alone or with processes; ``POST /api/decisions/{key}/evaluate``."""

    __tablename__ = "decision_definitions"
    __table_args__ = (UniqueConstraint("key", "version"), UniqueConstraint("key", "content_sha256"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_sha256: Mapped[str] = mapped_column(ForeignKey("file_blobs.sha256"))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DefinitionFile(Base):
    __tablename__ = "definition_files"
    __table_args__ = (UniqueConstraint("definition_id", "filename"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(ForeignKey("file_blobs.sha256"))

    blob: Mapped[FileBlob] = relationship(lazy="joined")


class InstanceStatus:
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    ERROR = "error"
    TERMINATED = "terminated"
    SUSPENDED = "suspended"
    ALL = (RUNNING, WAITING, COMPLETED, ERROR, TERMINATED, SUSPENDED)
    ACTIVE = (RUNNING, WAITING)


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (
        # A filtered instance list, oldest (or newest) first, is one index range scan (migration 1707).
        Index("ix_instances_key_status", "process_key", "status", "created_at", "id"),
        Index("ix_instances_status_created", "status", "created_at", "id"),
        Index("ix_instances_created", "created_at", "id"),
        Index("ix_instances_completed", "completed_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(255))
    business_key: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16), default=InstanceStatus.RUNNING)
    state: Mapped[str] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    # Earliest pending timer of this instance (from wf.waiting_events()): due work is one indexed query.
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)

    definition: Mapped[ProcessDefinition] = relationship(lazy="joined")
    parties: Mapped[list[InstanceParty]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="InstanceParty.role"
    )

    # Optimistic locking: an UPDATE that finds another request's version raises StaleDataError.
    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def version(self) -> int:
        """The process definition version this instance runs on (it never changes by itself)."""
        return self.definition.version

    @validates("status")
    def _copy_status(self, _key: str, status: str) -> str:
        """Whoever sets the status sets the copy on the parties' rows too (migration 1708)."""
        for party in self.parties:
            party.status = status
        return status


class InstanceParty(Base):
    """Which organisation (or single user, e.g. the learner) plays a lane's role in one instance."""

    __tablename__ = "instance_parties"
    # Copies of the instance's key, status (kept on every set) and start: a party's filtered list is one scan.
    __table_args__ = (
        UniqueConstraint("instance_id", "role"),
        Index("ix_parties_org_key_status", "organisation_id", "process_key", "status", "created_at", "instance_id"),
        Index("ix_parties_org_status", "organisation_id", "status", "created_at", "instance_id"),
        Index("ix_parties_user_key_status", "user_id", "process_key", "status", "created_at", "instance_id"),
        Index("ix_parties_user_status", "user_id", "status", "created_at", "instance_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    process_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class TaskState:
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ALL = (READY, COMPLETED, CANCELLED)


class HumanTask(Base):
    """Projection of every user task, so task lists are indexed SQL and never deserialise instances."""

    __tablename__ = "tasks"
    __table_args__ = (
        # One party's page of ready tasks, oldest first, is one range scan (engine/tasks.py list_for).
        Index("ix_tasks_org_state", "organisation_id", "state", "created_at", "id"),
        Index("ix_tasks_user_state", "user_id", "state", "created_at", "id"),
        Index("ix_tasks_instance_state", "instance_id", "state"),
        Index("ix_tasks_state_due", "state", "due_at"),  # overdue work, most overdue first
        Index("ix_tasks_org_process", "organisation_id", "process_key"),  # the inbox's filter choices
        Index("ix_tasks_user_process", "user_id", "process_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    process_key: Mapped[str] = mapped_column(String(255))
    bpmn_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    form: Mapped[str | None] = mapped_column(String(255))
    instructions: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=TaskState.READY)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who in the organisation works on it (migration 1401): claimed by themself or assigned by a colleague.
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None]
    # Named people a script gave the task's lane to (spiff-arena ``lane_owners``), instead of the party.
    owners: Mapped[list[TaskOwner]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                   order_by="TaskOwner.user_id")

    @property
    def overdue(self) -> bool:
        """Ready and past its due date (by the engine's clock)."""
        return self.state == TaskState.READY and self.due_at is not None and self.due_at < utcnow()


class TaskOwner(Base):
    """One person a script named as owner of a task's lane (spiff-arena ``lane_owners``)."""

    __tablename__ = "task_owners"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class TaskComment(Base):
    """A note on a task for the colleagues who share it; append-only like the audit trail."""

    __tablename__ = "task_comments"
    __table_args__ = (Index("ix_task_comments_task", "task_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Append-only: the migration adds triggers that refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[str | None] = mapped_column(String(36))
    task_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    bpmn_id: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class JobStatus:
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(Base):
    """Due work for `ecvet worker` (timers, service tasks, messages, notifications), claimed with FOR
    UPDATE SKIP LOCKED and a lease; the version fences a worker whose lease expired: effects commit once."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"),
                                                    index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    lease_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": row_version}


class MessageSubscription(Base):
    """A message catch an instance is waiting for, kept in step with the engine on every save."""

    __tablename__ = "message_subscriptions"
    __table_args__ = (Index("ix_subscriptions_name", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    correlations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignalSubscription(Base):
    """A signal catch an instance is waiting for, kept in step with the engine on every save."""

    __tablename__ = "signal_subscriptions"
    __table_args__ = (Index("ix_signal_subscriptions_name", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataStoreItem(Base):
    """One entry of a BPMN data store (engine.datastores), shared by the instances of one process key."""

    __tablename__ = "data_store_items"
    __table_args__ = (UniqueConstraint("process_key", "store", "top_key", "second_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(255))
    store: Mapped[str] = mapped_column(String(255))
    top_key: Mapped[str] = mapped_column(String(255), default="")
    second_key: Mapped[str] = mapped_column(String(255), default="")
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingMessage(Base):
    """A message nobody waited for yet: kept until it expires, delivered when a matching catch appears."""

    __tablename__ = "pending_messages"
    __table_args__ = (Index("ix_pending_messages_name", "name", "delivered_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    correlation_keys: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source_instance_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    delivered_to: Mapped[str | None] = mapped_column(String(36))


class OutboxMessage(Base):
    """E-mails the platform sent or would send: the development mailbox and the delivery record."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_email: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    task_id: Mapped[str | None] = mapped_column(String(36))
    instance_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    transport: Mapped[str] = mapped_column(String(16), default="outbox")
    error: Mapped[str | None] = mapped_column(Text)


class SignInThrottle(Base):
    """Failed sign-ins per e-mail address typed (known or not, so the lock-out reveals no account):
    after too many, the address is locked for a while."""

    __tablename__ = "sign_in_throttle"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]


class DashboardSummary(Base):
    """The administrators' dashboard aggregates as the worker last computed them (engine/summaries.py)."""

    __tablename__ = "dashboard_summaries"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    computed_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]
