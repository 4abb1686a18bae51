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
    from connector.settings import Settings


@dataclass(frozen=True)
class VendorProfile:
    vendor: Vendor
    adapter: str
    """`module:Class` of its adapter, imported when first built (a vendor's SDK loads only if used)."""
    logs_others_calls: bool = False
    """A CRM that logs the calls of the telephony systems connected to it (Aircall's HubSpot integration
    creates a HubSpot call for each Aircall call): its copy of a call yields to the telephony system's,
    which knows the wait and the missed reason (`Workspace._drop_duplicate_calls`)."""


PROFILES: dict[Vendor, VendorProfile] = {
    Vendor.HUBSPOT: VendorProfile(Vendor.HUBSPOT, "adapters.hubspot:HubSpotAdapter", logs_others_calls=True),
    Vendor.AIRCALL: VendorProfile(Vendor.AIRCALL, "adapters.aircall:AircallAdapter"),
    Vendor.LIVEAGENT: VendorProfile(Vendor.LIVEAGENT, "adapters.liveagent:LiveAgentAdapter"),
}
assert set(PROFILES) == set(Vendor), "every vendor has a profile"

CALL_LOGGING_CRMS = frozenset(p.vendor.value for p in PROFILES.values() if p.logs_others_calls)
"""Sources whose copy of a call logged by two systems is dropped."""


def build_adapter(vendor: Vendor, settings: Settings, plan: SyncPlan) -> Adapter:
    """The vendor's adapter for one run."""
    module, name = PROFILES[vendor].adapter.split(":")
    return cast("Adapter", getattr(importlib.import_module(module), name)(settings, plan))
