"""The runner's nbclient keeps at most a budget of one cell's outputs while the cell runs."""

from __future__ import annotations

import nbformat

from autograde.runner.kernel import CappedClient


def stream(text: str) -> dict:
    return {"msg_type": "stream", "parent_header": {"msg_id": "m"}, "header": {"msg_type": "stream"},
            "content": {"name": "stdout", "text": text}}


def image(size: int) -> dict:
    return {"msg_type": "display_data", "parent_header": {"msg_id": "m"},
            "header": {"msg_type": "display_data"},
            "content": {"data": {"image/png": "A" * size}, "metadata": {}}}


def test_outputs_past_the_budget_are_dropped_with_one_marker():
    client = CappedClient(nbformat.v4.new_notebook())
    client.reset_execution_trackers()
    client.clear_before_next_output = False  # set by execute_cell in a real run
    client.budget = 10_000
    outs: list = []
    for _ in range(50):
        client.output(outs, stream("x" * 1000), None, 0)
    client.output(outs, image(10**6), None, 0)
    kept = sum(len(o.get("text", "")) for o in outs if o.get("name") == "stdout")
    assert kept == 10_000
    markers = [o for o in outs if o.get("name") == "stderr"]
    assert len(markers) == 1 and "dropped" in markers[0]["text"]
    assert not any(o.get("output_type") == "display_data" for o in outs)


def test_small_outputs_are_kept_whole():
    client = CappedClient(nbformat.v4.new_notebook())
    client.reset_execution_trackers()
    client.clear_before_next_output = False  # set by execute_cell in a real run
    outs: list = []
    client.output(outs, stream("hello\n"), None, 0)
    client.output(outs, image(100), None, 0)
    assert [o["output_type"] for o in outs] == ["stream", "display_data"]
