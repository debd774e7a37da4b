"""Helpers for the MFA, account and audit tests: MFA switched on, authenticators, verified sessions."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct-horse-battery"


@pytest.fixture
def mfa_on(settings):
    """MFA enforced (as in production): supervisors and admins must verify a second factor."""
    settings.PSCC_MFA_ENFORCE = True
    settings.PSCC_MFA_FOR_CONSOLES = False
    settings.PSCC_MFA_REQUIRED_ROLES = ("supervisor", "admin")
    return settings


def authenticator_for(user) -> TOTPDevice:
    """A confirmed authenticator app (TOTP device) for this user."""
    return TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """What the authenticator app shows right now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def verified_client(user, device: TOTPDevice | None = None) -> Client:
    """`force_login` plus a verified second factor: the session a completed sign-in leaves."""
    device = device or TOTPDevice.objects.filter(user=user, confirmed=True).first() or authenticator_for(user)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def sign_in_with_password(client: Client, username: str, password: str = PASSWORD, next_url: str = ""):
    data = {"username": username, "password": password, "acknowledge": "on"}
    if next_url:
        data["next"] = next_url
    return client.post("/login/", data)
