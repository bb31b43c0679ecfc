"""SVC autodelete mappings ended by the cleaning of a stop (rules C2, S5) and, cleaned while
suspended, at their resume (rule S9): the engine and the oracle, against results derived by
hand for one cascade (configuration x of the checker runs every interleaving of it)."""

from __future__ import annotations

import pytest

from flashsim.models.ops import Establish
from flashsim.models.oracle import Oracle
from flashsim.models.state.relationship import SVC
from flashsim.models.system import System


def _cascade(model):  # type: ignore[no-untyped-def]
    """S -> T1 (m1, NOCOPY, autodelete; T1 holds grain 1 itself), then S -> T2 (m2, NOCOPY):
    m1 reads grain 0 through T2. A source write of grain 0 copies it to T2 only (the newest
    target), so T2 holds the a0 that m1 lacks, and m2 still has grain 1 to copy."""
    for name in ("S", "T1", "T2"):
        model.create(name, 2, 1)
    model.write("S", 0, b"\xa0\xa1")
    model.establish(Establish("m1", "S", "T1", background_copy=False, autodelete=True))
    model.write("T1", 1, b"\xc1")
    model.establish(Establish("m2", "S", "T2", background_copy=False))
    model.write("S", 0, b"\xb0")
    return model


def _ids(model):  # type: ignore[no-untyped-def]
    return model.relationship_ids() if isinstance(model, Oracle) else sorted(model.relationships)


@pytest.mark.parametrize("make", [lambda: System(SVC), lambda: Oracle(profile="svc")])
def test_a_stop_whose_cleaning_gives_an_autodelete_dependent_its_last_grain_ends_it(make):
    model = _cascade(make())
    model.stop("m2")
    # cleaning copied T2's grain 0 (a0) to T1: m1 has nothing left, and autodelete ends it
    assert _ids(model) == ["m2"]
    assert model.read("T1", 0, 2) == b"\xa0\xc1"  # the point in time of m1, with its write
    assert model.read("S", 0, 2) == b"\xb0\xa1"


@pytest.mark.parametrize("make", [lambda: System(SVC), lambda: Oracle(profile="svc")])
def test_an_autodelete_mapping_cleaned_while_suspended_ends_at_its_resume(make):
    model = _cascade(make())
    model.suspend("m1")
    model.stop("m2")
    # cleaned to nothing left, but suspended: it stays until access to its bitmap returns
    assert _ids(model) == ["m1", "m2"]
    model.resume("m1")
    assert _ids(model) == ["m2"]
    assert model.read("T1", 0, 2) == b"\xa0\xc1"
