"""Production settings: missing values fail loudly by name; `check --deploy` is clean."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.processes import ROOT

PRODUCTION = {
    "PSCC_ENV": "production",
    "DJANGO_SECRET_KEY": "x7!k2p-production-like-secret-key-for-the-check-0f9a8b7c6d5e4f3a2b1c",
    "DJANGO_ALLOWED_HOSTS": "cad.example.org",
    "PSCC_TCC_SECRET": "tcc-production-like-signing-secret",
    "PSCC_CPE_TOKEN": "cpe-production-like-token",
}


def _manage(*args: str, env: dict[str, str], drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in drop and k not in ("DJANGO_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    full.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", env=PRODUCTION)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # No deployment (security.*) warning at all; API-schema notes are checked by the schema tests.
    assert "(security." not in output, output
    assert "(axes." not in output, output


def test_a_missing_database_url_names_the_variable():
    result = _manage("check", env=PRODUCTION, drop=("DATABASE_URL",))
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_a_missing_secret_key_in_production_names_the_variable():
    result = _manage("check", env={k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}, drop=("DJANGO_SECRET_KEY",))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_debug_with_production_refuses_to_start():
    result = _manage("check", env={**PRODUCTION, "DJANGO_DEBUG": "true"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG" in result.stderr


def test_the_benchmarks_trivial_view_with_production_refuses_to_start():
    result = _manage("check", env={**PRODUCTION, "PSCC_BENCH_VIEWS": "true"})
    assert result.returncode != 0
    assert "PSCC_BENCH_VIEWS" in result.stderr


def test_the_api_docs_page_serves_swagger_ui_from_our_own_static_files(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in page.content
    assert b"cdn.jsdelivr.net" not in page.content
