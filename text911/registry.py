"""What `text911` plugs into the center: the "text" snapshot, the console panel, the outbound sweeper,
the default quick messages (demo and after every migrate/flush) and the sign-out safety net."""

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_migrate

from pscc.console import ConsolePanel, register_console_panel
from pscc.demo import register_demo_loader
from pscc.floor import register_snapshot_provider
from pscc.sweeper import register_sweeper


def _text_snapshot(user, audiences):
    from pscc.journal import FLOOR
    from text911.selectors import text_snapshot

    if FLOOR not in audiences:
        return {}
    return text_snapshot(user)


def _sweep():
    from text911.services import text_outbound_sweep

    return text_outbound_sweep()


def _load_quick_messages(data):
    from text911.quick import quick_messages_ensure

    return quick_messages_ensure(data)


def _ensure_defaults(sender, **kwargs):
    if getattr(sender, "name", "") != "text911":
        return
    from django.db import DEFAULT_DB_ALIAS

    if kwargs.get("using", DEFAULT_DB_ALIAS) != DEFAULT_DB_ALIAS:
        return
    from text911.quick import quick_messages_ensure

    quick_messages_ensure()


def _on_logout(sender, request, user, **kwargs):
    if user is None:
        return
    from pscc.roles import is_floor_staff
    from text911.services import text_signed_out

    if is_floor_staff(user):
        text_signed_out(user=user)


register_snapshot_provider("text", _text_snapshot)
register_sweeper("text911.outbound", _sweep)


def _unclaimed_sweep():
    from text911.services import text_unclaimed_sweep

    return text_unclaimed_sweep()


register_sweeper("text911.unclaimed", _unclaimed_sweep)
register_demo_loader(60, "text quick messages", _load_quick_messages)
register_console_panel(ConsolePanel(
    name="text911", template="text911/panel.html", order=30,
    roles=frozenset({"telecommunicator", "supervisor", "admin"}), scripts=("js/text911.js",),
))
post_migrate.connect(_ensure_defaults, dispatch_uid="text911-quick-messages")
user_logged_out.connect(_on_logout, dispatch_uid="text911-signed-out")
