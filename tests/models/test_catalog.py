"""The catalog of named models."""

from __future__ import annotations

import pytest

from latticebench.models import CATALOG, REFERENCE_STUDY_MODELS, UnknownModelError, get_spec


def test_reference_study_models_are_named_mace_models():
    assert len(REFERENCE_STUDY_MODELS) == 4
    for name in REFERENCE_STUDY_MODELS:
        assert CATALOG[name].family == "mace"
        assert CATALOG[name].url.endswith(".model")


def test_urls_agree_with_the_mace_package():
    import mace.calculators  # noqa: F401
    from mace.calculators.foundations_models import mace_mp_urls

    for spec in CATALOG.values():
        if spec.family == "mace":
            assert mace_mp_urls[spec.mace_key] == spec.url, spec.name


def test_lookup_is_case_insensitive_and_knows_aliases():
    assert get_spec("MACE-MPA-0-MEDIUM").name == "mace-mpa-0-medium"
    assert get_spec("mace-matpes-pbe-0").name == "MACE-matpes-pbe-omat-ft"
    with pytest.raises(UnknownModelError, match=r"Known names: .*chgnet-0\.3\.0"):
        get_spec("mace-xyz")
