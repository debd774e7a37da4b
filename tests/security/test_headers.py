"""Headers and checks: CSP without inline script, secure cookies and HSTS in production, CSRF on
every form, and the deploy checks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.support.processes import ROOT

PRODUCTION = {
    "PSCC_ENV": "production",
    "DJANGO_SECRET_KEY": "x7!k2p-production-like-secret-key-for-the-check-0f9a8b7c6d5e4f3a2b1c",
    "DJANGO_ALLOWED_HOSTS": "cad.example.org",
    "PSCC_TCC_SECRET": "tcc-production-like-signing-secret",
    "PSCC_CPE_TOKEN": "cpe-production-like-token",
}

PRINT_SETTINGS = (
    "from django.conf import settings as s; import json; print(json.dumps({"
    "'hsts': s.SECURE_HSTS_SECONDS, 'sub': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, 'ssl': s.SECURE_SSL_REDIRECT,"
    "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
    "'httponly': s.SESSION_COOKIE_HTTPONLY, 'mfa': s.PSCC_MFA_ENFORCE, 'idle': s.PSCC_INACTIVITY_SECONDS,"
    "'debug': s.DEBUG}))"
)


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("DJANGO_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "PSCC_MFA_ENFORCE")}
    full.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)


def _templates() -> list[Path]:
    found = []
    for base in [Path(ROOT) / "templates", *Path(ROOT).glob("*/templates")]:
        if ".venv" in base.parts:
            continue
        found.extend(sorted(base.rglob("*.html")))
    return found


def test_the_deploy_security_checks_are_clean_with_production_settings():
    result = _manage("check", "--deploy", "--tag", "security", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_has_hsts_secure_cookies_mfa_and_an_inactivity_limit():
    import json

    result = _manage("shell", "-c", PRINT_SETTINGS, env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["hsts"] >= 31536000 and values["sub"] and values["ssl"]
    assert values["session_secure"] and values["csrf_secure"] and values["httponly"]
    assert values["mfa"] is True and values["idle"] > 0 and values["debug"] is False


def test_turning_mfa_off_in_production_is_a_deploy_warning():
    result = _manage("check", "--deploy", "--tag", "security", "--fail-level", "WARNING",
                     env={**PRODUCTION, "PSCC_MFA_ENFORCE": "false"})
    assert result.returncode != 0 and "pscc.W101" in result.stderr + result.stdout


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_without_inline_script(make_staff):
    client = Client()
    client.force_login(make_staff("supervisor"))
    for url in ("/login/", "/console/", "/board/", "/audit/access/"):
        response = client.get(url)
        policy = response.get("Content-Security-Policy", "")
        script_src = re.search(r"script-src ([^;]*)", policy)
        assert script_src, (url, policy)
        assert "'unsafe-inline'" not in script_src.group(1) and "'unsafe-eval'" not in script_src.group(1), url
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode()), f"inline script on {url}"


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in _templates():
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"<[^>]+\son[a-z]+\s*=", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_every_post_form_in_the_templates_carries_a_csrf_token():
    missing = []
    for path in _templates():
        text = path.read_text()
        for form in re.finditer(r"<form\b[^>]*>(.*?)</form>", text, flags=re.S | re.I):
            if re.search(r"method\s*=\s*[\"']?post", form.group(0)[:200], flags=re.I) and "{% csrf_token %}" not in form.group(1):
                missing.append(str(path.relative_to(ROOT)))
    assert missing == []


@pytest.mark.django_db
def test_posts_without_a_csrf_token_are_refused(make_staff):
    make_staff("supervisor", username="sup")
    client = Client(enforce_csrf_checks=True)
    assert client.post("/login/", {"username": "sup", "password": "correct-horse-battery", "acknowledge": "on"}).status_code == 403
    client.force_login(make_staff("supervisor", username="boss"))
    assert client.post("/accounts/unlock/", {"username": "sup"}).status_code == 403
    assert client.post("/login/verify/", {"code": "123456"}).status_code == 403
    assert client.post("/api/v1/passdown/", {"text": "x"}, content_type="application/json").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_floor_socket_refuses_a_foreign_origin(make_staff):
    from asgiref.sync import async_to_sync
    from channels.testing import WebsocketCommunicator

    from pscc.asgi import application

    client = Client()
    client.force_login(make_staff("telecommunicator"))
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def connect(origin: bytes):
        comm = WebsocketCommunicator(
            application, "/ws/floor/", headers=[(b"origin", origin), (b"host", b"testserver"), (b"cookie", cookie)]
        )
        connected, _ = await comm.connect(timeout=10)
        await comm.disconnect()
        return connected

    assert async_to_sync(connect)(b"http://evil.example") is False
    assert async_to_sync(connect)(b"http://testserver") is True
