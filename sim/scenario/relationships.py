"""The `[[flashcopy]]`, `[[group]]` and `[[event]]` tables of a scenario."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flashsim.models.ops import OUT_OF_SPACE_POLICIES, PROFILE_NAMES
from flashsim.sim.scenario.specs import (
    ACTIONS,
    DEFAULT_CLEANING_RATE,
    DEFAULT_COPY_RATE,
    DEFAULT_FREEZE_TIMEOUT_S,
    EventSpec,
    FlashCopySpec,
    GroupSpec,
    RunSpec,
    VolumeSpec,
)
from flashsim.sim.scenario.tables import Table, non_negative, not_empty, positive, tables_of, unique
from flashsim.sim.scenario.units import MIB, svc_copy_rate_bytes_s


def run_design(raw: dict[str, Any], run_profile: str | None) -> tuple[str, str | None]:
    """The design the run simulates and where it was chosen: `run.profile` if given ("run"),
    else the first `[[flashcopy]]` that names a `design` (its id), else ds8000 (None). One run
    is one storage system and runs one design; `flashcopy_specs` rejects the others."""
    if run_profile is not None:
        return run_profile, "run"
    tables = raw.get("flashcopy")
    for t in tables if isinstance(tables, list) else ():
        if isinstance(t, dict) and t.get("design") in PROFILE_NAMES:
            return t["design"], str(t.get("id"))
    return "ds8000", None


def _family(pairs: list[tuple[Any, Any]], volume: Any) -> set[Any]:
    """The volumes connected to `volume` through the relationships `pairs` (its family)."""
    family, grew = {volume}, True
    while grew:
        grew = False
        for a, b in pairs:
            if (a in family) != (b in family):
                family |= {a, b}
                grew = True
    return family


def _check_design(
    t: Table,
    design: str,
    run: RunSpec,
    chosen_by: str | None,
    pairs: list[tuple[Any, Any, str]],
) -> None:
    """A relationship's `design` must be the run's (docs/simulator.md, "Designs")."""
    if design == run.profile:
        return
    if chosen_by == "run":
        raise t.error(
            "design",
            f'"{design}" differs from run.profile "{run.profile}": one run is one storage '
            "system, which runs one design (sim/design_comparison.py runs a scenario under each)",
        )
    first = next(p for p in pairs if p[2] == chosen_by)
    family = _family([(a, b) for a, b, _ in pairs], first[0])
    if t.data.get("source") in family or t.data.get("target") in family:
        raise t.error(
            "design",
            f'"{design}" differs from the "{run.profile}" of flashcopy {chosen_by}, in the same '
            "family: the relationships of a volume's family run one design",
        )
    raise t.error(
        "design",
        f'"{design}" differs from the "{run.profile}" of flashcopy {chosen_by}: one run is one '
        "storage system, which runs one design; simulate each design in a run of its own",
    )


def flashcopy_specs(
    raw: dict[str, Any],
    file: str,
    volumes: dict[str, VolumeSpec],
    run: RunSpec,
    chosen_by: str | None = "run",
) -> tuple[list[FlashCopySpec], list[Table]]:
    """The `[[flashcopy]]` tables; `chosen_by` says where the run's design was chosen
    (`run_design`)."""
    tables = tables_of(raw, "flashcopy", file)
    unique(tables, "id", "flashcopy")
    pairs = [(t.data.get("source"), t.data.get("target"), str(t.data.get("id"))) for t in tables]
    out = []
    for t in tables:
        rid = t.get("id", str, check=not_empty)
        source = t.get("source", str)
        target = t.get("target", str)
        design = t.get(
            "design",
            str,
            run.profile,
            lambda v: None if v in PROFILE_NAMES else "must be " + ", ".join(PROFILE_NAMES),
        )
        _check_design(t, design, run, chosen_by, pairs)
        for key, vol in (("source", source), ("target", target)):
            if vol not in volumes:
                raise t.error(key, f"no [[volume]] is named {vol!r}")
        if source == target:
            raise t.error("target", "must differ from source")
        if (volumes[source].tracks, volumes[source].track_size) != (
            volumes[target].tracks,
            volumes[target].track_size,
        ):
            raise t.error("target", f"{target} and {source} differ in size or track size")
        at_s = t.number("at_s", None, non_negative)
        if at_s is not None and at_s >= run.duration_s:
            raise t.error("at_s", f"must be before run.duration_s ({run.duration_s})")
        if t.has("copy_rate") and t.has("copy_rate_mib_s"):
            raise t.error("copy_rate", "give copy_rate or copy_rate_mib_s, not both")
        rate_key = "copy_rate_mib_s" if t.has("copy_rate_mib_s") else "copy_rate"
        if rate_key == "copy_rate_mib_s":
            rate = t.number(rate_key, check=non_negative) * MIB
        else:
            scale = t.get(
                "copy_rate",
                int,
                DEFAULT_COPY_RATE,
                lambda v: None if 0 <= v <= 150 else "must be 0-150",
            )
            rate = svc_copy_rate_bytes_s(scale)
        given_copy = t.get("background_copy", bool, None)
        if given_copy is None:
            background = rate > 0 or not t.has(rate_key)
        else:
            background = given_copy
        if background and rate == 0:
            raise t.error(rate_key, "is 0 (no background copy) but background_copy is true")
        if not background and t.has(rate_key) and rate > 0:
            raise t.error(rate_key, "is set but background_copy is false (NOCOPY)")
        incremental = t.get("incremental", bool, False)
        if t.has("cleaning_rate") and run.profile != "svc":
            raise t.error("cleaning_rate", f"is an option of the svc design, not {run.profile}")
        cleaning = svc_copy_rate_bytes_s(
            t.get(
                "cleaning_rate",
                int,
                DEFAULT_CLEANING_RATE,
                lambda v: None if 0 <= v <= 150 else "must be 0-150",
            )
        )
        capacity = None
        if t.has("target_capacity_mib"):
            mib = t.number("target_capacity_mib", check=positive)
            capacity = max(1, int(mib * MIB) // volumes[target].track_size)
        policy = t.get(
            "out_of_space",
            str,
            "fail_relationship",
            lambda v: (
                None
                if v in OUT_OF_SPACE_POLICIES
                else "must be " + " or ".join(OUT_OF_SPACE_POLICIES)
            ),
        )
        if capacity is not None and background:
            raise t.error("target_capacity_mib", "a space-efficient target must be NOCOPY")
        if run.profile == "row":  # a [[flashcopy]] is a snapshot, named by its volume
            if background:
                raise t.error(rate_key, "a redirect-on-write snapshot has no background copy: 0")
            if rid != target:
                raise t.error("id", f"a redirect-on-write snapshot's id is its volume ({target})")
        track_size = volumes[source].track_size
        max_extent = max(1, 4 * MIB // track_size)
        default_extent = max(1, min(max_extent, int(rate * 0.05) // track_size))
        extent = t.get(
            "copy_extent_tracks",
            int,
            default_extent,
            lambda v, top=max_extent: None if 1 <= v <= top else f"must be 1-{top}",
        )
        out.append(
            FlashCopySpec(
                id=rid,
                source=source,
                target=target,
                at_s=at_s,
                background_copy=background,
                copy_rate_bytes_s=rate if background else 0.0,
                incremental=incremental,
                persistent=t.get("persistent", bool, False),
                inhibit_target_writes=t.get("inhibit_target_writes", bool, False),
                target_capacity_tracks=capacity,
                out_of_space=policy,
                copy_extent_tracks=extent,
                cleaning_rate_bytes_s=cleaning,
            )
        )
        t.finish()
    return out, tables


def group_specs(
    raw: dict[str, Any],
    file: str,
    flashcopies: list[FlashCopySpec],
    fc_tables: list[Table],
    run: RunSpec,
) -> tuple[tuple[GroupSpec, ...], tuple[FlashCopySpec, ...]]:
    tables = tables_of(raw, "group", file)
    unique(tables, "id", "group")
    index = {f.id: i for i, f in enumerate(flashcopies)}
    owner: dict[str, str] = {}
    groups = []
    for t in tables:
        gid = t.get("id", str, check=not_empty)
        members = t.get("members", list, check=lambda v: None if v else "must not be empty")
        for m in members:
            if m not in index:
                raise t.error("members", f"no [[flashcopy]] has id {m!r}")
            if m in owner:
                raise t.error("members", f"{m} is already a member of group {owner[m]}")
            if flashcopies[index[m]].at_s is not None:
                where = fc_tables[index[m]]
                raise where.error(
                    "at_s", f"a member of group {gid} is established at the group's at_s"
                )
            owner[m] = gid
        at_s = t.number("at_s", check=non_negative)
        if at_s >= run.duration_s:
            raise t.error("at_s", f"must be before run.duration_s ({run.duration_s})")
        groups.append(
            GroupSpec(
                gid,
                tuple(members),
                at_s,
                t.number("establish_after_s", 0.0, non_negative),
                t.number("freeze_timeout_s", DEFAULT_FREEZE_TIMEOUT_S, positive),
            )
        )
        t.finish()
    out = []
    for i, spec in enumerate(flashcopies):
        if spec.id in owner:
            spec = replace(spec, group=owner[spec.id])
        elif spec.at_s is None:
            raise fc_tables[i].error(
                "at_s", "is required (unless the relationship is in a [[group]])"
            )
        out.append(spec)
    return tuple(groups), tuple(out)


def event_specs(
    raw: dict[str, Any], file: str, flashcopies: dict[str, FlashCopySpec], run: RunSpec
) -> tuple[EventSpec, ...]:
    out = []
    for t in tables_of(raw, "event", file):
        at_s = t.number("at_s", check=non_negative)
        if at_s >= run.duration_s:
            raise t.error("at_s", f"must be before run.duration_s ({run.duration_s})")
        action = t.get(
            "action", str, check=lambda v: None if v in ACTIONS else "must be " + ", ".join(ACTIONS)
        )
        rid = t.get("id", str)
        if rid not in flashcopies:
            raise t.error("id", f"no [[flashcopy]] has id {rid!r}")
        spec = flashcopies[rid]
        if action in ("stop", "restart") and run.profile != "svc":
            raise t.error("action", f"{action} is an action of the svc design, not {run.profile}")
        if action == "stop" and spec.cleaning_rate_bytes_s == 0:
            raise t.error("action", f"cleaning_rate of {rid} is 0: the stop's cleaning never ends")
        if action in ("refresh", "reverse") and not spec.incremental:
            raise t.error("action", f"{action} needs an incremental relationship; {rid} is not")
        fast = t.get("fast", bool, False)
        if fast and action != "reverse":
            raise t.error("fast", "applies to action = 'reverse' only")
        out.append(EventSpec(at_s, action, rid, fast, t.number("every_s", None, positive)))
        t.finish()
    return tuple(out)
