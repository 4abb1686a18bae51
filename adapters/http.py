"""The HTTP layer the `requests`-based adapters (LiveAgent, Aircall) share: one status→error mapping,
one retry policy (tenacity) that honours `Retry-After` and the vendors' reset headers, and timeouts on
every call.

    >>> client = VendorClient("aircall", "https://api.aircall.io/v1", session)
    >>> client.get_json("/calls", params={"per_page": 50})

Errors follow `connector.errors`: `AuthError` (401/403, never retried), `RetryableAPIError` (429, 5xx,
transport failures and truncated bodies: retried with jittered exponential backoff, or after the time
the vendor asked for), `FatalAPIError` (other 4xx).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, cast
from urllib.parse import urlsplit

import requests
import requests.auth
import urllib3
from pydantic import SecretStr
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from adapters.governor import RateGovernor
from adapters.paging import Fetched, PageRequest, Paginator, paginate
from adapters.registry import headers_of
from connector.errors import APIError, AuthError, FatalAPIError, RetryableAPIError, UnreachableError


class BasicAuth(requests.auth.AuthBase):
    """HTTP Basic (Aircall's `api_id:api_token`), the secret read only when a request is signed."""

    def __init__(self, user: str, password: SecretStr) -> None:
        self.user = user
        self.password = password

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        signed = requests.auth.HTTPBasicAuth(self.user, self.password.get_secret_value())(request)
        return cast(requests.PreparedRequest, signed)


class HeaderKeyAuth(requests.auth.AuthBase):
    """An API key in a request header (LiveAgent's `apikey`), added to each request as it is sent: it is
    in no session's default headers, so nothing that prints a session shows it."""

    def __init__(self, header: str, key: SecretStr) -> None:
        self.header = header
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.header] = self.key.get_secret_value()
        return request


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry. Tests use `attempts` and a recording `sleep`."""

    attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 60.0


def retry_after_seconds(
    headers: Mapping[str, str], *, reset_header: str | None = None, now: float | None = None
) -> float | None:
    """The pause the vendor asked for: `Retry-After` (seconds or an HTTP date), else its `reset_header`
    holding a UNIX time (Aircall's `X-AircallApi-Reset`: `VendorHeaders.reset_epoch`)."""
    header = headers.get("Retry-After")
    current = time.time() if now is None else now
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(header).timestamp() - current)
            except (TypeError, ValueError):
                return None
    reset = headers.get(reset_header) if reset_header else None
    if reset and reset.isdigit():
        return max(0.0, int(reset) - current)
    return None


def error_for_status(
    vendor: str, status: int, headers: Mapping[str, str], body: str | bytes | None, reason: str = ""
) -> APIError | None:
    """The one place a status becomes an error (None for success); the SDK-based HubSpot adapter and
    the `requests`-based ones both come through here."""
    if status < 400:
        return None
    named = headers_of(vendor)
    request_id = next((headers[h] for h in named.request_id if h in headers), None)
    message = _message(body) or reason or f"HTTP {status}"
    if status in (401, 403):
        return AuthError(message, vendor=vendor, status=status, request_id=request_id)
    if status == 429 or status >= 500:
        return RetryableAPIError(
            message,
            vendor=vendor,
            status=status,
            request_id=request_id,
            retry_after=retry_after_seconds(headers, reset_header=named.reset_epoch),
        )
    return FatalAPIError(message, vendor=vendor, status=status, request_id=request_id)


def error_for(vendor: str, response: requests.Response) -> APIError | None:
    """`error_for_status` for a `requests` response."""
    if response.status_code < 400:
        return None
    return error_for_status(
        vendor, response.status_code, response.headers, response.content, response.reason or ""
    )


def _message(body: str | bytes | None) -> str | None:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return None
    if isinstance(parsed, Mapping):
        if isinstance(parsed.get("message"), str):  # HubSpot, LiveAgent
            return str(parsed["message"])
        parts = [
            str(parsed[key]) for key in ("error", "troubleshoot") if isinstance(parsed.get(key), str)
        ]  # Aircall
        if parts:
            return ": ".join(parts)
    return None


class VendorClient:
    """GETs and POSTs JSON against one vendor's base URL through a `requests.Session`, with the
    shared error mapping, timeouts and retries."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        session: requests.Session,
        *,
        timeout: tuple[float, float] = (5.0, 60.0),
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        governor: RateGovernor | None = None,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.governor = governor
        """Waited on before each attempt, fed each response's quota headers."""
        self.calls = 0

    def get_json(
        self, path: str, params: Mapping[str, Any] | None = None, *, expect: Shape | None = None
    ) -> tuple[Any, requests.Response]:
        return self.request_json("GET", path, params=params, expect=expect)

    def paginate(
        self, path: str, params: Mapping[str, Any], paginator: Paginator, *, expect: Shape | None = None
    ) -> Iterator[Fetched]:
        """Every page of a GET list, through `paginator` and its loop guard (`adapters.paging`)."""

        def fetch(request: PageRequest) -> Fetched:
            return self.get_json(request.path, params=request.params or None, expect=expect)

        return paginate(fetch, PageRequest(path, dict(params)), paginator)

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        expect: Shape | None = None,
    ) -> tuple[Any, requests.Response]:
        """The parsed JSON body and the response, after retries; raises an `APIError` otherwise. A body
        that is not JSON, or not of the `expect`ed shape, is retried like a 5xx: read as an empty page it
        would move a cursor past records never read."""
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"
        for attempt in retrying(self.retry, self.sleep, self.governor):
            with attempt:
                return self._once(method, url, params, json, expect)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _once(
        self, method: str, url: str, params: Mapping[str, Any] | None, body: Any, expect: Shape | None
    ) -> tuple[Any, requests.Response]:
        if self.governor is not None:
            self.governor.acquire()
        self.calls += 1
        try:
            response = self.session.request(method, url, params=params, json=body, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise transport_error(self.vendor, url, exc) from exc
        if self.governor is not None:
            self.governor.observe(response.status_code, response.headers)
        failure = error_for(self.vendor, response)
        if failure is not None:
            raise failure
        try:
            parsed = response.json()
        except (ValueError, requests.exceptions.ChunkedEncodingError) as exc:
            raise RetryableAPIError(
                "the body is not complete JSON (cut short or malformed)",
                vendor=self.vendor,
                status=response.status_code,
            ) from exc
        problem = expect.problem(parsed) if expect is not None else None
        if problem is not None:
            raise RetryableAPIError(
                f"the body is {problem} ({url.split('?')[0]})",
                vendor=self.vendor,
                status=response.status_code,
            )
        return parsed, response


def transport_error(vendor: str, url: str, exc: BaseException) -> APIError:
    """The error for a request that got no answer, naming the host and the cause once: a connection that
    could not be made at all (refused, unknown host) is `UnreachableError` — retrying within seconds will
    not help — anything else (a timeout, a dropped or cut connection) is retried."""
    host = urlsplit(url).netloc or url
    cause = _unreachable_cause(exc)
    if cause is not None:
        return UnreachableError(f"cannot connect to {host}: {cause}", vendor=vendor)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return RetryableAPIError(f"transport failure talking to {host}: {type(exc).__name__} {detail}".strip(),
                             vendor=vendor)  # fmt: skip


def _unreachable_cause(exc: BaseException | None) -> str | None:
    """The cause when no connection could be made (urllib3's NewConnectionError, NameResolutionError),
    found through requests' and urllib3's wrappers."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, urllib3.exceptions.NewConnectionError):
            text = str(exc)
            return text.split(": ", 1)[1] if ": " in text else text
        if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
            exc = exc.reason
            continue
        wrapped = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        exc = wrapped or exc.__cause__ or exc.__context__
    return None


@dataclass(frozen=True)
class Shape:
    """What an endpoint's JSON body must be: a list, an object, or an object holding a list (or an
    object) under a key (Aircall's `{"calls": [...], "meta": {...}}`, `{"call": {...}}`)."""

    kind: type
    holding: str | None = None
    holds: type = list

    def problem(self, body: Any) -> str | None:
        if not isinstance(body, self.kind):
            return f"a JSON {type(body).__name__}, not the {self.kind.__name__} this endpoint answers"
        if self.holding is not None and not (
            isinstance(body, dict) and isinstance(body.get(self.holding), self.holds)
        ):
            what = "list" if self.holds is list else "object"
            return f"an object without its {self.holding!r} {what}"
        return None


LIST = Shape(list)
OBJECT = Shape(dict)


def retrying(
    policy: RetryPolicy, sleep: Callable[[float], None], governor: RateGovernor | None = None
) -> Retrying:
    """The one retry policy of every vendor call: retryable errors only, the vendor's requested pause
    when it gave one (`Retry-After`, reset headers), else jittered exponential backoff."""

    def wait(state: RetryCallState) -> float:
        exception = state.outcome.exception() if state.outcome is not None else None
        if governor is not None:
            governor.retried()
        if isinstance(exception, RetryableAPIError) and exception.retry_after is not None:
            return min(exception.retry_after, policy.max_wait)
        backoff = wait_random_exponential(multiplier=policy.initial_wait, max=policy.max_wait)
        return float(backoff(state))

    return Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        retry=retry_if_exception_type(RetryableAPIError),
        sleep=sleep,
        reraise=True,
    )
