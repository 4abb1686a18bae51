"""The vendors the connector reads, one profile each: which adapter reads it, and what the rest of the
connector must know about its records. Adding a vendor is its adapter module, its settings model and one
entry here.

    >>> adapter = build_adapter(Vendor.AIRCALL, settings, plan)
    >>> PROFILES[Vendor.HUBSPOT].logs_others_calls
    True
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from connector.settings import Vendor

if TYPE_CHECKING:
    from adapters.base import Adapter, SyncPlan
    from adapters.governor import RateGovernor
    from connector.settings import Settings


@dataclass(frozen=True)
class VendorHeaders:
    """What a vendor's answers carry in their headers (sources in NOTES.md and the contract tables)."""

    request_id: tuple[str, ...] = ("X-Request-Id", "X-Correlation-Id")
    """Headers naming the request, for error messages a vendor's support can trace."""
    remaining: tuple[str, ...] = ("X-RateLimit-Remaining",)
    """Requests left in the current rate window (nearly none: someone else shares the quota)."""
    reset_epoch: str | None = None
    """The UNIX time the window resets, the pause when a 429 sends no `Retry-After`."""
    daily_remaining: str | None = None
    daily_limit: str | None = None
    """The daily quota's counters, where the vendor sends them."""


GENERIC_HEADERS = VendorHeaders()


@dataclass(frozen=True)
class VendorProfile:
    vendor: Vendor
    adapter: str
    """`module:Class` of its adapter, imported when first built (a vendor's SDK loads only if used)."""
    logs_others_calls: bool = False
    """A CRM that logs the calls of the telephony systems connected to it (Aircall's HubSpot integration
    creates a HubSpot call for each Aircall call): its copy of a call yields to the telephony system's,
    which knows the wait and the missed reason (`Workspace._drop_duplicate_calls`)."""
    headers: VendorHeaders = GENERIC_HEADERS
    """Its rate-limit and request-id headers (`adapters.http`, `adapters.governor`)."""
    takes: tuple[str, ...] = ()
    """Connector-wide settings its adapter takes as keyword arguments, besides its own section."""


PROFILES: dict[Vendor, VendorProfile] = {
    Vendor.HUBSPOT: VendorProfile(
        Vendor.HUBSPOT,
        "adapters.hubspot:HubSpotAdapter",
        logs_others_calls=True,
        takes=("currency",),  # a deal's currency when HubSpot gives none
        headers=VendorHeaders(
            request_id=("X-HubSpot-Correlation-Id", *GENERIC_HEADERS.request_id),
            remaining=("X-HubSpot-RateLimit-Remaining", *GENERIC_HEADERS.remaining),
            daily_remaining="X-HubSpot-RateLimit-Daily-Remaining",
            daily_limit="X-HubSpot-RateLimit-Daily",
        ),
    ),
    Vendor.AIRCALL: VendorProfile(
        Vendor.AIRCALL,
        "adapters.aircall:AircallAdapter",
        headers=VendorHeaders(
            remaining=("X-AircallApi-Remaining", *GENERIC_HEADERS.remaining), reset_epoch="X-AircallApi-Reset"
        ),
    ),
    # LiveAgent publishes its limit (180 / min), not its 429 headers: the generic ones (README: assumed)
    Vendor.LIVEAGENT: VendorProfile(Vendor.LIVEAGENT, "adapters.liveagent:LiveAgentAdapter"),
}
assert set(PROFILES) == set(Vendor), "every vendor has a profile"

CALL_LOGGING_CRMS = frozenset(p.vendor.value for p in PROFILES.values() if p.logs_others_calls)
"""Sources whose copy of a call logged by two systems is dropped."""


def headers_of(vendor: str) -> VendorHeaders:
    """A vendor's headers by its name (the generic ones for a name not in the registry)."""
    return next((p.headers for p in PROFILES.values() if p.vendor.value == vendor), GENERIC_HEADERS)


def build_adapter(
    vendor: Vendor, settings: Settings, plan: SyncPlan, *, governor: RateGovernor | None = None
) -> Adapter:
    """The vendor's adapter for one run: built from its own settings section (`settings.<vendor>`) and the
    connector-wide settings its profile `takes`; `governor` shares a rate budget (default: its own)."""
    profile = PROFILES[vendor]
    module, name = profile.adapter.split(":")
    adapter_class = getattr(importlib.import_module(module), name)
    extras = {option: getattr(settings, option) for option in profile.takes}
    return cast("Adapter", adapter_class(getattr(settings, vendor.value), plan, governor=governor, **extras))
