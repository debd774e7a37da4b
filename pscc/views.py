"""Pages of the center: sign-in with the banner and the second factor, the console frame, account
unlock, and the caller-data access review."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from pscc.accounts import BannerAuthenticationForm, account_unlock, sign_in_succeeded
from pscc.console import panels_for
from pscc.roles import is_floor_staff, is_supervisor, role_of


class LoginView(auth_views.LoginView):
    form_class = BannerAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["banner"] = settings.PSCC_LOGIN_BANNER
        context["idle"] = self.request.GET.get("idle") == "1"
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        from pscc.mfa import mfa_required, next_step_url

        user = form.get_user()
        if mfa_required(user):
            # Password step done; the session stays unverified until the second factor.
            return redirect(next_step_url(self.request, self.get_redirect_url() or ""))
        sign_in_succeeded(request=self.request, username=user.get_username())
        return response


def _safe_next(request, default: str = "console") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    from django.urls import reverse

    return reverse(default)


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    """Second sign-in step: a code from the authenticator app, or a one-time recovery code."""
    from pscc.mfa import has_authenticator, mfa_code_check, mfa_lock_out_if_locked

    if request.user.is_verified() and request.method == "GET":
        return redirect(_safe_next(request))
    if not has_authenticator(request.user):
        return redirect("mfa-enrol")
    error = ""
    if request.method == "POST":
        if mfa_lock_out_if_locked(request):
            return render(request, "registration/locked.html", status=429)
        if mfa_code_check(request=request, token=request.POST.get("code", "")):
            return redirect(_safe_next(request))
        if mfa_lock_out_if_locked(request):
            return render(request, "registration/locked.html", status=429)
        error = "That code is not right. Use the current code from your authenticator app, or a recovery code."
    return render(
        request, "registration/mfa_verify.html", {"error": error, "next": request.POST.get("next") or request.GET.get("next", "")},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def mfa_enrol(request):
    """Set up (or replace) the authenticator app; recovery codes are shown once, on success."""
    from django.urls import reverse

    from pscc.mfa import has_authenticator, totp_device_pending, totp_enrolment_confirm, totp_qr_svg, totp_secret_base32

    if has_authenticator(request.user) and not request.user.is_verified():
        # Replacing an authenticator takes the current one first (a password alone is not enough).
        return redirect(f"{reverse('mfa-verify')}?next={reverse('mfa-enrol')}")
    device = totp_device_pending(user=request.user)
    error = ""
    if request.method == "POST":
        codes = totp_enrolment_confirm(request=request, device=device, token=request.POST.get("code", ""))
        if codes is not None:
            return render(request, "registration/mfa_recovery_codes.html", {"codes": codes, "next": _safe_next(request)})
        error = "That code did not match. Check the time on your phone and enter the current code."
    return render(
        request,
        "registration/mfa_enrol.html",
        {"qr_svg": totp_qr_svg(device), "secret": totp_secret_base32(device), "error": error,
         "next": request.POST.get("next") or request.GET.get("next", "")},
        status=400 if error else 200,
    )


@login_required
def console(request):
    role = role_of(request.user)
    if role is None or not is_floor_staff(request.user):
        raise PermissionDenied("The console is for floor staff. Partner agencies use the REST API.")
    panels = panels_for(role.value)
    scripts = [script for panel in panels for script in panel.scripts]
    return render(
        request,
        "pscc/console.html",
        {"panels": panels, "panel_scripts": list(dict.fromkeys(scripts)), "heartbeat_seconds": settings.PSCC_HEARTBEAT_SECONDS},
    )


@login_required
def board(request):
    """The supervisor's live board (wall display and desk screen)."""
    if not is_supervisor(request.user):
        raise PermissionDenied("The live board is for shift supervisors and administrators.")
    panels = panels_for(role_of(request.user).value, page="board")
    scripts = [script for panel in panels for script in panel.scripts]
    return render(
        request,
        "pscc/board.html",
        {"panels": panels, "panel_scripts": list(dict.fromkeys(scripts)), "heartbeat_seconds": settings.PSCC_HEARTBEAT_SECONDS,
         "wall": request.GET.get("wall") == "1"},
    )


@login_required
@require_POST
def unlock_account(request):
    if not is_supervisor(request.user):
        raise PermissionDenied("Only a supervisor or an administrator can unlock an account.")
    username = (request.POST.get("username") or "").strip()
    if not username:
        messages.error(request, "Name the account to unlock.")
    else:
        account_unlock(username=username, actor=request.user)
        messages.success(request, f"{username} is unlocked.")
    return redirect(request.POST.get("next") or "console")


@login_required
def locked_accounts(request):
    if not is_supervisor(request.user):
        raise PermissionDenied("Only a supervisor or an administrator can see locked accounts.")
    from axes.models import AccessAttempt

    locked = (
        AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-attempt_time")
        .values("username", "attempt_time", "failures_since_start", "ip_address")
    )
    return render(request, "pscc/locked_accounts.html", {"locked": list(locked)})


def home(request):
    return redirect("console")


@login_required
def audit_access(request):
    """Supervisors and administrators review who viewed or searched caller data."""
    if not is_supervisor(request.user):
        raise PermissionDenied("Only a supervisor or an administrator can review caller-data access.")
    from datetime import datetime, time

    from django.core.paginator import Paginator
    from django.utils import timezone

    from pscc.audit import caller_data_access_search
    from pscc.models import CallerDataAccess

    def day(name: str):
        raw = (request.GET.get(name) or "").strip()
        if not raw:
            return None, ""
        try:
            return timezone.make_aware(datetime.combine(datetime.strptime(raw, "%Y-%m-%d").date(), time.min)), ""
        except ValueError:
            return None, f"{name}: use YYYY-MM-DD"

    since, since_error = day("since")
    until, until_error = day("until")
    if until is not None:
        from datetime import timedelta

        until = until + timedelta(days=1)  # inclusive of the whole day
    kind = request.GET.get("kind", "")
    if kind and kind not in CallerDataAccess.Kind.values:
        kind = ""
    filters = {
        "username": (request.GET.get("username") or "").strip(),
        "kind": kind,
        "object_ref": (request.GET.get("object_ref") or "").strip(),
        "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""),
    }
    qs = caller_data_access_search(
        username=filters["username"], kind=kind, object_ref=filters["object_ref"], since=since, until=until
    )
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "pscc/audit_access.html",
        {"page": page, "filters": filters, "kinds": CallerDataAccess.Kind.choices, "query": query.urlencode(),
         "errors": [e for e in (since_error, until_error) if e]},
    )


@require_http_methods(["GET"])
def bench_ping(request):
    """GET /bench/ping.json, routed only with PSCC_BENCH_VIEWS (never in production): a trivial JSON
    answer through the whole middleware stack, the ceiling bench/intake.py compares intake with."""
    from django.http import JsonResponse

    return JsonResponse({"ok": True})
