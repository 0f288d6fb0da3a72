"""MDParameters: defaults of the reference protocol, JSON round trip, validation, step grids."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from latticebench.md import HealthLimits, MDParameters


def test_defaults_are_the_reference_protocol():
    parameters = MDParameters(seed=3)
    assert parameters.temperature_K == 300.0
    assert parameters.timestep_fs == 1.0
    assert parameters.thermostat == "andersen"
    assert parameters.andersen_probability == 0.5
    assert parameters.production_steps == 10_000
    assert parameters.n_frames == 10_000
    assert parameters.total_steps == 11_000


def test_model_dump_is_json_and_round_trips():
    parameters = MDParameters(
        seed=11, thermostat="langevin", health=HealthLimits(min_distance_A=0.7)
    )
    text = json.dumps(parameters.model_dump())
    assert MDParameters.model_validate(json.loads(text)) == parameters
    assert json.loads(text)["health"]["min_distance_A"] == 0.7


def test_every_field_has_a_description_with_units_where_physical():
    for model in (MDParameters, HealthLimits):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
    assert "(fs)" in MDParameters.model_fields["timestep_fs"].description
    assert "(1/fs)" in MDParameters.model_fields["langevin_friction_per_fs"].description
    assert "(Å)" in HealthLimits.model_fields["min_distance_A"].description


def test_frozen_and_seed_required():
    parameters = MDParameters(seed=1)
    with pytest.raises(ValidationError):
        parameters.timestep_fs = 2.0
    with pytest.raises(ValidationError, match="seed"):
        MDParameters()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"andersen_probability": 1.5}, "andersen_probability"),
        ({"timestep_fs": 0.0}, "timestep_fs"),
        ({"record_interval": 0}, "record_interval"),
        ({"thermostat": "berendsen"}, "thermostat"),
        ({"health": {"max_temperature_factor": 0.5}}, "max_temperature_factor"),
        ({"nonsense": 1}, "nonsense"),
    ],
)
def test_invalid_values_name_the_field(changes, field):
    with pytest.raises(ValidationError, match=field):
        MDParameters(seed=1, **changes)


def test_production_must_hold_a_whole_number_of_frames():
    with pytest.raises(ValidationError, match=r"production_steps \(10\).*record_interval \(3\)"):
        MDParameters(seed=1, production_steps=10, record_interval=3)


def test_recorded_steps_and_checkpoints():
    parameters = MDParameters(
        seed=1,
        equilibration_steps=25,
        production_steps=60,
        record_interval=3,
        checkpoint_interval=10,
    )
    recorded = [s for s in range(parameters.total_steps + 1) if parameters.is_recorded(s)]
    assert recorded == list(range(28, 86, 3))
    assert len(recorded) == parameters.n_frames == 20
    checkpoints = [s for s in range(parameters.total_steps + 1) if parameters.is_checkpoint(s)]
    assert checkpoints == [10, 20, 25, 35, 45, 55, 65, 75, 85]


def test_no_equilibration_grid():
    parameters = MDParameters(
        seed=1, equilibration_steps=0, production_steps=4, record_interval=1, checkpoint_interval=3
    )
    assert [s for s in range(6) if parameters.is_recorded(s)] == [1, 2, 3, 4]
    assert [s for s in range(6) if parameters.is_checkpoint(s)] == [3, 4]
