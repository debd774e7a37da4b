"""Pages of the center: sign-in with the banner, the console frame, account unlock."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from pscc.accounts import BannerAuthenticationForm, account_unlock
from pscc.console import panels_for
from pscc.roles import is_floor_staff, is_supervisor, role_of


class LoginView(auth_views.LoginView):
    form_class = BannerAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["banner"] = settings.PSCC_LOGIN_BANNER
        return context


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
