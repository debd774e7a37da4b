"""A request that cannot reach PostgreSQL gets a clear 503 (retry with the same idempotency key)."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

log = logging.getLogger(__name__)


class ServiceUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            log.error("database unavailable for %s %s: %s", request.method, request.path, exception)
            response = JsonResponse(
                {"error": "The CAD database is unavailable. Nothing was saved; retry with the same idempotency key."},
                status=503,
            )
            response["Retry-After"] = "2"
            return response
        return None
