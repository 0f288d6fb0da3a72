"""The study files in workflows/: every one validates; demo and reference say what they should."""

from __future__ import annotations

import pytest

from latticebench.models import REFERENCE_STUDY_MODELS
from latticebench.protocol import REFERENCE_PROTOCOL
from latticebench.study import DEMO_STUDY, CompoundSelection, StudySpec
from tests.hpc.fixtures import WORKFLOWS

STUDY_FILES = sorted(WORKFLOWS.glob("*.yaml"))


def test_the_study_files_are_there():
    assert {path.name for path in STUDY_FILES} >= {"demo.yaml", "hdp_mace_benchmark.yaml"}


@pytest.mark.parametrize("path", STUDY_FILES, ids=lambda p: p.name)
def test_every_study_file_validates(path):
    spec = StudySpec.from_yaml(path)
    assert spec.protocol.build().protocol_id.startswith("lbp-")
    assert spec.resources.gpu_category and spec.resources.cpu_category
    assert spec.resources.gpu_category != spec.resources.cpu_category


def test_demo_file_is_the_demo_study():
    assert StudySpec.from_yaml(WORKFLOWS / "demo.yaml") == DEMO_STUDY


def test_reference_study_file():
    spec = StudySpec.from_yaml(WORKFLOWS / "hdp_mace_benchmark.yaml")
    assert tuple(spec.models) == REFERENCE_STUDY_MODELS
    assert spec.compounds == CompoundSelection()  # no filter: every compound
    assert spec.dataset == "hdp-chemmater-2022" and spec.import_bundled
    assert spec.protocol.preset == "reference" and spec.protocol.overrides == {}
    assert spec.protocol.build().protocol_id == REFERENCE_PROTOCOL.protocol_id
    assert (spec.resources.gpu_category, spec.resources.cpu_category) == ("gpu", "cpu")
