"""HubSpot's property and custom-object-schema registries, as the sandbox keeps them.

Built-in properties are derived from the records each object type renders; properties, groups and
schemas created through the API are added and kept, so write-back tests can assert what was created.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connector.sandbox.hubspot_objects import ObjectKind, StoredKind, iso

PORTAL_ID = 4_2424_242
GROUPS = {
    "tickets": "ticketinformation",
    "contacts": "contactinformation",
    "calls": "callinformation",
    "feedback_submissions": "feedbacksubmissioninformation",
    "deals": "dealinformation",
    "tasks": "taskinformation",
}
TASK_PROPERTIES = {
    "hs_timestamp": ("datetime", "date"),
    "hs_task_subject": ("string", "text"),
    "hs_task_body": ("string", "html"),
    "hs_task_status": ("enumeration", "select"),
    "hs_task_priority": ("enumeration", "select"),
    "hs_task_type": ("enumeration", "select"),
    "hubspot_owner_id": ("enumeration", "select"),
    "hs_object_id": ("number", "number"),
}
"""The task properties HubSpot's tasks guide names (developers.hubspot.com/docs/api/crm/tasks); their types
are assumed (the guide gives none)."""
PROPERTY_TYPES = {"string", "number", "date", "datetime", "enumeration", "bool"}
FIELD_TYPES = {
    "text",
    "textarea",
    "number",
    "date",
    "select",
    "radio",
    "checkbox",
    "booleancheckbox",
    "calculation_equation",
}


class RegistryError(Exception):
    """A request the registry refuses: HTTP status, HubSpot category and message."""

    def __init__(self, status: int, category: str, message: str) -> None:
        super().__init__(message)
        self.status, self.category, self.message = status, category, message


def _property_json(
    name: str, *, label: str, types: tuple[str, str], group: str, unique: bool = False, defined: bool = True
) -> dict[str, Any]:
    """A property definition as HubSpot's properties API answers it; `types` is its (type, fieldType)."""
    now = iso(datetime(2024, 1, 1, tzinfo=UTC))
    kind, field_type = types
    return {
        "name": name,
        "label": label,
        "type": kind,
        "fieldType": field_type,
        "groupName": group,
        "description": "",
        "options": [],
        "displayOrder": -1,
        "hasUniqueValue": unique,
        "hidden": False,
        "hubspotDefined": defined,
        "formField": False,
        "calculated": False,
        "externalOptions": False,
        "createdAt": now,
        "updatedAt": now,
        "archived": False,
        "modificationMetadata": {
            "archivable": not defined,
            "readOnlyDefinition": defined,
            "readOnlyValue": False,
        },
    }


def _guess_type(name: str, value: str | None) -> tuple[str, str]:
    if name.endswith(("date", "_at", "timestamp")) or "date" in name:
        return "datetime", "date"
    if value is not None and value.replace(".", "", 1).isdigit():
        return "number", "number"
    return "string", "text"


class PropertyRegistry:
    def __init__(self, kinds: dict[str, ObjectKind]) -> None:
        self.kinds = kinds
        self.properties: dict[str, dict[str, dict[str, Any]]] = {}
        self.groups: dict[str, dict[str, dict[str, Any]]] = {}
        for name, kind in kinds.items():
            self._add_builtin(name, kind)

    def _add_builtin(self, name: str, kind: ObjectKind) -> None:
        group = GROUPS.get(name, f"{name}_information")
        self.groups[name] = {group: {"name": group, "label": group, "displayOrder": 0, "archived": False}}
        sample = kind.record(0).properties if kind.count else {}
        if name == "tasks":
            sample = dict.fromkeys(TASK_PROPERTIES, "")
        self.properties[name] = {}
        for prop, value in sample.items():
            types = TASK_PROPERTIES.get(prop) or _guess_type(prop, value)
            self.properties[name][prop] = _property_json(
                prop, label=prop.replace("_", " "), types=types, group=group, unique=prop == "hs_object_id"
            )

    def object_properties(self, object_type: str) -> dict[str, dict[str, Any]]:
        if object_type not in self.properties:
            raise RegistryError(404, "OBJECT_NOT_FOUND", f"Unable to infer object type from: {object_type}")
        return self.properties[object_type]

    def create(self, object_type: str, spec: dict[str, Any]) -> dict[str, Any]:
        existing = self.object_properties(object_type)
        missing = [key for key in ("name", "label", "type", "fieldType", "groupName") if not spec.get(key)]
        if missing:
            raise RegistryError(400, "VALIDATION_ERROR", f"Property is missing {', '.join(missing)}")
        if spec["type"] not in PROPERTY_TYPES or spec["fieldType"] not in FIELD_TYPES:
            raise RegistryError(400, "VALIDATION_ERROR", f"Invalid type {spec['type']}/{spec['fieldType']}")
        if spec["groupName"] not in self.groups[object_type]:
            raise RegistryError(400, "VALIDATION_ERROR", f"Property group {spec['groupName']} does not exist")
        if spec["name"] in existing:
            raise RegistryError(
                409, "OBJECT_ALREADY_EXISTS", f"Property named '{spec['name']}' already exists."
            )
        created = _property_json(
            spec["name"], label=spec["label"], types=(spec["type"], spec["fieldType"]),
            group=spec["groupName"], unique=bool(spec.get("hasUniqueValue")), defined=False,
        )  # fmt: skip
        created["description"] = spec.get("description", "")
        existing[spec["name"]] = created
        return created

    def create_group(self, object_type: str, spec: dict[str, Any]) -> dict[str, Any]:
        self.object_properties(object_type)
        if not spec.get("name") or not spec.get("label"):
            raise RegistryError(400, "VALIDATION_ERROR", "A property group needs name and label")
        if spec["name"] in self.groups[object_type]:
            raise RegistryError(
                409, "OBJECT_ALREADY_EXISTS", f"Property group '{spec['name']}' already exists."
            )
        group = {
            "name": spec["name"],
            "label": spec["label"],
            "displayOrder": spec.get("displayOrder", -1),
            "archived": False,
        }
        self.groups[object_type][spec["name"]] = group
        return group


class SchemaRegistry:
    """Custom object schemas; creating one adds an object type to the CRM objects API."""

    def __init__(
        self, kinds: dict[str, ObjectKind], properties: PropertyRegistry, *, enabled: bool = True
    ) -> None:
        self.kinds = kinds
        self.registry = properties
        self.enabled = enabled
        self.schemas: dict[str, dict[str, Any]] = {}

    def create(self, spec: dict[str, Any]) -> dict[str, Any]:
        if not self.enabled:
            raise RegistryError(403, "MISSING_SCOPES", "This portal has no access to custom objects.")
        missing = [
            k
            for k in ("name", "labels", "properties", "requiredProperties", "associatedObjects")
            if k not in spec
        ]
        if missing:
            raise RegistryError(400, "VALIDATION_ERROR", f"Schema is missing {', '.join(missing)}")
        name = spec["name"]
        if name in self.schemas:
            raise RegistryError(409, "OBJECT_ALREADY_EXISTS", f"Object type '{name}' already exists.")
        number = 100 + len(self.schemas)
        type_id = f"2-{number}"
        fully_qualified = f"p{PORTAL_ID}_{name}"
        # A custom object is addressed by its objectTypeId or fully qualified name, never by the bare
        # name it was created with (NOTES.md: a bare name is not documented to work).
        kind = StoredKind(name, id_base=number * 10_000_000, default_properties=("hs_object_id",))
        for alias in (type_id, fully_qualified):
            self.kinds[alias] = kind
        group = f"{name}_information"
        self.registry.properties[fully_qualified] = {}
        self.registry.groups[fully_qualified] = {
            group: {"name": group, "label": group, "displayOrder": 0, "archived": False}
        }
        self.registry.properties[type_id] = self.registry.properties[fully_qualified]
        self.registry.groups[type_id] = self.registry.groups[fully_qualified]
        for prop in spec["properties"]:
            self.registry.create(
                fully_qualified, {"groupName": group, "fieldType": prop.get("fieldType", "text"), **prop}
            )
        now = iso(datetime.now(UTC))
        schema = {
            "id": str(number),
            "objectTypeId": type_id,
            "fullyQualifiedName": fully_qualified,
            "name": name,
            "labels": spec["labels"],
            "requiredProperties": spec["requiredProperties"],
            "searchableProperties": spec.get("searchableProperties", []),
            "primaryDisplayProperty": spec.get("primaryDisplayProperty"),
            "secondaryDisplayProperties": spec.get("secondaryDisplayProperties", []),
            "properties": list(self.registry.properties[fully_qualified].values()),
            "associations": [
                {
                    "id": str(500 + n),
                    "fromObjectTypeId": type_id,
                    "toObjectTypeId": other,
                    "name": f"{name}_to_{other}",
                }
                for n, other in enumerate(spec["associatedObjects"])
            ],
            "createdAt": now,
            "updatedAt": now,
            "archived": False,
        }
        self.schemas[name] = schema
        return schema

    def get(self, key: str) -> dict[str, Any]:
        """A schema by objectTypeId or fully qualified name; its bare name finds nothing."""
        for schema in self.schemas.values():
            if key in (schema["objectTypeId"], schema["fullyQualifiedName"]):
                return schema
        raise RegistryError(404, "OBJECT_NOT_FOUND", f"Unable to find object type {key}")
