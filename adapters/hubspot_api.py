"""HubSpot's transport: the SDK client with the rate governor, retries, timeouts and the error mapping,
built in one place from the HubSpot settings (`hubspot_api`) for the adapter that reads and the writer
that writes alike — the same limits for both, and the writer needs nothing of the reading adapter.

    >>> api = hubspot_api(settings.hubspot)
    >>> page = api.call("default", api.client.crm.owners.owners_api.get_page_with_http_info, limit=100)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import urllib3
from hubspot import HubSpot
from hubspot.crm.objects import Configuration
from urllib3.util.retry import Retry

from adapters.governor import RateGovernor
from adapters.http import RetryPolicy, error_for_status, retrying, transport_error
from adapters.paging import Fetched, PageRequest, Paginator, paginate
from connector.errors import RetryableAPIError

if TYPE_CHECKING:
    from connector.settings import HubSpotSettings

T = TypeVar("T")
_MODEL_CONFIGURATION = Configuration()


def sdk_model(model: Callable[..., T], **fields: Any) -> T:
    """An SDK request model that shares one configuration. The generated models otherwise build a
    `Configuration` (with a logging formatter and logger levels) for every instance: ~0.25 ms each, a
    third of a webhook event's processing when a batch holds a hundred ids."""
    return model(**fields, local_vars_configuration=_MODEL_CONFIGURATION)


OWN_WRITE_PROPERTY = "helpdesk_write_id"
"""Our property that every write of the connector sets to that write's id (see `OwnWrite`). HubSpot's
search takes up to five filter groups ORed together (25 filters, 10 per group: HubSpot developer
changelog, "Expanded filtering capabilities… in HubSpot's Search API", 2024-08-26), which is how an
incremental search leaves our own writes out."""


def hubspot_governor(vendor: HubSpotSettings) -> RateGovernor:
    """The governor of HubSpot's published limits as the settings give them: the ten-second window,
    search's own per-second limit and the daily reserve."""
    return RateGovernor.for_vendor(
        "hubspot",
        limit=vendor.requests_per_10s,
        interval=10.0,
        search_per_second=vendor.search_per_second,
        daily_reserve=vendor.daily_reserve,
    )


def hubspot_api(vendor: HubSpotSettings, governor: RateGovernor | None = None) -> HubSpotApi:
    """The transport for the configured portal (`governor`: one to share, else a new one of its limits)."""
    vendor.require("hubspot")
    assert vendor.base_url is not None and vendor.access_token is not None
    return HubSpotApi(
        vendor.base_url, vendor.access_token.get_secret_value(), governor or hubspot_governor(vendor)
    )


class HubSpotApi:
    """The SDK client with the governor, retries, timeouts and the shared error mapping."""

    def __init__(
        self,
        base_url: str,
        token: str,
        governor: RateGovernor,
        *,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (5.0, 60.0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.host = base_url
        self.client = HubSpot(access_token=token, host=base_url, retry=Retry(total=0, raise_on_status=False))
        self.governor = governor
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.sleep = sleep

    def call(self, budget: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call an SDK `*_with_http_info` method; returns its data."""
        return self.retried(lambda: self.once(budget, method, *args, **kwargs))

    def retried(self, action: Callable[[], T]) -> T:
        """`action` (calls through `once`) under the retry policy, as one unit: a write that must not be
        made twice retries its look-up with it (`HubSpotWriter.create_tasks`)."""
        for attempt in retrying(self.retry, self.sleep, self.governor):
            with attempt:
                return action()
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def get_json(self, budget: str, path: str) -> Any:
        """GET a path the SDK has no module for (`/account-info/v3/details`), through the SDK's own HTTP
        client (same host, token, timeouts and error mapping as every other call); the JSON as Python."""
        api_client = self.client.crm.objects.basic_api.api_client

        def get(**kwargs: Any) -> Any:
            return api_client.call_api(
                path,
                "GET",
                header_params={"Accept": "application/json"},
                response_types_map={200: "object"},
                auth_settings=["oauth2"],
                _return_http_data_only=False,
                **kwargs,
            )

        return self.call(budget, get)

    def paginate(
        self, budget: str, method: Callable[..., Any], *args: Any, paginator: Paginator, **kwargs: Any
    ) -> Iterator[Any]:
        """Every page of an SDK list call, through `paginator` and its loop guard (`adapters.paging`)."""

        def fetch(request: PageRequest) -> Fetched:
            return self.call(budget, method, *args, **request.params), None

        return (page for page, _ in paginate(fetch, PageRequest(params=kwargs), paginator))

    def once(self, budget: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One attempt of an SDK `*_with_http_info` call, through the governor and the error mapping."""
        self.governor.acquire(budget)
        try:
            data, status, headers = method(*args, _request_timeout=self.timeout, **kwargs)
        except urllib3.exceptions.HTTPError as exc:
            raise transport_error("hubspot", self.host, exc) from exc
        except ValueError as exc:  # the SDK could not decode the body
            raise RetryableAPIError(f"the body is not complete JSON: {exc}", vendor="hubspot") from exc
        except Exception as exc:
            status = getattr(exc, "status", None)
            # each SDK module has its own ApiException family (ServiceException, NotFoundException, …)
            if not _is_sdk_error(exc) or not isinstance(status, int):
                raise
            headers = dict(getattr(exc, "headers", None) or {})
            self.governor.observe(status, headers, budget)
            if status == 0:
                raise RetryableAPIError(f"transport failure: {exc}", vendor="hubspot") from exc
            error = error_for_status("hubspot", status, headers, getattr(exc, "body", None))
            raise (error or exc) from exc
        self.governor.observe(status, dict(headers or {}), budget)
        if isinstance(data, str | bytes) or data is None or _empty_model(data):
            raise RetryableAPIError(
                "the body is not the JSON object this endpoint answers (not JSON, cut short, or another "
                "shape)",
                vendor="hubspot",
                status=status,
            )
        return data


def _empty_model(data: Any) -> bool:
    """A generated model with every field empty: what the SDK makes of a body that is not JSON (it falls
    back to the raw text and fills nothing, so a page would read as empty and a cursor move past records
    never read) or of JSON of another shape. No answer the connector reads is like that: a collection
    carries its `results`, a record its `id`."""
    fields = getattr(data, "openapi_types", None)
    return isinstance(fields, dict) and bool(fields) and all(getattr(data, f, None) is None for f in fields)


def _is_sdk_error(exc: Exception) -> bool:
    return any(cls.__name__ == "ApiException" for cls in type(exc).__mro__)
