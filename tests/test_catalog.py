"""Every requirement and advisory in matrix.yaml is explained, with a fix per provider."""

from __future__ import annotations

from gccheck.catalog import ANY, fill, load_catalog
from gccheck.matrix import load_matrix
from gccheck.rules import RULES


def test_every_id_has_an_entry_with_fix_and_permissions_per_provider() -> None:
    matrix = load_matrix(None, RULES)
    catalog = load_catalog()
    for check in [*matrix.requirements.values(), *matrix.advisories.values()]:
        entry = catalog[check.id]
        assert entry.what and entry.why
        for provider in sorted(check.providers or {ANY}):
            assert entry.fix_for(provider), (check.id, provider)
            # Permissions to name for every provider it applies to: its own, or those for any.
            assert entry.permissions.get(provider) or entry.permissions.get(ANY), (check.id,
                                                                                  provider)


def test_fill_leaves_json_braces_alone() -> None:
    assert fill('--x {bucket} \'{"Rules":[]}\' {other}', bucket="b") == (
        '--x b \'{"Rules":[]}\' {other}')


def test_no_fix_hint_is_lost_as_a_yaml_comment() -> None:
    from importlib import resources

    text = resources.files("gccheck").joinpath("catalog.yaml").read_text("utf-8")
    values = [v["cli"] for e in load_catalog().values() for v in e.fix.values() if "cli" in v]
    hinted = [line for line in text.splitlines() if line.strip().startswith("cli:") and " #" in line]
    assert hinted, "expected some fixes with a hint after #"
    assert sum(" #" in v for v in values) == len(hinted)
