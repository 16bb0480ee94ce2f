"""Organisations, users, memberships and API tokens: who the parties are and how they sign in."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pycountry
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, throttle
from .errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from .models import ApiToken, Membership, Organisation, User, utcnow
from .pagination import Page, paginate
from .security import hash_password, new_token, token_digest, verify_password

OID_RE = re.compile(r"^E\d{8}$")
PIC_RE = re.compile(r"^\d{9}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


@dataclass(frozen=True)
class Actor:
    """The authenticated caller as the engine sees it: no Flask, just ids."""

    user_id: int
    email: str
    is_admin: bool = False
    organisation_ids: frozenset[int] = field(default_factory=frozenset)
    token_id: int | None = None

    @classmethod
    def of(cls, user: User, token_id: int | None = None) -> Actor:
        return cls(user.id, user.email, user.is_admin, frozenset(user.organisation_ids), token_id)


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only an administrator may do this")


# --- organisations -------------------------------------------------------------------------------

_NUTS = re.compile(r"^[A-Z]{2}[0-9A-Z]{1,3}$")
_NUTS_COUNTRY = {"GR": "EL"}  # NUTS writes Greece EL


def region_problem(country: str, region: str) -> str | None:
    """Why `region` is not a region of `country` (None when it is): an ISO 3166-2 subdivision code of
    that country (``ES-VC``) or a NUTS code starting with its NUTS country code (``ES52``)."""
    if "-" in region:
        subdivision = pycountry.subdivisions.get(code=region)  # type: ignore[no-untyped-call]
        if subdivision is None:
            return f"'{region}' is not an ISO 3166-2 subdivision code"
        if subdivision.country_code != country:
            return f"'{region}' is a subdivision of {subdivision.country_code}, not of {country}"
        return None
    if not _NUTS.match(region):
        return f"'{region}' is neither an ISO 3166-2 code (e.g. ES-VC) nor a NUTS code (e.g. ES52)"
    if not region.startswith(_NUTS_COUNTRY.get(country, country)):
        return f"the NUTS code '{region}' is not in {country}"
    return None


def create_organisation(
    session: Session,
    *,
    actor: Actor | None,
    name: str,
    country: str,
    erasmus_oid: str | None = None,
    pic: str | None = None,
    region: str | None = None,
) -> Organisation:
    """Register an organisation; `actor=None` only from trusted code (CLI, demo seed). `region` is where
    it sits within its country (ISO 3166-2 or NUTS), which national models and registries may depend on."""
    if actor is not None:
        require_admin(actor)
    errors: dict[str, list[str]] = {}
    country = (country or "").upper()
    if pycountry.countries.get(alpha_2=country) is None:
        errors["country"] = [f"'{country}' is not an ISO 3166-1 alpha-2 country code"]
    region = (region or "").strip().upper() or None
    if region and "country" not in errors and (problem := region_problem(country, region)):
        errors["region"] = [problem]
    if erasmus_oid and not OID_RE.match(erasmus_oid):
        errors["erasmus_oid"] = ["An Erasmus+ OID is 'E' followed by 8 digits"]
    if pic and not PIC_RE.match(pic):
        errors["pic"] = ["A PIC is 9 digits"]
    if not name.strip():
        errors["name"] = ["A name is required"]
    if errors:
        raise Invalid("The organisation is not valid", errors=errors)
    org = Organisation(name=name.strip(), country=country, region=region, erasmus_oid=erasmus_oid or None,
                       pic=pic or None)
    session.add(org)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("An organisation with this OID or PIC already exists") from exc
    audit.record(session, actor_id=actor.user_id if actor else None, action="organisation.created",
                 organisation_id=org.id,
                 name=org.name)
    return org


def get_organisation(session: Session, *, actor: Actor, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None or not (actor.is_admin or organisation_id in actor.organisation_ids):
        raise NotFound(f"No organisation {organisation_id}")
    return org


def list_organisations(session: Session, *, actor: Actor, cursor: str | None, limit: int) -> Page[Organisation]:
    """Admins see every organisation; a member sees the organisations they belong to."""
    stmt = select(Organisation)
    if not actor.is_admin:
        stmt = stmt.where(Organisation.id.in_(actor.organisation_ids or {-1}))
    return paginate(session, stmt, [Organisation.id], cursor=cursor, limit=limit)


def directory(session: Session, *, actor: Actor, limit: int = 1000) -> list[Organisation]:
    """Every registered organisation by country and name, for choosing a partner or a competent
    institution: names, countries and Erasmus+ identifiers are public (as in the EWP registry), so any
    signed-in member reads them; members, processes and records stay private to their parties."""
    del actor  # authenticated by the caller; the directory holds no one's work
    return list(session.scalars(select(Organisation).order_by(Organisation.country, Organisation.name,
                                                              Organisation.id).limit(limit)))


# --- users and memberships ----------------------------------------------------------------------

def create_user(
    session: Session,
    *,
    actor: Actor | None,
    email: str,
    name: str,
    password: str,
    is_admin: bool = False,
    organisation_ids: list[int] | None = None,
    position: str | None = None,
    place: str | None = None,
) -> User:
    """Create a user; `actor=None` only from the trusted CLI (`ecvet create-admin`)."""
    if actor is not None:
        require_admin(actor)
    email = (email or "").strip().lower()
    errors: dict[str, list[str]] = {}
    if not EMAIL_RE.match(email):
        errors["email"] = ["Not a valid e-mail address"]
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = [f"A password needs at least {MIN_PASSWORD} characters"]
    unknown = [i for i in organisation_ids or [] if session.get(Organisation, i) is None]
    if unknown:
        errors["organisation_ids"] = [f"No organisation {i}" for i in unknown]
    profile = _profile_fields({"position": position, "place": place}, errors)
    if errors:
        raise Invalid("The user is not valid", errors=errors)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"A user with e-mail {email} already exists")
    user = User(email=email, name=name.strip() or email, password_hash=hash_password(password), is_admin=is_admin,
                **profile)
    session.add(user)
    session.flush()
    audit.record(session, actor_id=actor.user_id if actor else None, action="user.created", user_id=user.id,
                 email=email, is_admin=is_admin)
    for org_id in organisation_ids or []:
        add_member(session, actor=actor, organisation_id=org_id, user_id=user.id)
    session.flush()
    session.refresh(user, ["memberships"])
    return user


PROFILE_FIELDS = ("position", "place", "language")
PROFILE_MAX = 200
#: Languages the pages speak (their message catalogues, api/locale); a profile names one of them or none.
LANGUAGES = ("en", "de", "es", "nl", "fr", "it")


def _profile_fields(values: dict[str, object], errors: dict[str, list[str]]) -> dict[str, str | None]:
    """Position and place as stored: trimmed text of at most 200 characters, empty meaning none; the
    language one of :data:`LANGUAGES` or none."""
    out: dict[str, str | None] = {}
    for name in PROFILE_FIELDS:
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = ["A text"]
            continue
        text = (value or "").strip()
        if len(text) > PROFILE_MAX:
            errors[name] = [f"At most {PROFILE_MAX} characters"]
        elif name == "language" and text and text not in LANGUAGES:
            errors[name] = [f"One of {', '.join(LANGUAGES)}"]
        out[name] = text or None
    return out


def update_profile(session: Session, *, actor: Actor, user_id: int, changes: dict[str, object]) -> User:
    """Change the position and place a person signs in and the language of the pages (yourself, or anyone
    for an admin). Name and
    e-mail are not part of it: a signature takes them from the account, so they change only with it."""
    user = get_user(session, actor=actor, user_id=user_id)
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(changes) - set(PROFILE_FIELDS))
    for name in unknown:
        errors[name] = [f"Not part of the profile; it holds {', '.join(PROFILE_FIELDS)}"]
    profile = _profile_fields({k: v for k, v in changes.items() if k in PROFILE_FIELDS}, errors)
    if errors:
        raise Invalid("The profile is not valid", errors=errors)
    old = {name: getattr(user, name) for name in changes}
    for name in changes:
        setattr(user, name, profile[name])
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="user.profile_changed", user_id=user.id,
                 old=old, new={name: profile[name] for name in changes})
    return user


def get_user(session: Session, *, actor: Actor, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not (actor.is_admin or actor.user_id == user_id):
        raise NotFound(f"No user {user_id}")
    return user


def list_users(session: Session, *, actor: Actor, cursor: str | None, limit: int) -> Page[User]:
    require_admin(actor)
    return paginate(session, select(User), [User.id], cursor=cursor, limit=limit)


def add_member(session: Session, *, actor: Actor | None, organisation_id: int, user_id: int) -> Membership:
    if actor is not None:
        require_admin(actor)
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(f"No organisation {organisation_id}")
    if session.get(User, user_id) is None:
        raise Invalid("Unknown user", errors={"user_id": [f"No user {user_id}"]})
    existing = session.scalar(
        select(Membership).where(Membership.organisation_id == organisation_id, Membership.user_id == user_id)
    )
    if existing is not None:
        return existing
    membership = Membership(organisation_id=organisation_id, user_id=user_id)
    session.add(membership)
    session.flush()
    audit.record(session, actor_id=actor.user_id if actor else None, action="membership.added",
                 organisation_id=organisation_id, user_id=user_id)
    return membership


def remove_member(session: Session, *, actor: Actor, organisation_id: int, user_id: int) -> None:
    require_admin(actor)
    membership = session.scalar(
        select(Membership).where(Membership.organisation_id == organisation_id, Membership.user_id == user_id)
    )
    if membership is None:
        raise NotFound(f"User {user_id} is not a member of organisation {organisation_id}")
    session.delete(membership)
    audit.record(session, actor_id=actor.user_id, action="membership.removed",
                 organisation_id=organisation_id, user_id=user_id)


def list_members(session: Session, *, actor: Actor, organisation_id: int) -> list[User]:
    get_organisation(session, actor=actor, organisation_id=organisation_id)
    stmt = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id)
        .order_by(User.id)
    )
    return list(session.scalars(stmt))


# --- authentication -----------------------------------------------------------------------------

def authenticate(session: Session, *, email: str, password: str) -> User:
    """Check credentials; repeated failures lock the address for a while (429), for known and unknown
    addresses alike. Failures and lock-outs are kept in the audit trail even though the call fails."""
    address = (email or "").strip().lower()[:254]
    throttle.check(session, address)
    user = session.scalar(select(User).where(User.email == address))
    ok = verify_password(user.password_hash if user else None, password or "")
    if user is None or not ok or not user.is_active:
        locked = throttle.record_failure(session, address)
        audit.record(session, actor_id=None, action="signin.failed", email=address, locked=locked)
        error = Unauthorized("E-mail or password is wrong")
        error.keep_changes = True
        raise error
    throttle.record_success(session, address)
    return user


def issue_token(session: Session, *, email: str, password: str, ttl_days: int = 30) -> tuple[str, ApiToken]:
    """Exchange credentials for a bearer token; the clear token is returned once and never stored."""
    user = authenticate(session, email=email, password=password)
    token = new_token()
    row = ApiToken(
        user_id=user.id,
        token_hash=token_digest(token),
        prefix=token[:12],
        expires_at=utcnow() + timedelta(days=ttl_days),
    )
    session.add(row)
    session.flush()
    audit.record(session, actor_id=user.id, action="token.issued", token_id=row.id)
    return token, row


# Built once: every request runs these, and building SQL expressions costs more than running them.
# One statement per request: the token, its user and the user's organisations (one row per membership).
_TOKEN_LOOKUP = (
    select(ApiToken.id, User.id, User.email, User.is_admin, Membership.organisation_id)
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(Membership, Membership.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("digest"),
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > bindparam("now", type_=ApiToken.__table__.c.expires_at.type),
        User.is_active.is_(True),
    )
)


def actor_for_token(session: Session, token: str) -> Actor:
    """Resolve a bearer token on every request: one indexed query, no ORM objects built."""
    rows = session.execute(_TOKEN_LOOKUP, {"digest": token_digest(token), "now": utcnow()}).all()
    if not rows:
        raise Unauthorized("The bearer token is unknown, expired or revoked")
    token_id, user_id, email, is_admin, _org = rows[0]
    orgs = frozenset(org for *_rest, org in rows if org is not None)
    return Actor(user_id, email, bool(is_admin), orgs, token_id)


def revoke_token(session: Session, *, actor: Actor, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or not (actor.is_admin or row.user_id == actor.user_id):
        raise NotFound(f"No token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, actor_id=actor.user_id, action="token.revoked", token_id=row.id)
    return row


def list_tokens(session: Session, *, actor: Actor) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id)
    return list(session.scalars(stmt))


# --- browser sessions (pages) ---------------------------------------------------------------------

@dataclass(frozen=True)
class SignedIn:
    """Who a page is for: the actor plus what the navigation bar shows (name, organisations)."""

    actor: Actor
    name: str
    organisations: tuple[tuple[int, str], ...]
    fingerprint: str
    #: The language chosen on the profile (None: the browser decides).
    language: str | None = None


def session_fingerprint(user: User) -> str:
    """Changes when the password does: a signed session cookie issued before a password change stops working."""
    return token_digest(f"session:{user.id}:{user.password_hash}")[:24]


def _signed_in(session: Session, user: User) -> SignedIn:
    ids = sorted(user.organisation_ids)
    names = {oid: name for oid, name in session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids or [-1])))}
    return SignedIn(Actor.of(user), user.name, tuple((i, names.get(i, f"Organisation {i}")) for i in ids),
                    session_fingerprint(user), user.language)


def sign_in(session: Session, *, email: str, password: str) -> SignedIn:
    """Check credentials for a browser session (same lock-out as tokens) and audit the sign-in."""
    user = authenticate(session, email=email, password=password)
    audit.record(session, actor_id=user.id, action="session.signed_in")
    return _signed_in(session, user)


def signed_in_user(session: Session, *, user_id: int, fingerprint: str) -> SignedIn:
    """Resolve the user of a session cookie; Unauthorized when deactivated or the password changed since."""
    user = session.get(User, user_id)
    if user is None or not user.is_active or session_fingerprint(user) != fingerprint:
        raise Unauthorized("Your session has ended; sign in again")
    return _signed_in(session, user)


def sign_out(session: Session, *, actor: Actor) -> None:
    audit.record(session, actor_id=actor.user_id, action="session.signed_out")
