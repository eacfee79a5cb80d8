"""One diff for any two versions of an entry: field by field, and array by array.

`diff(old, new)` takes two snapshots (public ones, for the public; public and confidential
merged, for the holder and the agency) and says what was added, changed or removed, each change
under its stable path. An array keeps its id across versions, so a renamed array is a changed
array, not one removed and one added. An empty value (None, "", []) counts as absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from register.services.snapshots import (
    ARRAY_FIELDS,
    HEAD_FIELDS,
    ORGANISATION_FIELDS,
    RESPONSIBLE_FIELDS,
    Snapshot,
    flatten,
)

ADDED = "added"
CHANGED = "changed"
REMOVED = "removed"

# Paths are listed in the order of the forms; unknown fields come after, by name.
_ORDER = {
    **{f"organisation/{f.name}": index for index, f in enumerate(ORGANISATION_FIELDS)},
    **{f"people/head/{f.name}": 100 + index for index, f in enumerate(HEAD_FIELDS)},
    **{f"people/responsible/{f.name}": 200 + index for index, f in enumerate(RESPONSIBLE_FIELDS)},
}
_ARRAY_ORDER = {f.name: index for index, f in enumerate(ARRAY_FIELDS)}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


@dataclass(frozen=True)
class Change:
    """One field that differs between two versions."""

    path: str
    kind: str  # added, changed or removed
    old: Any
    new: Any

    @property
    def field(self) -> str:
        """The field's name, the last part of its path."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def items_added(self) -> list[Any]:
        """For a list value: the items the new version has and the old one had not."""
        old, new = self.old or [], self.new or []
        if not isinstance(old, list) or not isinstance(new, list):
            return []
        return [item for item in new if item not in old]

    @property
    def items_removed(self) -> list[Any]:
        """For a list value: the items the old version had and the new one has not."""
        old, new = self.old or [], self.new or []
        if not isinstance(old, list) or not isinstance(new, list):
            return []
        return [item for item in old if item not in new]


@dataclass(frozen=True)
class ArrayDiff:
    """One array that was added, removed or changed, with its field changes."""

    array_id: str
    name: str
    kind: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class VersionDiff:
    """Everything that differs between two versions."""

    organisation: tuple[Change, ...]
    people: tuple[Change, ...]
    arrays: tuple[ArrayDiff, ...]

    def __bool__(self) -> bool:
        return bool(self.organisation or self.people or self.arrays)

    @property
    def changes(self) -> list[Change]:
        """Every field change, the arrays' included, in page order."""
        found = [*self.organisation, *self.people]
        for array in self.arrays:
            found.extend(array.changes)
        return found

    def by_path(self) -> dict[str, Change]:
        """The changes by their path."""
        return {change.path: change for change in self.changes}

    def array(self, array_id: str) -> ArrayDiff | None:
        """The diff of one array, if it differs."""
        return next((array for array in self.arrays if array.array_id == array_id), None)


def _compare(path: str, old: Any, new: Any) -> Change | None:
    if _empty(old) and _empty(new):
        return None
    if _empty(old):
        return Change(path, ADDED, None, new)
    if _empty(new):
        return Change(path, REMOVED, old, None)
    if old != new:
        return Change(path, CHANGED, old, new)
    return None


def _array_name(snapshot: Snapshot | None, array_id: str) -> str:
    values = ((snapshot or {}).get("arrays") or {}).get(array_id) or {}
    return str(values.get("name") or "")


def diff(old: Snapshot | None, new: Snapshot) -> VersionDiff:
    """What changed from `old` (None: nothing before, so everything is added) to `new`."""
    old_paths, new_paths = flatten(old), flatten(new)
    organisation: list[Change] = []
    people: list[Change] = []
    by_array: dict[str, list[Change]] = {}
    for path in sorted(old_paths.keys() | new_paths.keys()):
        change = _compare(path, old_paths.get(path), new_paths.get(path))
        if change is None:
            continue
        section = path.split("/", 1)[0]
        if section == "organisation":
            organisation.append(change)
        elif section == "people":
            people.append(change)
        elif section == "arrays":
            by_array.setdefault(path.split("/")[1], []).append(change)

    old_ids = set(((old or {}).get("arrays") or {}).keys())
    new_ids = set((new.get("arrays") or {}).keys())
    arrays: list[ArrayDiff] = []
    for array_id in (old_ids | new_ids) & (set(by_array) | (old_ids ^ new_ids)):
        if array_id not in old_ids:
            kind = ADDED
        elif array_id not in new_ids:
            kind = REMOVED
        else:
            kind = CHANGED
        changes = sorted(
            by_array.get(array_id, []), key=lambda change: _ARRAY_ORDER.get(change.field, 999)
        )
        name = _array_name(new, array_id) or _array_name(old, array_id)
        arrays.append(ArrayDiff(array_id, name, kind, tuple(changes)))
    arrays.sort(key=lambda array: (array.name.casefold(), array.array_id))

    def order(change: Change) -> tuple[int, str]:
        return _ORDER.get(change.path, 999), change.path

    return VersionDiff(
        organisation=tuple(sorted(organisation, key=order)),
        people=tuple(sorted(people, key=order)),
        arrays=tuple(arrays),
    )
