"""Kiln's exceptions.

Every error Kiln raises on purpose derives from :class:`KilnError`. Each class
carries the MLflow error code and the HTTP status it maps to, so the server
turns any of them into MLflow's error body in one place and the CLI prints the
message once::

    KilnError                      INTERNAL_ERROR          500
    ├── InvalidParameterValue      INVALID_PARAMETER_VALUE 400
    │   └── InvalidFilter          INVALID_PARAMETER_VALUE 400
    ├── BadRequest                 BAD_REQUEST             400
    ├── ResourceAlreadyExists      RESOURCE_ALREADY_EXISTS 400
    ├── ResourceDoesNotExist       RESOURCE_DOES_NOT_EXIST 404
    ├── PermissionDenied           PERMISSION_DENIED       403
    ├── Unauthenticated            UNAUTHENTICATED         401
    ├── InvalidState               INVALID_STATE           500
    ├── RequestLimitExceeded       REQUEST_LIMIT_EXCEEDED  429
    ├── NotImplementedFeature      NOT_IMPLEMENTED         501
    └── StorageUnavailable         TEMPORARILY_UNAVAILABLE 503

Catch ``KilnError`` to handle everything, or a branch to handle one case.
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "InvalidFilter",
    "InvalidParameterValue",
    "InvalidState",
    "KilnError",
    "NotImplementedFeature",
    "PermissionDenied",
    "RequestLimitExceeded",
    "ResourceAlreadyExists",
    "ResourceDoesNotExist",
    "StorageUnavailable",
    "Unauthenticated",
    "error_for_code",
]


class KilnError(Exception):
    """Base of every error Kiln raises on purpose."""

    error_code: str = "INTERNAL_ERROR"
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """Return MLflow's JSON error body for this error."""
        return {"error_code": self.error_code, "message": self.message}


class InvalidParameterValue(KilnError):
    """A name, key, value, id, page token or path was refused."""

    error_code = "INVALID_PARAMETER_VALUE"
    http_status = 400


class InvalidFilter(InvalidParameterValue):
    """A search filter or order clause did not parse."""


class BadRequest(KilnError):
    """The request as a whole is malformed."""

    error_code = "BAD_REQUEST"
    http_status = 400


class ResourceAlreadyExists(KilnError):
    """An experiment, model or alias with that name exists already."""

    error_code = "RESOURCE_ALREADY_EXISTS"
    http_status = 400


class ResourceDoesNotExist(KilnError):
    """No experiment, run, model or file has that id or name."""

    error_code = "RESOURCE_DOES_NOT_EXIST"
    http_status = 404


class PermissionDenied(KilnError):
    """The caller is known but may not do this."""

    error_code = "PERMISSION_DENIED"
    http_status = 403


class Unauthenticated(KilnError):
    """The caller did not prove who they are."""

    error_code = "UNAUTHENTICATED"
    http_status = 401


class InvalidState(KilnError):
    """The resource is in a state that does not allow this, such as deleted."""

    error_code = "INVALID_STATE"
    http_status = 500


class RequestLimitExceeded(KilnError):
    """Too many requests; try again later."""

    error_code = "REQUEST_LIMIT_EXCEEDED"
    http_status = 429


class NotImplementedFeature(KilnError):
    """The operation exists in the protocol but Kiln does not offer it here."""

    error_code = "NOT_IMPLEMENTED"
    http_status = 501


class StorageUnavailable(KilnError):
    """The database or artifact store could not be reached."""

    error_code = "TEMPORARILY_UNAVAILABLE"
    http_status = 503


_BY_CODE: dict[str, type[KilnError]] = {
    cls.error_code: cls
    for cls in (
        KilnError,
        InvalidParameterValue,
        BadRequest,
        ResourceAlreadyExists,
        ResourceDoesNotExist,
        PermissionDenied,
        Unauthenticated,
        InvalidState,
        RequestLimitExceeded,
        NotImplementedFeature,
        StorageUnavailable,
    )
}


def error_for_code(code: str, message: str) -> KilnError:
    """Build the Kiln error for an MLflow error code received over the wire."""
    cls = _BY_CODE.get(code, KilnError)
    error = cls(message)
    if cls is KilnError and code:
        error.error_code = code
    return error
