"""A request that cannot reach PostgreSQL gets a clear 503 (retry with the same idempotency key).

Views raise the database error into `process_exception`. Middleware that reads the database before
the view (the session and user behind `request.user`, read by pghistory's and django-otp's
middleware) raises where Django turns the exception into a 500 at that layer, out of reach of any
`try` in an outer middleware; `got_request_exception` is sent there with the exception in hand, so
it marks the request and this middleware, outermost, answers 503 instead of that 500.
"""

from __future__ import annotations

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import JsonResponse

log = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "The CAD database is unavailable. Nothing was saved; retry with the same idempotency key."


def database_unavailable_response() -> JsonResponse:
    response = JsonResponse({"error": DATABASE_UNAVAILABLE}, status=503)
    response["Retry-After"] = "2"
    return response


@receiver(got_request_exception)
def _mark_database_unavailable(sender, request=None, **kwargs) -> None:
    exception = sys.exc_info()[1]
    if request is not None and isinstance(exception, (OperationalError, InterfaceError)):
        request._pscc_database_unavailable = exception


class ServiceUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        exception = getattr(request, "_pscc_database_unavailable", None)
        if exception is not None and response.status_code == 500:
            log.error("database unavailable for %s %s: %s", request.method, request.path, exception)
            return database_unavailable_response()
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            log.error("database unavailable for %s %s: %s", request.method, request.path, exception)
            return database_unavailable_response()
        return None
