"""Multi-factor sign-in (TOTP with recovery codes) and session inactivity.

Who must use a second factor: the roles in `PSCC_MFA_REQUIRED_ROLES` (supervisors and admins by
default), and telecommunicators as well when `PSCC_MFA_FOR_CONSOLES` is on — but only while
`PSCC_MFA_ENFORCE` is on (the default in production; development and the test suite leave it off so
that demo logins and `force_login` fixtures keep working, and `tests/security` turns it on).

The sign-in is two steps. The password step (`pscc.views.LoginView`, with the banner) logs the user
in; for a user who must use MFA, the session is then *unverified* and `MfaEnforcementMiddleware`
lets it reach only the verification page (or the enrolment page when the user has no authenticator
yet), sign-out and static files; every other page redirects there and every API route answers 403.
A code is checked against the user's confirmed devices (TOTP or one-time recovery code); a wrong one
is an ordinary failed sign-in for django-axes, so five failures in fifteen minutes (password and
codes together) lock the account until a supervisor unlocks it. The floor socket applies the same
rule (`session_is_verified`).
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from pscc.accounts import account_is_locked, lockout_window_apply, sign_in_succeeded
from pscc.roles import role_of

RECOVERY_DEVICE_NAME = "recovery codes"
TOTP_DEVICE_NAME = "authenticator app"

# Reachable by a signed-in user who still owes the second factor.
OPEN_PATHS = ("/login/", "/logout/", "/static/", "/healthz", "/favicon.ico")


# -- who, and is this session verified ------------------------------------------------------------
def mfa_required(user) -> bool:
    """True when this user must present a second factor to use the center's pages and APIs."""
    if not settings.PSCC_MFA_ENFORCE or user is None or not getattr(user, "is_authenticated", False):
        return False
    role = role_of(user)
    if role is None:
        return False
    roles = set(settings.PSCC_MFA_REQUIRED_ROLES)
    if settings.PSCC_MFA_FOR_CONSOLES:
        roles.add("telecommunicator")
    return role.value in roles


def session_is_verified(user, session) -> bool:
    """The session holds a confirmed device of this user (what OTPMiddleware checks, for sockets too)."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.confirmed and device.user_id == user.pk


def mfa_satisfied(request) -> bool:
    user = request.user
    if not mfa_required(user):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else session_is_verified(user, request.session)


def has_authenticator(user) -> bool:
    return user_has_device(user, confirmed=True)


def next_step_url(request, next_url: str = "") -> str:
    """Where an unverified session goes: enrolment when there is no authenticator, else verification."""
    name = "mfa-verify" if has_authenticator(request.user) else "mfa-enrol"
    url = reverse(name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


# -- enrolment ------------------------------------------------------------------------------------
def totp_device_pending(*, user) -> TOTPDevice:
    """The user's unconfirmed authenticator being enrolled (one at a time; created when missing)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret_base32(device: TOTPDevice) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode("ascii")


def totp_qr_svg(device: TOTPDevice) -> str:
    """The provisioning URI as an inline SVG (no script, no image request; fine under the CSP)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1]
    return svg


def totp_enrolment_confirm(*, request, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the pending authenticator with a first code; issue fresh recovery codes.

    Returns the recovery codes (shown once, never stored in clear elsewhere) or None when the code
    is wrong. Any earlier authenticator and recovery codes of the user are replaced, and the session
    becomes verified with the new device.
    """
    user = request.user
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
        if not device.verify_token(_digits(token)):
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = recovery_codes_issue(user=user)
    otp_login(request, device)
    sign_in_succeeded(request=request, username=user.get_username())
    return codes


def recovery_codes_issue(*, user) -> list[str]:
    """Replace the user's recovery codes with a fresh set (each works once)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = []
    for _ in range(settings.PSCC_MFA_RECOVERY_CODES):
        code = "-".join(secrets.token_hex(2) for _ in range(3))  # e.g. 3f9a-0c21-b7d4
        StaticToken.objects.create(device=device, token=code)
        codes.append(code)
    return codes


# -- verification ---------------------------------------------------------------------------------
def _digits(token: str) -> str:
    return "".join((token or "").split())


def mfa_code_check(*, request, token: str) -> bool:
    """Check a TOTP or recovery code for the signed-in user; a wrong one counts toward the lockout.

    Returns True and marks the session verified on success. On failure, the attempt is reported to
    django-axes as a failed sign-in for this username (the same counter as wrong passwords), after
    forgetting failures older than the window.
    """
    user = request.user
    username = user.get_username()
    token = (token or "").strip()
    device = None
    if token:
        with transaction.atomic():
            for candidate in devices_for_user(user, confirmed=True, for_verify=True):
                value = _digits(token) if isinstance(candidate, TOTPDevice) else token.lower()
                if candidate.verify_token(value):
                    device = candidate
                    break
    if device is not None:
        otp_login(request, device)
        sign_in_succeeded(request=request, username=username)
        return True
    lockout_window_apply(username=username)
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.update_request(request)
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
    return False


def mfa_lock_out_if_locked(request) -> bool:
    """End the half-signed-in session of an account that is now locked."""
    username = request.user.get_username()
    if account_is_locked(username=username):
        logout(request)
        return True
    return False


# -- middleware -----------------------------------------------------------------------------------
def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


class MfaEnforcementMiddleware:
    """A signed-in user who owes the second factor reaches only the sign-in pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.PSCC_MFA_ENFORCE and not request.path.startswith(OPEN_PATHS) and not mfa_satisfied(request):
            if _wants_json(request):
                return JsonResponse(
                    {"error": "Finish signing in: verify your second factor.", "code": "mfa_required"}, status=403
                )
            return redirect(next_step_url(request, request.get_full_path()))
        return self.get_response(request)


SEEN_KEY = "pscc_seen"
SEEN_STAMP_EVERY = 30  # seconds: do not rewrite the session on every request


def inactivity_exempt(user) -> bool:
    """Signed on at (or assigned to) a console position inside the secure dispatch room."""
    from pscc.models import PositionAssignment

    current = (
        PositionAssignment.objects.filter(user=user, signed_off_at__isnull=True).select_related("position").first()
    )
    if current is not None:
        return current.position.secure_room
    profile = getattr(user, "staff", None)
    return bool(profile is not None and profile.position_id and profile.position.secure_room)


class SessionInactivityMiddleware:
    """A session idle for longer than PSCC_INACTIVITY_SECONDS ends (secure-room positions exempt)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.PSCC_INACTIVITY_SECONDS
        session = getattr(request, "session", None)
        if limit and session is not None and session.get("_auth_user_id"):
            now = time.time()
            seen = session.get(SEEN_KEY)
            if seen is not None and now - seen > limit and not inactivity_exempt(request.user):
                logout(request)
                if _wants_json(request):
                    return JsonResponse({"error": "Signed out after inactivity.", "code": "inactive"}, status=401)
                return redirect(f"{reverse('login')}?{urlencode({'idle': '1', 'next': request.get_full_path()})}")
            if seen is None or now - seen > SEEN_STAMP_EVERY:
                session[SEEN_KEY] = now
        return self.get_response(request)


# -- deploy checks --------------------------------------------------------------------------------
from django.core import checks  # noqa: E402


@checks.register(checks.Tags.security, deploy=True)
def check_account_security(app_configs=None, **kwargs):
    """`check --deploy`: production must enforce MFA and end idle sessions."""
    problems = []
    if not settings.PSCC_MFA_ENFORCE:
        problems.append(checks.Warning(
            "PSCC_MFA_ENFORCE is off: supervisors and administrators sign in without a second factor.",
            id="pscc.W101",
        ))
    if not settings.PSCC_INACTIVITY_SECONDS:
        problems.append(checks.Warning(
            "PSCC_INACTIVITY_SECONDS is 0: sessions outside the secure room never end for inactivity.",
            id="pscc.W102",
        ))
    return problems
