"""What changed between two versions of a contract, and whom the change breaks.

Every change has a `kind`; the kind alone fixes its direction and its impact on each side, through
`CLASSIFICATION` (the table in docs/evolution.md is checked against it by the tests):

- **tightening**: the new contract accepts less data than the old one, so a producer's rows may now
  be quarantined or the run may fail (a narrowed enum, a new rule, a field made required);
- **loosening**: the new contract accepts more, so a consumer may now receive data it was not built
  for (a widened enum, a nullable field, a wider type) or lose something it read (a removed field);
- **both** / **neutral**: a change of meaning in both directions, or documentation and settings.

Consumer policy: consumers rely on the *shape* of the data (columns, types, nullability, uniqueness,
the set of accepted values), not on validation details; so loosening a range, a pattern, a length or
a rule does not break them, while widening an enum does (consumers switch over enum values).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from meshc.located_yaml import JsonPath

if TYPE_CHECKING:
    from meshc.contract import Contract


class Direction(str, Enum):
    TIGHTENING = "tightening"
    LOOSENING = "loosening"
    BOTH = "both"
    NEUTRAL = "neutral"


class Impact(str, Enum):
    BREAKING = "breaking"
    NON_BREAKING = "non-breaking"


_T, _L, _B, _N = Direction.TIGHTENING, Direction.LOOSENING, Direction.BOTH, Direction.NEUTRAL
_X, _O = Impact.BREAKING, Impact.NON_BREAKING

# kind -> (direction, consumer impact, producer impact, what it means)
CLASSIFICATION: dict[str, tuple[Direction, Impact, Impact, str]] = {
    "field_added": (_N, _O, _O, "an optional field was added"),
    "required_field_added": (_T, _O, _X, "a required field was added"),
    "field_removed": (_L, _X, _O, "a field was removed"),
    "field_renamed": (_B, _X, _X, "a field was renamed (same type, similar name)"),
    "type_widened": (_L, _X, _O, "the type accepts more values (integer -> float, any -> string)"),
    "type_narrowed": (_T, _O, _X, "the type accepts fewer values (float -> integer)"),
    "type_changed": (_B, _X, _X, "the type changed to one that is neither wider nor narrower"),
    "made_required": (_T, _O, _X, "a field became required (NOT NULL)"),
    "made_nullable": (_L, _X, _O, "a field may now be NULL"),
    "unique_added": (_T, _O, _X, "a field must now be unique"),
    "unique_removed": (_L, _X, _O, "a field is no longer guaranteed unique"),
    "primary_key_changed": (
        _N,
        _O,
        _O,
        "primary key designation (nullability and uniqueness are reported on their own)",
    ),
    "accepted_values_added": (_T, _O, _X, "a field now has a list of accepted values"),
    "accepted_values_narrowed": (_T, _O, _X, "accepted values were removed"),
    "accepted_values_widened": (_L, _X, _O, "accepted values were added"),
    "accepted_values_removed": (_L, _X, _O, "a field no longer restricts its values"),
    "accepted_values_changed": (_B, _X, _X, "accepted values were both added and removed"),
    "range_tightened": (_T, _O, _X, "min raised / max lowered, or a bound added"),
    "range_loosened": (_L, _O, _O, "min lowered / max raised, or a bound removed"),
    "range_changed": (_B, _O, _X, "a bound changed to an incomparable value"),
    "max_length_tightened": (_T, _O, _X, "max_length lowered or added"),
    "max_length_loosened": (_L, _O, _O, "max_length raised or removed"),
    "pattern_added": (_T, _O, _X, "a pattern was added"),
    "pattern_removed": (_L, _O, _O, "a pattern was removed"),
    "pattern_changed": (_B, _O, _X, "a pattern changed (regex containment is not decided)"),
    "masking_changed": (_B, _X, _O, "the values consumers see are masked differently"),
    "field_metadata_changed": (_N, _O, _O, "description, pii or references of a field"),
    "rule_added": (_T, _O, _X, "an error-severity rule was added"),
    "warn_rule_added": (_N, _O, _O, "a warn-severity rule was added (it only reports)"),
    "rule_removed": (_L, _O, _O, "a rule was removed"),
    "rule_changed": (_B, _O, _X, "a rule's condition changed"),
    "rule_tightened": (_T, _O, _X, "a dataset rule's threshold became stricter"),
    "rule_loosened": (_L, _O, _O, "a dataset rule's threshold became laxer"),
    "rule_severity_raised": (_T, _O, _X, "a rule went from warn to error"),
    "rule_severity_lowered": (_L, _O, _O, "a rule went from error to warn"),
    "rule_metadata_changed": (_N, _O, _O, "a rule's description changed"),
    "quarantine_ratio_tightened": (_T, _O, _X, "max_quarantine_ratio lowered or added"),
    "quarantine_ratio_loosened": (_L, _O, _O, "max_quarantine_ratio raised or removed"),
    "extra_columns_rejected": (_T, _O, _X, "extra source columns now fail the run"),
    "extra_columns_no_longer_kept": (_N, _X, _O, "extra columns are no longer passed through"),
    "extra_columns_relaxed": (_L, _O, _O, "extra source columns are now dropped or kept"),
    "quarantine_changed": (_N, _O, _O, "a quarantine setting changed"),
    "lineage_changed": (_N, _O, _O, "a lineage setting changed"),
    "owner_changed": (_N, _O, _O, "the owning team changed"),
    "info_changed": (_N, _O, _O, "description, system, layer or tags changed"),
    "version_changed": (_N, _O, _O, "the contract version changed"),
    "contract_renamed": (_N, _X, _O, "domain or name changed: consumers refer to domain.name"),
    "output_moved": (_N, _X, _O, "the output target or format changed: consumers read there"),
    "source_moved": (
        _N,
        _O,
        _X,
        "the source path, format or options changed: producers land data there",
    ),
    "transform_changed": (_N, _O, _O, "a gold contract's transform inputs or SQL changed"),
}


@dataclass(frozen=True)
class Change:
    """One change between two contract versions.

    `jpath` points into the NEW contract, except for removals (`in_old`), where it points into the
    OLD one. `subject` names what changed ("field 'amount'", "row rule 'positive'", "quarantine").
    """

    kind: str
    subject: str
    old: Any
    new: Any
    jpath: JsonPath
    field: str | None = None
    in_old: bool = False

    def __post_init__(self) -> None:
        if self.kind not in CLASSIFICATION:
            raise ValueError(f"unknown change kind {self.kind!r}")

    @property
    def direction(self) -> Direction:
        return CLASSIFICATION[self.kind][0]

    @property
    def consumer(self) -> Impact:
        return CLASSIFICATION[self.kind][1]

    @property
    def producer(self) -> Impact:
        return CLASSIFICATION[self.kind][2]

    @property
    def breaking(self) -> bool:
        return Impact.BREAKING in (self.consumer, self.producer)

    @property
    def broken_sides(self) -> tuple[str, ...]:
        """('consumer', 'producer'), or the one side this change breaks."""
        sides = (("consumer", self.consumer), ("producer", self.producer))
        return tuple(name for name, impact in sides if impact is Impact.BREAKING)

    def describe(self) -> str:
        """`field 'amount': type_narrowed (float -> integer)`."""
        values = ""
        if self.old is not None or self.new is not None:
            values = f" ({_show(self.old)} -> {_show(self.new)})"
        return f"{self.subject}: {self.kind}{values}"

    def anchor(self) -> JsonPath:
        """Where to point in the NEW contract: the change itself, or for a removal the list or
        section the removed element was in."""
        if not self.in_old:
            return self.jpath
        for i, part in enumerate(self.jpath):
            if isinstance(part, int):
                return self.jpath[:i]
        return self.jpath[:-1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "field": self.field,
            "old": _jsonable(self.old),
            "new": _jsonable(self.new),
            "direction": self.direction.value,
            "consumer": self.consumer.value,
            "producer": self.producer.value,
            "breaking": self.breaking,
            "jpath": list(self.jpath),
            "in_old": self.in_old,
        }


@dataclass(frozen=True)
class ContractDiff:
    """The changes of one contract between two versions; `old` is None for a new contract and
    `new` is None for a deleted one."""

    old: Contract | None
    new: Contract | None
    changes: tuple[Change, ...] = ()
    old_label: str | None = None  # where the old version came from, e.g. 'HEAD~1:contracts/a.yaml'

    @property
    def ref(self) -> str:
        contract = self.new or self.old
        assert contract is not None
        return contract.ref

    @property
    def status(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "deleted"
        return "changed" if self.changes else "unchanged"

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.breaking)

    @property
    def major_bumped(self) -> bool:
        if self.old is None or self.new is None:
            return False
        return _major(self.new) > _major(self.old)

    def location(self, change: Change) -> tuple[str, int, int]:
        """(path, line, col) of a change: in the new file, or in the old one for a removal."""
        contract = self.old if change.in_old else self.new
        if contract is None or contract.locator is None:
            return (self.old_label or "<memory>") if change.in_old else "<memory>", 0, 0
        line, col = contract.locator.value(change.jpath)
        path = self.old_label if change.in_old and self.old_label else contract.path
        return path, line, col


def _major(contract: Contract) -> int:
    try:
        return contract.info.major
    except ValueError:
        return 0


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return str(value)
