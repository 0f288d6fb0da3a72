"""Study specifications and compound selection."""

from __future__ import annotations

import csv

import pytest

from latticebench.protocol import DEMO_PROTOCOL, REFERENCE_PROTOCOL
from latticebench.study import (
    CompoundSelection,
    ProtocolSpec,
    StudySpec,
    StudySpecError,
    select_compounds,
)


@pytest.fixture(scope="module")
def table(reference_csv):
    with reference_csv.open() as handle:
        return [
            {"compound": r["compound"], "halide": r["halide"], "sigma_300K": float(r["sigma_300K"])}
            for r in csv.DictReader(handle)
        ]


def test_presets_and_overrides():
    assert ProtocolSpec().build() == REFERENCE_PROTOCOL
    assert ProtocolSpec(preset="demo").build() == DEMO_PROTOCOL
    changed = ProtocolSpec(overrides={"md": {"production_steps": 5000}, "n_md_runs": 1}).build()
    assert changed.md.production_steps == 5000 and changed.n_md_runs == 1
    assert changed.md.thermostat == "andersen"  # the rest of the preset kept
    assert changed.protocol_id != REFERENCE_PROTOCOL.protocol_id
    with pytest.raises(StudySpecError, match=r"protocol\.overrides\.md\.timestep: no such"):
        ProtocolSpec(overrides={"md": {"timestep": 2}}).build()


def test_yaml_errors_name_file_and_field(tmp_path):
    bad = tmp_path / "study.yaml"
    bad.write_text("name: x\nmodels: []\n")
    with pytest.raises(StudySpecError, match=r"study\.yaml: models"):
        StudySpec.from_yaml(bad)
    bad.write_text("name: x\nmodels: [a]\ncompounds: {halide: [F]}\n")
    with pytest.raises(StudySpecError, match=r"compounds\.halide"):
        StudySpec.from_yaml(bad)
    bad.write_text("name: x\nmodels: [a]\nprotocol: {overrides: {relax: {fmax: 1}}}\n")
    with pytest.raises(StudySpecError, match=r"relax\.fmax: no such protocol field"):
        StudySpec.from_yaml(bad)
    with pytest.raises(StudySpecError, match="cannot read"):
        StudySpec.from_yaml(tmp_path / "missing.yaml")
    bad.write_text("name: [unclosed\n")
    with pytest.raises(StudySpecError, match="not valid YAML"):
        StudySpec.from_yaml(bad)


def test_selection_filters(table):
    names = select_compounds(CompoundSelection(halides=["F"], sigma_max=0.3), table)
    expected = sorted(r["compound"] for r in table if r["halide"] == "F" and r["sigma_300K"] <= 0.3)
    assert names == expected and names
    assert select_compounds(CompoundSelection(), table) == sorted(r["compound"] for r in table)
    assert select_compounds(CompoundSelection(names=["CsAuBr3", "Cs2AgBiBr6"]), table) == [
        "CsAuBr3",
        "Cs2AgBiBr6",
    ]
    assert len(select_compounds(CompoundSelection(limit=5), table)) == 5
    with pytest.raises(StudySpecError, match="not in the dataset: Cs2XxBr6"):
        select_compounds(CompoundSelection(names=["Cs2XxBr6"]), table)


def test_spread_covers_every_halide_and_class_twice(table):
    from latticebench.analysis import anharmonicity_class

    names = select_compounds(CompoundSelection(spread_per_halide=2), table)
    by_name = {r["compound"]: r for r in table}
    assert len(names) == 8
    halides = [by_name[n]["halide"] for n in names]
    assert halides == ["F", "F", "Cl", "Cl", "Br", "Br", "I", "I"]
    classes = [str(anharmonicity_class(by_name[n]["sigma_300K"])) for n in names]
    assert sorted(classes) == sorted(["weak", "moderate", "strong", "unstable"] * 2)
    assert all(n.startswith("Cs2") for n in names)
