"""Parameter models survive the encoding jobflow uses for Makers (and FireWorks after it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from jobflow import Maker
from monty.json import MontyDecoder, jsanitize
from pydantic import BaseModel

from latticebench.protocol import DEMO_PROTOCOL, Protocol


class PlainModel(BaseModel):
    value: int = 1


@dataclass
class HoldingMaker(Maker):
    name: str = "holder"
    protocol: Protocol = field(default_factory=Protocol)
    plain: PlainModel = field(default_factory=PlainModel)


def _round_trip(maker: Maker) -> Maker:
    # what jobflow's JobFiretask does: Maker.as_dict, non-strict jsanitize, JSON, MontyDecoder
    text = json.dumps(jsanitize(maker.as_dict(), strict=False))
    return MontyDecoder().process_decoded(json.loads(text))


def test_parameter_models_survive_while_plain_pydantic_models_do_not():
    again = _round_trip(HoldingMaker(protocol=DEMO_PROTOCOL))
    assert again.protocol == DEMO_PROTOCOL
    assert isinstance(again.protocol.md, type(DEMO_PROTOCOL.md))
    assert again.protocol.protocol_id == DEMO_PROTOCOL.protocol_id
    assert isinstance(again.plain, str)  # the failure ParameterModel exists to prevent


def test_from_dict_validates():
    data = Protocol().as_dict()
    data["n_md_runs"] = 0
    with pytest.raises(ValueError, match="n_md_runs"):
        Protocol.from_dict(data)
