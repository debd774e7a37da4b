"""Authentication, scope permissions, throttling and pagination of the partner API.

A partner system presents its key as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
No key: 401. Unknown or revoked key: 401. A key without the endpoint's scope: 403. Rows of
another agency are simply not in the caller's querysets, so their ids answer 404.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import caches
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from pscc.errors import NotFound, ServiceError
from units.models import PartnerCredential, PartnerScope
from units.partners import partner_credential_for_key, partner_credential_touch

log = logging.getLogger(__name__)

BIGINT_MAX = 2**63 - 1


class PartnerSystem:
    """`request.user` of a partner API request: the agency's system, never a floor account."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, credential: PartnerCredential) -> None:
        self.credential = credential
        self.agency = credential.agency

    def get_username(self) -> str:
        return f"{self.agency.code}:{self.credential.name}"

    def __str__(self) -> str:
        return self.get_username()

    @property
    def actor_label(self) -> str:
        return self.get_username()[:150]


class PartnerKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def _presented_key(self, request) -> str | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            parts = header.split()
            if len(parts) == 2 and parts[0].lower() == "bearer":
                return parts[1]
            if parts and parts[0].lower() == "bearer":
                raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <key>'.")
            return None
        key = request.META.get("HTTP_X_API_KEY", "").strip()
        return key or None

    def authenticate(self, request):
        key = self._presented_key(request)
        if key is None:
            return None
        credential = partner_credential_for_key(key)
        if credential is None:
            raise exceptions.AuthenticationFailed("Unknown API key.")
        if credential.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if not credential.agency.active:
            raise exceptions.AuthenticationFailed("The agency of this API key is inactive.")
        partner_credential_touch(credential)
        return PartnerSystem(credential), credential

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 when no key is presented.
        return 'Bearer realm="pscc-partner"'


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "units.partner_auth.PartnerKeyAuthentication"
    name = ["partnerBearer", "partnerApiKey"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "pscc_<prefix>_<secret>",
             "description": "A partner agency API key, issued in the admin (shown once)."},
            {"type": "apiKey", "in": "header", "name": "X-API-Key",
             "description": "The same API key in an X-API-Key header."},
        ]

    def get_security_requirement(self, auto_schema):
        return [{"partnerBearer": []}, {"partnerApiKey": []}]


def credential_of(request) -> PartnerCredential:
    credential = getattr(request, "auth", None)
    if not isinstance(credential, PartnerCredential):
        raise exceptions.NotAuthenticated()
    return credential


def has_scope(request, scope: str) -> bool:
    credential = getattr(request, "auth", None)
    return isinstance(credential, PartnerCredential) and scope in credential.scopes


class _ScopePermission(BasePermission):
    scopes: tuple[str, ...] = ()
    any_of = False

    @property
    def message(self) -> str:
        joined = (" or " if self.any_of else " and ").join(self.scopes)
        return f"This API key lacks the {joined} scope."

    def has_permission(self, request, view) -> bool:
        credential = getattr(request, "auth", None)
        if not isinstance(credential, PartnerCredential):
            return False
        held = set(credential.scopes)
        return any(s in held for s in self.scopes) if self.any_of else all(s in held for s in self.scopes)


class CanReadIncidents(_ScopePermission):
    scopes = (PartnerScope.READ_INCIDENTS,)


class CanReadUnits(_ScopePermission):
    scopes = (PartnerScope.READ_UNITS,)


class CanWriteUnitStatus(_ScopePermission):
    scopes = (PartnerScope.WRITE_UNIT_STATUS,)


class CanReceiveWebhooks(_ScopePermission):
    scopes = (PartnerScope.RECEIVE_WEBHOOKS,)


class CanReadEvents(_ScopePermission):
    scopes = (PartnerScope.READ_INCIDENTS, PartnerScope.READ_UNITS)
    any_of = True


class PartnerThrottle(SimpleRateThrottle):
    """Requests per API key (not per address: one agency may sit behind one NAT), in the shared cache,
    so every web process counts together. Rates: settings.PSCC_PARTNER_THROTTLE_RATES[scope]."""

    scope = "partner_read"

    def __init__(self) -> None:  # the rate is read per request so settings overrides apply
        pass

    def get_rate(self):
        return settings.PSCC_PARTNER_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        credential = getattr(request, "auth", None)
        if not isinstance(credential, PartnerCredential):
            return None
        return f"throttle:{self.scope}:{credential.prefix}"

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.cache = caches[settings.PSCC_PARTNER_THROTTLE_CACHE]
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - a lost cache must not turn into a 500: fail open
            log.warning("partner throttle cache unavailable (%s); request allowed", exc)
            return True


class PartnerReadThrottle(PartnerThrottle):
    scope = "partner_read"


class PartnerWriteThrottle(PartnerThrottle):
    scope = "partner_write"


class PartnerPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 500

    def get_offset(self, request):
        return min(super().get_offset(request), BIGINT_MAX // 2)


class PartnerViewMixin:
    """What every partner endpoint shares: key auth, per-key throttling, clean 4xx for bad input."""

    authentication_classes = [PartnerKeyAuthentication]
    throttle_classes = [PartnerReadThrottle]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # PostgreSQL refuses NUL in text: say so as a 400 instead of failing in the database.
        for name, value in list(request.query_params.items()) + [(k, str(v)) for k, v in kwargs.items()]:
            if "\x00" in value:
                raise ServiceError(f"{name} contains a NUL character.", field=name)

    @property
    def credential(self) -> PartnerCredential:
        return credential_of(self.request)

    @property
    def agency(self):
        return self.credential.agency


def int_id(value, *, field: str, what: str) -> int:
    """A database id from a path; anything out of range is simply not found."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound(f"No {what} {value}.", field=field) from None
    if not 0 < number <= BIGINT_MAX:
        raise NotFound(f"No {what} {value}.", field=field)
    return number
