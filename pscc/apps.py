from django.apps import AppConfig


class PsccConfig(AppConfig):
    name = "pscc"
    verbose_name = "Center"

    def ready(self) -> None:
        from django.conf import settings

        from pscc.celery import register_periodic

        register_periodic("pscc-heartbeat", "pscc.heartbeat", settings.PSCC_WORKER_HEARTBEAT_SECONDS)
        register_periodic("pscc-sweep", "pscc.sweep", settings.PSCC_SWEEP_SECONDS)
        register_periodic("pscc-accounts-disable-idle", "pscc.accounts_disable_idle", settings.PSCC_ACCOUNT_IDLE_CHECK_SECONDS)
        register_periodic("pscc-audit-purge", "pscc.audit_purge", settings.PSCC_AUDIT_PURGE_SECONDS)
        from pscc import signals  # noqa: F401
        from pscc import mfa  # noqa: F401  (its deploy checks)

        _register_center_parts()


def _register_center_parts() -> None:
    from django.db.models.signals import post_migrate

    from pscc.demo import register_demo_loader
    from pscc.demo.loader import load_staff

    register_demo_loader(90, "staff", load_staff)

    from pscc.idempotency import idempotency_records_purge
    from pscc.sweeper import register_sweeper

    register_sweeper("idempotency_records", idempotency_records_purge)

    from pscc.floor import register_snapshot_provider
    from pscc.journal import FLOOR
    from pscc.supervision import open_alerts, positions_board

    register_snapshot_provider("alerts", lambda user, audiences: open_alerts() if FLOOR in audiences else [])
    register_snapshot_provider("positions", lambda user, audiences: positions_board() if FLOOR in audiences else {})

    def roles_after_migrate(sender, **kwargs):
        if sender.name == "pscc":
            from pscc.services import roles_ensure

            roles_ensure()

    post_migrate.connect(roles_after_migrate, dispatch_uid="pscc-roles-after-migrate", weak=False)
