"""People who review drafts: scrypt password hashes, never the passwords themselves."""

from __future__ import annotations

import re
from datetime import datetime

from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import AmendsError
from ..store import Store

_NAME = re.compile(r"^[\w .'-]{1,64}$")
MIN_PASSWORD = 10


@cache
def _dummy_hash() -> str:
    """Checked against when a name is unknown, so a login takes as long either way (made on
    first use: an scrypt hash costs more than starting any command that never logs anyone in)."""
    return generate_password_hash("amends-timing-equaliser", method="scrypt")


class UserError(AmendsError):
    pass


def check_new_user(store: Store, name: str) -> None:
    name = name.strip()
    if not _NAME.match(name):
        raise UserError("a user name is 1-64 letters, digits, spaces, dots, apostrophes or dashes")
    if store.user(name):
        raise UserError(f"there is already a user called {name!r}")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password needs at least {MIN_PASSWORD} characters")


def add_user(store: Store, name: str, password: str, is_admin: bool, now: datetime) -> int:
    name = name.strip()
    check_new_user(store, name)
    check_password(password)
    user_id = store.add_user(name, generate_password_hash(password, method="scrypt"), is_admin, now)
    store.audit("amends", "added user", "user", user_id, {"name": name, "admin": is_admin}, now)
    return user_id


def change_password(store: Store, name: str, password: str, now: datetime) -> None:
    """A new password, and every session signed in with the old one ends (on the server)."""
    check_password(password)
    user = find_user(store, name)
    store.set_password(user["name"], generate_password_hash(password, method="scrypt"))
    store.audit("amends", "changed password", "user", user["id"], {"sessions": "revoked"}, now)


def authenticate(store: Store, name: str, password: str) -> dict | None:
    user = store.user(name.strip())
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user["password_hash"], password) else None


def find_user(store: Store, name: str) -> dict:
    user = store.user(name.strip())
    if user is None:
        raise UserError(f"there is no user called {name!r} (see `amends user list`)")
    return user


def remove_user(store: Store, name: str, now: datetime) -> None:
    """Their decisions stay in drafts and the audit log, under their name."""
    user = find_user(store, name)
    store.delete_user(user["id"])
    store.audit("amends", "removed user", "user", user["id"], {"name": user["name"]}, now)


def set_admin(store: Store, name: str, admin: bool, now: datetime) -> None:
    user = find_user(store, name)
    store.set_user(user["id"], is_admin=int(admin))
    store.revoke_sessions(user["id"])  # the session's rights were read at sign-in
    store.audit("amends", "made admin" if admin else "took admin", "user", user["id"], None, now)


def set_role(store: Store, name: str, role: str, give: bool, now: datetime) -> set[str]:
    """Roles are words such as "legal" or "lead"; ``[drafts] hold_for`` names which one approves what."""
    role = role.strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", role):
        raise UserError("a role is one word of letters, digits, dashes or underscores, e.g. legal or lead")
    user = find_user(store, name)
    roles = {r for r in user["roles"].split(",") if r}
    roles = roles | {role} if give else roles - {role}
    store.set_user(user["id"], roles=",".join(sorted(roles)))
    store.audit("amends", "gave role" if give else "took role", "user", user["id"], {"role": role}, now)
    return roles


def set_signature(store: Store, name: str, signs_as: str, now: datetime) -> None:
    """The name NAME's replies are signed with ("Sam Taylor"), when their login is not it."""
    signs_as = " ".join(signs_as.split())
    if not 1 <= len(signs_as) <= 80:
        raise UserError("the name to sign with needs 1 to 80 characters")
    user = find_user(store, name)
    store.set_user(user["id"], signs_as=signs_as)
    store.audit("amends", "set signature", "user", user["id"], {"signs_as": signs_as}, now)


def signs_as(store: Store, name: str) -> str:
    """How a reply approved by NAME is signed: their signature name, else their login name."""
    user = store.user(name)
    return (user.get("signs_as") if user else None) or name


def set_email(store: Store, name: str, address: str, now: datetime) -> None:
    if address.count("@") != 1 or any(c.isspace() for c in address):
        raise UserError(f"not an email address: {address!r}")
    user = find_user(store, name)
    store.set_user(user["id"], email=address)
    store.audit("amends", "set email", "user", user["id"], {"email": address}, now)
