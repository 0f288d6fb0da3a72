"""Protocol parameters and ids."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from latticebench.protocol import DEMO_PROTOCOL, REFERENCE_PROTOCOL, Protocol, SigmaParameters


def test_reference_defaults_are_the_studys():
    p = REFERENCE_PROTOCOL
    assert p.relax.fmax_eV_per_A == 1e-3 and p.relax.dtype == "float64"
    assert p.phonons.supercell == (2, 2, 2) and p.phonons.displacement_A == 0.01
    assert p.md.temperature_K == 300 and p.md.timestep_fs == 1.0
    assert p.md.thermostat == "andersen" and p.md.andersen_probability == 0.5
    assert p.md.production_steps == 10_000 and p.n_md_runs == 2
    assert p.sigma.stable_max == 1.0


def test_protocol_id_depends_on_physics_only():
    base = Protocol()
    assert base.protocol_id == Protocol().protocol_id
    assert base.protocol_id.startswith("lbp-")
    renamed = Protocol(name="other name")
    reseeded = Protocol(md=base.md.model_copy(update={"seed": 7}))
    assert renamed.protocol_id == base.protocol_id
    assert reseeded.protocol_id == base.protocol_id
    changed = Protocol(phonons=base.phonons.model_copy(update={"displacement_A": 0.02}))
    assert changed.protocol_id != base.protocol_id
    assert DEMO_PROTOCOL.protocol_id != base.protocol_id


def test_seeds_are_distinct_and_recorded():
    assert REFERENCE_PROTOCOL.md_seeds() == [
        REFERENCE_PROTOCOL.md.seed,
        REFERENCE_PROTOCOL.md.seed + 1,
    ]


def test_thresholds_must_increase():
    with pytest.raises(ValidationError, match="thresholds must satisfy"):
        SigmaParameters(weak_max=0.8, moderate_max=0.75)


def test_round_trip_through_json():
    text = DEMO_PROTOCOL.model_dump_json()
    again = Protocol.model_validate_json(text)
    assert again == DEMO_PROTOCOL and again.protocol_id == DEMO_PROTOCOL.protocol_id
