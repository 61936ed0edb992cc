"""User accounts: creation with a checked scope, argon2 passwords, login slowed after failures, audit log.

Roles (DESIGN.md sections 1 and 7): ``admin`` and ``referent`` see the whole
territory; a ``chef_secteur`` sees his sectors, given as sector *codes* of a CSP
(versions of a sector change, its code stays); a ``maire`` sees his commune only;
a ``partenaire`` has no scope yet. Every account write and every login attempt is
written to ``audit_log`` (append-only). No Flask here: web/auth.py and web/access.py
build on this module.

Examples
--------
>>> new = create_user(engine, "Admin@Example.fr", "admin", display_name="Anne Admin")
>>> new.user.email, new.user.role, len(new.password) >= MIN_PASSWORD_LENGTH
('admin@example.fr', 'admin', True)
>>> authenticate(engine, "admin@example.fr", new.password).scope.sees_everything
True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Collection, Iterable
from typing import NamedTuple

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from geo.db.audit import audit
from geo.db.models import USER_ROLES
from geo.db.queries import named_query
from geo.db.unit_of_work import transaction
from geo.errors import PsqError
from geo.settings import local_today

ROLES = USER_ROLES
#: Roles that see every CSP, sector and commune.
GLOBAL_ROLES = ("admin", "referent")
MIN_PASSWORD_LENGTH = 12
#: Failed logins in a row that cost nothing; after them each failure doubles the account's wait
#: before its next log-in, from FIRST_THROTTLE up to MAX_THROTTLE (:func:`throttle_delay`).
FREE_FAILURES = 5
FIRST_THROTTLE = dt.timedelta(seconds=30)
MAX_THROTTLE = dt.timedelta(minutes=10)
#: A chief sees a commune when one of his sectors covers more than this share of it
#: (so that slivers along a border drawn from another source do not count).
COMMUNE_SHARE = 0.01

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_DUMMY_HASH: str | None = None


# -- errors --------------------------------------------------------------------
class AccountError(PsqError, ValueError):
    """An account that cannot be created as asked; the message is one sentence."""


class UnknownRoleError(AccountError):
    pass


class InvalidEmailError(AccountError):
    pass


class DuplicateEmailError(AccountError):
    pass


class ScopeError(AccountError):
    """A scope missing, unknown (sector code, CSP, commune) or given to a role without one."""


class WeakPasswordError(AccountError):
    pass


class UnknownUserError(AccountError):
    pass


class LoginRefused(Exception):
    """A login that failed; ``reason`` (``"bad_credentials"`` or ``"throttled"``) is for the audit log.

    The message is the same for every reason: it never says whether the address exists.
    """

    def __init__(self, reason: str, throttled_until: dt.datetime | None = None):
        self.reason = reason
        self.throttled_until = throttled_until
        super().__init__("Wrong email or password, or too many recent attempts.")


# -- what a user may see -----------------------------------------------------------
class SectorRef(NamedTuple):
    """A sector of a chief's scope: its CSP (id and name) and its code."""

    csp_id: int
    csp_name: str
    code: str


@dataclasses.dataclass(frozen=True)
class UserScope:
    """What a user may see: his role, and his sectors (a chief) or his commune (a mayor).

    Examples
    --------
    >>> chief = UserScope("chef_secteur", sectors=(SectorRef(1, "CSP Belfort", "BEL-CENTRE"),))
    >>> chief.sector_codes, chief.csp_ids, chief.csp_names
    (('BEL-CENTRE',), (1,), ('CSP Belfort',))
    >>> chief.can_see_sector(1, "BEL-CENTRE"), chief.can_see_sector(1, "BEL-GLACIS"), chief.can_see_csp("CSP Belfort")
    (True, False, True)
    >>> mayor = UserScope("maire", commune_insee="90010")
    >>> mayor.can_see_csp("CSP Belfort"), mayor.sees_everything
    (False, False)
    >>> UserScope("referent").can_see_sector(7, "ANY")
    True
    """

    role: str
    sectors: tuple[SectorRef, ...] = ()
    commune_insee: str | None = None
    #: A partner's organisation (its id), whose GPOs, problems and actions he sees.
    organisation_id: int | None = None
    #: A référent's record (its id): the communes he covers and the audit requests assigned to him.
    referent_id: int | None = None

    @property
    def sector_keys(self) -> tuple[str, ...]:
        """``'csp_id:code'`` of each sector: how the queries and the row-level security name them."""
        return tuple(f"{s.csp_id}:{s.code}" for s in self.sectors)

    @property
    def sector_codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.sectors)

    @property
    def csp_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(s.csp_id for s in self.sectors))

    @property
    def csp_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.csp_name for s in self.sectors))

    @property
    def sees_everything(self) -> bool:
        return self.role in GLOBAL_ROLES

    def can_see_csp(self, csp: int | str) -> bool:
        """A CSP given by id or by name: every one for admin and referent, his own for a chief."""
        if self.sees_everything:
            return True
        return csp in (self.csp_ids if isinstance(csp, int) else self.csp_names)

    def can_see_sector(self, csp_id: int, code: str) -> bool:
        return self.sees_everything or any(s.csp_id == csp_id and s.code == code for s in self.sectors)


def can_see_commune(bind: Engine | Connection, scope: UserScope, insee: str) -> bool:
    """Whether the scope covers a commune (:func:`visible_communes` of that one code).

    Admin and referent: every commune; mayor: his own; chief: the communes of which
    one of his current sectors covers more than ``COMMUNE_SHARE``; partner: none.

    Examples
    --------
    >>> can_see_commune(engine, UserScope("maire", commune_insee="90010"), "90010")
    True
    >>> can_see_commune(engine, UserScope("maire", commune_insee="90010"), "90011")
    False
    """
    if scope.sees_everything:
        return True
    if scope.role == "maire":
        return insee == scope.commune_insee
    return bool(visible_communes(bind, scope, only=insee))


def visible_communes(bind: Engine | Connection, scope: UserScope, only: str | None = None) -> list[tuple[str, str]]:
    """(INSEE code, name) of the communes the scope may open, by name (``only``: that one code, if visible)."""
    if scope.role not in ("admin", "referent", "maire", "chef_secteur") or (
            scope.role == "chef_secteur" and not scope.sectors):
        return []
    params = {"only": only, "all": scope.sees_everything,
              "mayor": scope.commune_insee if scope.role == "maire" else None,
              "csp_ids": [s.csp_id for s in scope.sectors] if scope.role == "chef_secteur" else [],
              "codes": [s.code for s in scope.sectors] if scope.role == "chef_secteur" else [],
              "share": COMMUNE_SHARE, "today": local_today()}
    with transaction(bind) as conn:
        return [tuple(r) for r in conn.execute(named_query("visible_communes"), params)]


# -- accounts --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Account:
    """A user as the app sees him (never his password hash)."""

    id: int
    email: str
    role: str
    display_name: str | None
    active: bool
    scope: UserScope
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    throttled_until: dt.datetime | None
    #: Changes with the password and at each log-out: web sessions carry it, so that both end the old sessions.
    credential_stamp: str = dataclasses.field(repr=False, default="")

    @property
    def label(self) -> str:
        return self.display_name or self.email


@dataclasses.dataclass(frozen=True)
class NewUser:
    """A created user, and the password generated for him (None when one was given)."""

    user: Account
    password: str | None


def normalize_email(email: str) -> str:
    """Addresses are stored and compared in lower case, without surrounding spaces.

    >>> normalize_email("  Jean.Dupont@Interieur.Gouv.FR ")
    'jean.dupont@interieur.gouv.fr'
    """
    return (email or "").strip().lower()


def generate_password() -> str:
    """A random password of 20 URL-safe characters (120 bits).

    >>> len(generate_password()), generate_password() != generate_password()
    (20, True)
    """
    return secrets.token_urlsafe(15)


def check_password(password: str) -> None:
    """Refuse a password too short to resist guessing.

    >>> check_password("court")
    Traceback (most recent call last):
    ...
    geo.accounts.users.WeakPasswordError: The password is too short: 12 characters at least.
    """
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"The password is too short: {MIN_PASSWORD_LENGTH} characters at least.")


def hash_password(password: str) -> str:
    """An argon2id hash (PHC string) of the password; each call salts anew.

    >>> h = hash_password("correct horse battery")
    >>> h.startswith("$argon2id$"), verify_password(h, "correct horse battery"), verify_password(h, "wrong")
    (True, True, False)
    """
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(bind: Engine | Connection, email: str, role: str, password: str | None = None, *,
                sectors: Iterable[str] = (), csp: str | None = None, commune: str | None = None,
                organisation: str | None = None, referent: str | None = None, display_name: str | None = None,
                actor_id: int | None = None, ip: str | None = None) -> NewUser:
    """Create a user with his scope, after checking everything; write ``user.create`` in the audit log.

    Parameters
    ----------
    bind : Engine or Connection
        An engine (one transaction of its own) or a connection in the caller's transaction.
    email : str
        The login; stored in lower case, unique.
    role : str
        One of ``ROLES``.
    password : str, optional
        At least ``MIN_PASSWORD_LENGTH`` characters; default: a random one, returned.
    sectors : iterable of str
        Sector codes, for a ``chef_secteur`` (required for him, refused for the others).
    csp : str, optional
        Name of the CSP of those codes; needed only when a code exists in several CSPs.
    commune : str, optional
        INSEE code of a ``maire``'s commune (required for him, refused for the others).
    organisation : str, optional
        Name of a ``partenaire``'s organisation (table ``organisation``; refused for the others).
    referent : str, optional
        Name of a ``referent``'s record (table ``referent``, ``psq load referents``; refused for the others).
    display_name : str, optional
        The name shown in the app.
    actor_id, ip : optional
        Who creates the account (None: the command line), from where; for the audit log.

    Returns
    -------
    NewUser
        The account, and the generated password (None when ``password`` was given).

    Raises
    ------
    AccountError
        ``UnknownRoleError``, ``InvalidEmailError``, ``DuplicateEmailError``,
        ``ScopeError`` or ``WeakPasswordError``, with a one-sentence message. Nothing is
        written then.

    Examples
    --------
    >>> create_user(engine, "chef@example.fr", "chef_secteur", "un mot de passe long")
    Traceback (most recent call last):
    ...
    geo.accounts.users.ScopeError: A chef_secteur needs at least one sector code.
    >>> create_user(engine, "maire@example.fr", "maire", commune="99999")
    Traceback (most recent call last):
    ...
    geo.accounts.users.ScopeError: Unknown commune: no commune has the INSEE code 99999.
    >>> new = create_user(engine, "partenaire@example.fr", "partenaire", "un mot de passe long")
    >>> new.password is None, new.user.scope
    (True, UserScope(role='partenaire', sectors=(), commune_insee=None, organisation_id=None, referent_id=None))
    """
    if role not in ROLES:
        raise UnknownRoleError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    email = normalize_email(email)
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidEmailError(f"{email!r} is not a valid email address.")
    generated = None
    if password is None:
        password = generated = generate_password()
    check_password(password)
    sectors = list(dict.fromkeys(code.strip() for code in sectors if code and code.strip()))
    commune = commune.strip() if commune else None
    organisation = organisation.strip() if organisation else None
    _check_scope_shape(role, sectors, csp, commune)
    if organisation and role != "partenaire":
        raise ScopeError(f"Only a partenaire belongs to an organisation, not a {role}.")
    referent = referent.strip() if referent else None
    if referent and role != "referent":
        raise ScopeError(f"Only a referent has a référent's record, not a {role}.")
    with transaction(bind) as conn:
        refs = _resolve_sectors(conn, sectors, csp) if sectors else []
        organisation_id = _organisation_id(conn, organisation) if organisation else None
        referent_id = _referent_id(conn, referent) if referent else None
        if commune and conn.execute(sa.text("SELECT 1 FROM commune WHERE insee = :i"), {"i": commune}).first() is None:
            raise ScopeError(f"Unknown commune: no commune has the INSEE code {commune}.")
        if conn.execute(sa.text("SELECT 1 FROM app_user WHERE email = :e"), {"e": email}).first() is not None:
            raise DuplicateEmailError(f"A user with the email {email} already exists.")
        try:
            with conn.begin_nested():
                user_id = conn.execute(sa.text(
                    "INSERT INTO app_user (email, password_hash, role, display_name) "
                    "VALUES (:email, :hash, :role, :name) RETURNING id"),
                    {"email": email, "hash": hash_password(password), "role": role,
                     "name": (display_name or "").strip() or None}).scalar_one()
        except IntegrityError as exc:  # created meanwhile by someone else
            raise DuplicateEmailError(f"A user with the email {email} already exists.") from exc
        if refs:
            conn.execute(sa.text("INSERT INTO user_sector (user_id, csp_id, sector_code) VALUES (:u, :c, :s)"),
                         [{"u": user_id, "c": r.csp_id, "s": r.code} for r in refs])
        if commune:
            conn.execute(sa.text("INSERT INTO user_commune (user_id, insee) VALUES (:u, :i)"),
                         {"u": user_id, "i": commune})
        if organisation_id is not None:
            conn.execute(sa.text("INSERT INTO user_organisation (user_id, organisation_id) VALUES (:u, :o)"),
                         {"u": user_id, "o": organisation_id})
        if referent_id is not None:
            conn.execute(sa.text("INSERT INTO user_referent (user_id, referent_id) VALUES (:u, :r)"),
                         {"u": user_id, "r": referent_id})
        details = {"role": role, "sectors": [f"{r.csp_name}/{r.code}" for r in refs], "commune": commune,
                   "organisation": organisation, "referent": referent,
                   "generated_password": generated is not None}
        audit(conn, "user.create", user_id=actor_id, target=email, details=details, ip=ip)
        user = _load(conn, "u.id = :id", {"id": user_id})[0]
    return NewUser(user, generated)


def _check_scope_shape(role: str, sectors: list[str], csp: str | None, commune: str | None) -> None:
    if role == "chef_secteur":
        if not sectors:
            raise ScopeError("A chef_secteur needs at least one sector code.")
        if commune:
            raise ScopeError("A chef_secteur's scope is sectors, not a commune.")
    elif role == "maire":
        if not commune:
            raise ScopeError("A maire needs the INSEE code of his commune.")
        if sectors or csp:
            raise ScopeError("A maire's scope is his commune, not sectors.")
    elif sectors or csp or commune:
        raise ScopeError(f"The role {role} has no scope: give it no sector, CSP or commune.")


def _organisation_id(conn: Connection, name: str) -> int:
    found = conn.execute(sa.text("SELECT id FROM organisation WHERE lower(name) = lower(:n)"), {"n": name}).scalar()
    if found is None:
        raise ScopeError(f"Unknown organisation {name!r}: load the GPOs' partners first.")
    return found


def _referent_id(conn: Connection, name: str) -> int:
    found = conn.execute(sa.text("SELECT id FROM referent WHERE lower(name) = lower(:n)"), {"n": name}).scalar()
    if found is None:
        raise ScopeError(f"Unknown référent {name!r}: load the référents first (psq load referents).")
    return found


def _resolve_sectors(conn: Connection, codes: list[str], csp: str | None) -> list[SectorRef]:
    if csp is not None and conn.execute(sa.text("SELECT 1 FROM csp WHERE name = :n"), {"n": csp}).first() is None:
        raise ScopeError(f"Unknown CSP {csp!r}.")
    rows = conn.execute(sa.text("""
        SELECT DISTINCT c.id, c.name, s.code
        FROM sector s JOIN csp c ON c.id = s.csp_id
        WHERE s.code = ANY(:codes) AND (CAST(:csp AS text) IS NULL OR c.name = :csp)
          AND (s.valid_to IS NULL OR s.valid_to > CAST(:today AS date))  -- in force today or later
        ORDER BY c.name"""), {"codes": codes, "csp": csp, "today": local_today()}).all()
    refs = []
    for code in codes:
        found = [SectorRef(r.id, r.name, r.code) for r in rows if r.code == code]
        if not found:
            where = f" of {csp}" if csp else ""
            raise ScopeError(f"Unknown sector code {code!r}: no current sector{where} has it.")
        if len(found) > 1:
            names = ", ".join(r.csp_name for r in found)
            raise ScopeError(f"The sector code {code!r} exists in several CSPs ({names}): name the CSP.")
        refs.append(found[0])
    return refs


def get_user(bind: Engine | Connection, user_id: int) -> Account | None:
    """The account with this id, or None.

    >>> new = create_user(engine, "referent@example.fr", "referent", "un mot de passe long")
    >>> get_user(engine, new.user.id).email, get_user(engine, 12345)
    ('referent@example.fr', None)
    """
    with transaction(bind) as conn:
        found = _load(conn, "u.id = :id", {"id": user_id})
    return found[0] if found else None


def list_users(bind: Engine | Connection) -> list[Account]:
    """Every account, by role then email.

    >>> _ = create_user(engine, "b@example.fr", "partenaire", "un mot de passe long")
    >>> _ = create_user(engine, "a@example.fr", "admin", "un mot de passe long")
    >>> [(u.role, u.email) for u in list_users(engine)]
    [('admin', 'a@example.fr'), ('partenaire', 'b@example.fr')]
    """
    with transaction(bind) as conn:
        return _load(conn, "true", {}, order="array_position(CAST(:roles AS text[]), u.role), u.email",
                     extra={"roles": list(ROLES)})


def _load(conn: Connection, where: str, params: dict, order: str = "u.id", extra: dict | None = None,
          lock: bool = False) -> list[Account]:
    rows = conn.execute(sa.text(f"""
        SELECT u.id, u.email, u.role, u.display_name, u.active, u.created_at, u.last_login_at, u.throttled_until,
               u.password_hash, u.sessions_ended_at,
               COALESCE((SELECT json_agg(json_build_array(c.id, c.name, us.sector_code) ORDER BY c.name, us.sector_code)
                         FROM user_sector us JOIN csp c ON c.id = us.csp_id WHERE us.user_id = u.id), '[]') AS sectors,
               (SELECT min(uc.insee) FROM user_commune uc WHERE uc.user_id = u.id) AS commune,
               (SELECT uo.organisation_id FROM user_organisation uo WHERE uo.user_id = u.id) AS organisation_id,
               (SELECT ur.referent_id FROM user_referent ur WHERE ur.user_id = u.id) AS referent_id
        FROM app_user u WHERE {where} ORDER BY {order}{" FOR UPDATE OF u" if lock else ""}"""),
        {**params, **(extra or {})}).mappings().all()
    return [_account(r) for r in rows]


def _account(row) -> Account:
    scope = UserScope(row["role"], tuple(SectorRef(*s) for s in row["sectors"]), row["commune"],
                      row["organisation_id"], row["referent_id"])
    # A new password or a log-out (sessions_ended_at) changes the stamp: the sessions opened before end.
    ended = row["sessions_ended_at"].isoformat() if row["sessions_ended_at"] else ""
    stamp = hashlib.sha256(f"{row['password_hash']}|{ended}".encode()).hexdigest()[:16]
    return Account(row["id"], row["email"], row["role"], row["display_name"], row["active"], scope,
                   row["created_at"], row["last_login_at"], row["throttled_until"], stamp)


def end_sessions(conn: Connection, user_id: int) -> None:
    """End every web session of the account opened until now (log-out): their stamp no longer matches."""
    conn.execute(sa.text("UPDATE app_user SET sessions_ended_at = clock_timestamp() WHERE id = :id"), {"id": user_id})


# -- login ----------------------------------------------------------------------------
def throttle_delay(failures: int) -> dt.timedelta:
    """How long an account's log-in waits after ``failures`` failures in a row: growing, bounded.

    The first ``FREE_FAILURES`` cost nothing; each later one doubles the wait, up to
    ``MAX_THROTTLE``, so that a guesser gets a few tries an hour while the owner is kept
    waiting minutes at most (and not at all in a browser he logged in from before).

    >>> [int(throttle_delay(n).total_seconds()) for n in (4, 5, 6, 7, 9, 10, 50)]
    [0, 0, 30, 60, 240, 480, 600]
    """
    if failures <= FREE_FAILURES:
        return dt.timedelta(0)
    return min(FIRST_THROTTLE * 2 ** min(failures - FREE_FAILURES - 1, 30), MAX_THROTTLE)


def authenticate(bind: Engine | Connection, email: str, password: str, *, ip: str | None = None,
                 known_accounts: Collection[int] = ()) -> Account:
    """The account whose email and password these are, or ``LoginRefused``.

    After ``FREE_FAILURES`` failures in a row, the account's log-in is slowed: no attempt
    is accepted before ``throttled_until`` (:func:`throttle_delay`), except from a browser
    where its owner logged in before (``known_accounts``: the ids of the accounts that
    browser's signed mark names, checked by the caller). It is never locked: the owner keeps his browser,
    an admin can lift the wait (:func:`lift_throttle`), and it ends by itself.

    Every attempt costs one argon2 verification, whatever the case (unknown address,
    wrong password, slowed account), so that the time of the answer tells nothing; the
    reason is in the audit log only (``login.success``, ``login.failure``,
    ``login.throttled``; ``user.throttle`` when a failure starts or lengthens a wait). A
    success resets the count. Given an engine, the failure is committed before
    ``LoginRefused`` is raised; given a connection, the caller must commit it.

    Examples
    --------
    >>> _ = create_user(engine, "agent@example.fr", "admin", "un mot de passe long")
    >>> authenticate(engine, "Agent@Example.fr", "un mot de passe long").email
    'agent@example.fr'
    >>> reasons = []
    >>> for attempt in range(FREE_FAILURES + 1):
    ...     try:
    ...         authenticate(engine, "agent@example.fr", "pas le bon")
    ...     except LoginRefused as refused:
    ...         reasons.append(refused.reason)
    >>> reasons
    ['bad_credentials', 'bad_credentials', 'bad_credentials', 'bad_credentials', 'bad_credentials', 'throttled']
    >>> authenticate(engine, "agent@example.fr", "un mot de passe long")
    Traceback (most recent call last):
    ...
    geo.accounts.users.LoginRefused: Wrong email or password, or too many recent attempts.
    >>> agent = get_user(engine, 1)
    >>> authenticate(engine, "agent@example.fr", "un mot de passe long", known_accounts=[agent.id]).email
    'agent@example.fr'
    """
    email = normalize_email(email)
    with transaction(bind) as conn:
        found = _load(conn, "u.email = :e", {"e": email}, lock=True) if email else []
        if not found:
            verify_password(_dummy_hash(), password or "")
            audit(conn, "login.failure", target=email, details={"reason": "unknown email"}, ip=ip)
            refused = LoginRefused("bad_credentials")
        else:
            user = found[0]
            refused = _check_login(conn, user, password or "", ip, user.id in known_accounts)
            if refused is None:
                return _load(conn, "u.id = :id", {"id": user.id})[0]
    raise refused


def _check_login(conn: Connection, user: Account, password: str, ip: str | None, known: bool) -> LoginRefused | None:
    """None for a success (recorded), else the refusal (recorded)."""
    now, password_hash, failures = conn.execute(sa.text(
        "SELECT now(), password_hash, failed_logins FROM app_user WHERE id = :id"), {"id": user.id}).one()
    right = verify_password(password_hash, password)  # even when slowed: the same time for every answer
    if user.throttled_until is not None and user.throttled_until > now and not known:
        audit(conn, "login.throttled", user_id=user.id, target=user.email,
              details={"throttled_until": user.throttled_until.isoformat()}, ip=ip)
        return LoginRefused("throttled", user.throttled_until)
    if not right:
        return _record_failure(conn, user, failures + 1, now, ip, known)
    if not user.active:
        audit(conn, "login.failure", user_id=user.id, target=user.email, details={"reason": "inactive"}, ip=ip)
        return LoginRefused("bad_credentials")
    new_hash = hash_password(password) if _HASHER.check_needs_rehash(password_hash) else password_hash
    conn.execute(sa.text(
        "UPDATE app_user SET failed_logins = 0, throttled_until = NULL, last_login_at = now(), "
        "password_hash = :h WHERE id = :id"), {"id": user.id, "h": new_hash})
    audit(conn, "login.success", user_id=user.id, target=user.email,
          details={"known_browser": True} if known else None, ip=ip)
    return None


def _record_failure(conn: Connection, user: Account, failures: int, now: dt.datetime, ip: str | None,
                    known: bool) -> LoginRefused:
    audit(conn, "login.failure", user_id=user.id, target=user.email,
          details={"reason": "wrong password", "failures": failures, "known_browser": known}, ip=ip)
    delay = throttle_delay(failures)
    until = now + delay if delay else None
    conn.execute(sa.text("UPDATE app_user SET failed_logins = :n, throttled_until = :t WHERE id = :id"),
                 {"n": failures, "t": until, "id": user.id})
    if until is None:
        return LoginRefused("bad_credentials")
    audit(conn, "user.throttle", user_id=user.id, target=user.email,
          details={"failures": failures, "throttled_until": until.isoformat()}, ip=ip)
    return LoginRefused("throttled", until)


def lift_throttle(bind: Engine | Connection, email: str, *, actor_id: int | None = None,
                  ip: str | None = None) -> Account:
    """End an account's wait after failed logins (an admin, for an owner who lost his browser).

    >>> _ = create_user(engine, "attendre@example.fr", "admin", "un mot de passe long")
    >>> lift_throttle(engine, "attendre@example.fr").throttled_until is None
    True
    >>> lift_throttle(engine, "personne@example.fr")
    Traceback (most recent call last):
    ...
    geo.accounts.users.UnknownUserError: No user has the email personne@example.fr.
    """
    email = normalize_email(email)
    with transaction(bind) as conn:
        user_id = conn.execute(sa.text(
            "UPDATE app_user SET failed_logins = 0, throttled_until = NULL WHERE email = :e RETURNING id"),
            {"e": email}).scalar()
        if user_id is None:
            raise UnknownUserError(f"No user has the email {email}.")
        audit(conn, "user.unthrottle", user_id=actor_id, target=email, ip=ip)
        return _load(conn, "u.id = :id", {"id": user_id})[0]


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH


__all__ = [
    "FIRST_THROTTLE", "FREE_FAILURES", "GLOBAL_ROLES", "MAX_THROTTLE", "MIN_PASSWORD_LENGTH", "ROLES",
    "Account", "AccountError", "DuplicateEmailError", "InvalidEmailError", "LoginRefused", "NewUser",
    "ScopeError", "SectorRef", "UnknownRoleError", "UnknownUserError", "UserScope", "WeakPasswordError",
    "audit", "authenticate", "can_see_commune", "visible_communes", "check_password", "create_user", "generate_password",
    "get_user", "hash_password", "lift_throttle", "list_users", "throttle_delay", "normalize_email", "verify_password",
]
