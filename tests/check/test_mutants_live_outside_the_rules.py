"""The seeded bugs live in the checker's mutants module only: the semantics modules never name
one, and each mutant is a subclass of the correct rules that replaces existing rule methods
(it adds no hook of its own) and changes nothing for the correct model."""

import inspect
from pathlib import Path

import pytest

import flashsim.models
from flashsim.models import DS8000_RULES, Rules
from flashsim.models.check import MUTANTS
from flashsim.models.check.mutants import rules_of

MODELS = Path(flashsim.models.__file__).parent
SEMANTICS = sorted(p for p in MODELS.rglob("*.py") if "check" not in p.relative_to(MODELS).parts)


def test_the_semantics_modules_are_found():
    names = {p.relative_to(MODELS).as_posix() for p in SEMANTICS}
    assert {"system.py", "rules/plans.py", "rules/steps.py", "state/store.py"} <= names


@pytest.mark.parametrize("path", SEMANTICS, ids=lambda p: p.relative_to(MODELS).as_posix())
def test_no_semantics_module_names_a_mutant(path):
    text = path.read_text()
    assert "mutant" not in text.lower()
    for name in MUTANTS:
        assert name not in text


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_each_mutant_replaces_rule_methods_and_adds_none(name):
    rules = rules_of(name)
    cls = type(rules)
    assert isinstance(rules, Rules)
    assert cls is not Rules
    own = {n for n, v in vars(cls).items() if inspect.isfunction(v)}
    assert own, f"{name} replaces nothing"
    base = next(c for c in cls.__mro__[1:] if c.__module__ != cls.__module__)
    assert issubclass(base, Rules)  # the correct rules of its profile
    assert own <= set(dir(base)), (
        f"{name} adds methods the rules do not have: {own - set(dir(base))}"
    )
    assert MUTANTS[name] == " ".join((cls.__doc__ or "").split())


def test_the_correct_model_is_the_rules_class_itself():
    assert rules_of(None) is DS8000_RULES
    assert type(DS8000_RULES) is Rules
