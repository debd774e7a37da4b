"""Errors that services raise and every interface turns into a clear 4xx naming the field at fault."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the center refuses; `field` names the input at fault (when there is one)."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict:
        body = {"error": self.message, "code": self.code}
        if self.field:
            body["field"] = self.field
        return body


class Conflict(ServiceError):
    """The state changed under the request (another telecommunicator got there first)."""

    status = 409
    code = "conflict"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class ServiceUnavailable(ServiceError):
    """An outside system the request needs did not answer usefully; the message says what to do."""

    status = 503
    code = "unavailable"


class Unprocessable(ServiceError):
    """Well-formed, but the center cannot act on it (an idempotency key reused for another request)."""

    status = 422
    code = "unprocessable"
