"""Where knowledge lives: the calculator knows no vendor (what it must know of one comes from the vendor
registry), and every vendor is one registry entry whose adapter exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from adapters.registry import CALL_LOGGING_CRMS, PROFILES
from connector.settings import Vendor

ROOT = Path(__file__).resolve().parent.parent


def test_the_calculator_names_no_vendor() -> None:
    names = re.compile("|".join(v.value for v in Vendor), re.IGNORECASE)
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((ROOT / "connector" / "kpis").glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if names.search(line)
    ]
    assert not found, "\n".join(found)


def test_every_vendor_has_a_profile_whose_adapter_exists() -> None:
    assert set(PROFILES) == set(Vendor)
    for vendor, profile in PROFILES.items():
        module, name = profile.adapter.split(":")
        adapter = getattr(importlib.import_module(module), name)
        for method in ("streams", "probe", "refetch", "close"):  # the `Adapter` protocol's methods
            assert callable(getattr(adapter, method, None)), (vendor, method)
    assert {"hubspot"} == CALL_LOGGING_CRMS  # Aircall's HubSpot integration logs its calls in HubSpot


def test_only_the_store_talks_to_the_database() -> None:
    """SQLAlchemy queries and the store's engine are used in `connector/store/` only: everything else asks
    `Store` (the calculator's DuckDB attaches the store read-only, by the URL the store gives)."""
    reaching = re.compile(
        r"\bstore\.engine\.|\bfrom sqlalchemy import\b.*\b(select|insert|update|delete|text)\b"
    )
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for package in ("connector", "adapters")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "store" not in path.relative_to(ROOT).parts[:2]
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if reaching.search(line)
    ]
    assert not found, "\n".join(found)


def test_every_vendor_list_goes_through_paginate() -> None:
    """The vendor adapters page no list by hand: every `while` loop of paging lives in `adapters/paging.py`
    (and the time windows in `adapters/windows.py`), behind one loop guard."""
    loops = [
        f"{path.name}:{n}"
        for path in (ROOT / "adapters").glob("*.py")
        if path.name not in ("paging.py", "windows.py", "http.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.match(r"\s*while\b", line)
    ]
    assert not loops, loops


def test_the_writer_shares_hubspots_transport_without_the_adapter() -> None:
    """The HubSpot client and its governor are built in one place (`adapters.hubspot_api`), which the
    writer uses without importing the reading adapter."""
    import subprocess
    import sys

    probe = "import sys, connector.writer.hubspot; print('adapters.hubspot' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert found.stdout.strip() == "False"
    sources = [p for p in ROOT.rglob("*.py") if ".venv" not in p.parts and "build" not in p.parts]
    builders = [
        p.name for p in sources if "HubSpotApi(" in p.read_text(encoding="utf-8") and p.parent.name != "tests"
    ]
    assert builders == ["hubspot_api.py"], builders


def test_adapters_take_their_own_vendor_settings() -> None:
    """An adapter is built from its vendor's settings section (the registry's `build_adapter` picks it out
    of the whole settings); it keeps no reference to the whole `Settings`."""
    import inspect
    import typing

    for profile in PROFILES.values():
        module, name = profile.adapter.split(":")
        adapter = getattr(importlib.import_module(module), name)
        if "__init__" in vars(adapter):
            config = inspect.signature(adapter.__init__).parameters["config"].annotation
        else:  # the base's constructor, typed by the settings the adapter's base is parametrised with
            config = typing.get_args(adapter.__orig_bases__[0])[0].__name__
        assert str(config).endswith(f"{adapter.__name__.removesuffix('Adapter')}Settings"), (name, config)
        source = inspect.getsource(importlib.import_module(module))  # its streams too
        assert "self.settings" not in source and ".settings." not in source, name
