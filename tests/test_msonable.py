"""Parameter models survive monty's encodings (the one jobflow's FireWorks task uses too)."""

from __future__ import annotations

import json

from monty.json import MontyDecoder, jsanitize

from latticebench.protocol import DEMO_PROTOCOL, Protocol


def test_non_strict_jsanitize_keeps_the_object():
    encoded = jsanitize({"protocol": DEMO_PROTOCOL})  # non-strict: str() for unknown objects
    assert isinstance(encoded["protocol"], dict)
    assert encoded["protocol"]["@class"] == "Protocol"
    decoded = MontyDecoder().process_decoded(json.loads(json.dumps(encoded)))
    assert decoded["protocol"] == DEMO_PROTOCOL
    assert isinstance(decoded["protocol"].md, type(DEMO_PROTOCOL.md))
    assert decoded["protocol"].protocol_id == DEMO_PROTOCOL.protocol_id


def test_from_dict_validates():
    data = Protocol().as_dict()
    data["n_md_runs"] = 0
    try:
        Protocol.from_dict(data)
    except ValueError as exc:
        assert "n_md_runs" in str(exc)
    else:  # pragma: no cover - the assertion above is the test
        raise AssertionError("an invalid protocol was accepted")
