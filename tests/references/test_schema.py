"""ReferenceDoc: units in every description, finite numbers, σ context, partial payloads."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from latticebench.schemas import ReferenceDoc


def test_every_field_has_a_description_and_no_description_as_default():
    for name, field in ReferenceDoc.model_fields.items():
        assert field.description and len(field.description) > 10, name
        assert field.default != field.description, name
    for name in ("sigma_300K", "formation_energy_eV_per_atom", "sigma_weighted_frequency_THz"):
        described = ReferenceDoc.model_fields[name].description
        assert any(u in described for u in ("dimensionless", "eV/atom", "THz")), name


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_naming_the_field(value):
    with pytest.raises(ValidationError) as info:
        ReferenceDoc(dataset="d", compound="Cs2AgBiBr6", formation_energy_eV_per_atom=value)
    assert "formation_energy_eV_per_atom" in str(info.value)


def test_sigma_gets_its_definition_and_temperature():
    doc = ReferenceDoc(dataset="d", compound="Cs2AgBiBr6", sigma_300K=0.3)
    assert (doc.sigma_definition, doc.sigma_temperature_K) == ("unspecified", 300.0)
    explicit = ReferenceDoc(
        dataset="d", compound="C", sigma_300K=0.3, sigma_definition="rms", sigma_temperature_K=250
    )
    assert (explicit.sigma_definition, explicit.sigma_temperature_K) == ("rms", 250.0)
    assert ReferenceDoc(dataset="d", compound="C").sigma_definition is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sigma_300K", -0.1),
        ("dataset", "has space"),
        ("doi", "not-a-doi"),
        ("heavy", {"phonons": "x"}),
        ("halide", "At"),
        ("sigma_definition", "variance"),
    ],
)
def test_invalid_values(field, value):
    with pytest.raises(ValidationError) as info:
        ReferenceDoc(**{"dataset": "d", "compound": "Cs2AgBiBr6", field: value})
    assert field in str(info.value)


def test_document_payload_leaves_unset_fields_out_and_round_trips():
    doc = ReferenceDoc(dataset="d", compound="Cs2AgBiBr6", heavy={"aimd": "a" * 64})
    payload = doc.to_document()
    assert payload == {"dataset": "d", "compound": "Cs2AgBiBr6", "heavy": {"aimd": "a" * 64}}
    assert "heavy" not in ReferenceDoc(dataset="d", compound="X").to_document()
    stored = {"_id": "ignored", **payload, "updates": [], "last_updated": None}
    assert ReferenceDoc.from_document(stored) == doc


def test_structure_round_trip():
    from latticebench.structures import build_double_perovskite

    structure = build_double_perovskite("Cs2AgBiBr6")
    doc = ReferenceDoc(dataset="d", compound="Cs2AgBiBr6", structure=structure.as_dict())
    assert doc.get_structure() == structure
