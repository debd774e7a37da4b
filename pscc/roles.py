"""Roles of the center (Django groups) and what each may hear on the floor."""

from __future__ import annotations

from pscc.journal import FLOOR, SUPERVISORS, agency_audience
from pscc.models import Role

STAFF_ROLES = {Role.TELECOMMUNICATOR, Role.SUPERVISOR, Role.ADMIN}


def role_of(user) -> Role | None:
    """The user's role: from the staff profile; a superuser without one is an admin."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    profile = getattr(user, "staff", None)
    if profile is not None:
        return Role(profile.role)
    if user.is_superuser:
        return Role.ADMIN
    return None


def agency_of(user) -> str:
    profile = getattr(user, "staff", None)
    return profile.agency_code if profile is not None else ""


def is_floor_staff(user) -> bool:
    return role_of(user) in STAFF_ROLES


def is_supervisor(user) -> bool:
    return role_of(user) in {Role.SUPERVISOR, Role.ADMIN}


def audiences_for(user) -> frozenset[str]:
    role = role_of(user)
    if role in STAFF_ROLES:
        groups = {FLOOR}
        if role in {Role.SUPERVISOR, Role.ADMIN}:
            groups.add(SUPERVISORS)
        return frozenset(groups)
    if role == Role.PARTNER and agency_of(user):
        return frozenset({agency_audience(agency_of(user))})
    return frozenset()


# Model permissions each role's group carries; admins are staff users with all of them.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.TELECOMMUNICATOR: [],
    Role.SUPERVISOR: ["axes.delete_accessattempt", "axes.view_accessattempt"],
    Role.ADMIN: ["*"],
    Role.PARTNER: [],
}


def role_permission_register(role: str, *perms: str) -> None:
    """Domain apps add the model permissions their features need to a role (from `ready()`)."""
    ROLE_PERMISSIONS.setdefault(role, [])
    for perm in perms:
        if perm not in ROLE_PERMISSIONS[role]:
            ROLE_PERMISSIONS[role].append(perm)
