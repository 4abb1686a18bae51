"""The one error tree: every error the connector raises on purpose descends from `ConnectorError`, is
defined in `connector/errors.py`, and sits where the module's drawn tree shows it."""

from __future__ import annotations

import importlib
import pkgutil
import re

import adapters
import connector
from connector import errors


def _all_modules() -> None:
    """Import every module of the package and the adapters, so every error class is defined."""
    for package in (connector, adapters):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations" not in module.name:
                importlib.import_module(module.name)


def _subclasses(root: type) -> list[type]:
    found: list[type] = []
    children: list[type] = root.__subclasses__()
    for child in children:
        found += [child, *_subclasses(child)]
    return found


def test_every_connector_error_is_defined_in_errors_and_drawn_in_its_tree() -> None:
    _all_modules()
    classes = _subclasses(errors.ConnectorError)
    assert {c.__module__ for c in classes} == {"connector.errors"}, [
        f"{c.__module__}.{c.__name__}" for c in classes if c.__module__ != "connector.errors"
    ]
    drawn = {}
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^([│ ]*)(?:├── |└── )?([A-Z]\w+Error)\b", line)
        if match:
            drawn[match.group(2)] = len(match.group(1)) // 4 + (
                0 if match.group(2) == "ConnectorError" else 1
            )
    assert set(drawn) == {"ConnectorError", *(c.__name__ for c in classes)}
    for cls in classes:  # depth in the drawing = depth below the root
        assert drawn[cls.__name__] == cls.__mro__.index(errors.ConnectorError), cls.__name__
