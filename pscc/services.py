"""Writes of the center itself: role groups, staff accounts, positions."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from pscc.models import Position, Role, StaffProfile
from pscc.roles import ROLE_PERMISSIONS


def roles_ensure() -> dict[str, Group]:
    """Create the four role groups and give each the permissions the apps registered for it."""
    groups = {}
    with transaction.atomic():
        for role in Role:
            group, _ = Group.objects.get_or_create(name=role.value)
            wanted = ROLE_PERMISSIONS.get(role, [])
            if wanted == ["*"]:
                perms = list(Permission.objects.all())
            else:
                perms = []
                for dotted in wanted:
                    app_label, codename = dotted.split(".", 1)
                    perms.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
            group.permissions.set(perms)
            groups[role.value] = group
    return groups


def staff_account_ensure(
    *,
    username: str,
    role: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    agency_code: str = "",
    position_code: str | None = None,
    reset_password: bool = False,
):
    """Create or update a login with its role group and profile (idempotent)."""
    User = get_user_model()
    role = Role(role)
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "last_name": last_name, "email": email}
        )
        if created or reset_password:
            user.set_password(password)
        user.first_name, user.last_name, user.email = first_name, last_name, email
        user.is_staff = role == Role.ADMIN
        user.is_superuser = role == Role.ADMIN
        user.save()
        group = Group.objects.get_or_create(name=role.value)[0]
        user.groups.set([group])
        position = Position.objects.get_or_create(code=position_code)[0] if position_code else None
        StaffProfile.objects.update_or_create(
            user=user, defaults={"role": role.value, "agency_code": agency_code, "position": position}
        )
    return user
