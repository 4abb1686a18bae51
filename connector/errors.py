"""The connector's one error root, and families grouped by what the caller should do.

```
ConnectorError                 anything the connector raises on purpose
├── ConfigError                settings are missing or invalid: fix the environment, then rerun
├── RecordValidationError      an input record breaks the common schema: fix or skip the record
├── StoreError                 the database refused or is on an unknown schema version
├── APIError                   a vendor answered badly (carries vendor, status, request id)
│   ├── AuthError              401/403: the credential is wrong or lacks a scope
│   ├── RetryableAPIError      429/5xx/timeouts: worth retrying after a pause
│   └── FatalAPIError          other 4xx: retrying will not help
│       ├── UnreachableError   no connection at all (refused, unknown host): the vendor is skipped
│       └── PaginationLoopError  the vendor handed out a cursor twice: the list would never end
├── QuotaExhaustedError        a vendor's daily quota is (nearly) used up: the sync stops, cursors kept
├── WriteBackError             HubSpot holds what the connector must not overwrite: fix it there
├── WebhookSignatureError      a webhook failed verification: reject it (401), store nothing
└── WebhookPayloadError        a webhook body is malformed or an unknown event: reject it (400)
```
"""

from __future__ import annotations

from typing import TypedDict, Unpack


class ConnectorError(Exception):
    """Root of every error the connector raises on purpose."""


class ConfigError(ConnectorError):
    """Settings are missing or invalid."""


class RecordValidationError(ConnectorError):
    """A record does not fit the common schema.

    `problems` holds `(field, reason)` pairs so a caller can report each one.
    """

    def __init__(self, entity: str, problems: list[tuple[str, str]]) -> None:
        self.entity = entity
        self.problems = problems
        detail = "; ".join(f"{field}: {reason}" for field, reason in problems)
        super().__init__(f"invalid {entity}: {detail}")


class StoreError(ConnectorError):
    """The database refused an operation or holds an unknown schema version."""


class _Answer(TypedDict, total=False):
    """What an API error may say of the vendor's answer: its HTTP status and request id."""

    status: int | None
    request_id: str | None


class APIError(ConnectorError):
    """A vendor API answered with an error."""

    def __init__(
        self,
        message: str,
        *,
        vendor: str,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.vendor = vendor
        self.status = status
        self.request_id = request_id
        where = f"{vendor}" + (f" HTTP {status}" if status is not None else "")
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{where}: {message}{suffix}")


class AuthError(APIError):
    """The vendor rejected the credential (401) or its scopes (403)."""


class RetryableAPIError(APIError):
    """Rate limited, server error or transport failure: retry after `retry_after` seconds if given."""

    def __init__(
        self, message: str, *, vendor: str, retry_after: float | None = None, **answer: Unpack[_Answer]
    ) -> None:
        super().__init__(message, vendor=vendor, **answer)
        self.retry_after = retry_after


class FatalAPIError(APIError):
    """A client error that retrying will not fix."""


class UnreachableError(FatalAPIError):
    """The vendor's server could not even be connected to (connection refused, no such host): retrying
    within seconds will not help, and the vendor's other streams would fail the same way."""


class WebhookSignatureError(ConnectorError):
    """A webhook request failed signature, token or timestamp verification."""


class PaginationLoopError(FatalAPIError):
    """The vendor handed out a cursor it had already given: following it would never end."""


class QuotaExhaustedError(ConnectorError):
    """The vendor's daily quota is (nearly) used up: the sync stops, with its cursors saved."""


class WriteBackError(ConnectorError):
    """HubSpot holds something the connector must not overwrite (e.g. a property of another type)."""


class WebhookPayloadError(ConnectorError):
    """A webhook body the connector cannot use: malformed, of the wrong types, or an unknown event."""
