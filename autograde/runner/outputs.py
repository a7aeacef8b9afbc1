"""Output caps: the stored executed notebook stays small whatever the cells printed."""

from __future__ import annotations

import json
from typing import Any

PER_OUTPUT_CHARS = 20_000


def cap_outputs(nb: Any, budget: int) -> None:
    """Truncate text outputs and drop oversized rich outputs, in place, within `budget` bytes."""
    used = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            output = _shrink(output)
            size = len(json.dumps(output))
            if used + size > budget:
                kept.append(
                    {
                        "output_type": "stream",
                        "name": "stderr",
                        "text": "[autograde: further output dropped, notebook output cap reached]\n",
                    }
                )
                used = budget
                break
            used += size
            kept.append(output)
        cell["outputs"] = kept


def _shrink(output: Any) -> Any:
    kind = output.get("output_type")
    if kind == "stream":
        text = output.get("text", "")
        if len(text) > PER_OUTPUT_CHARS:
            output["text"] = text[:PER_OUTPUT_CHARS] + f"\n[autograde: {len(text)} characters truncated]\n"
    elif kind in {"display_data", "execute_result"}:
        data = output.get("data", {})
        for mime in list(data):
            if len(json.dumps(data[mime])) > PER_OUTPUT_CHARS * 5:
                data[mime] = "[autograde: output too large, dropped]" if mime == "text/plain" else ""
                if mime != "text/plain":
                    del data[mime]
    elif kind == "error":
        output["traceback"] = output.get("traceback", [])[-20:]
    return output
