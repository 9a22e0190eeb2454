"""The README's "Try it" block, played against the embedded app as a user would paste it:
every request must succeed, and what the comments promise must be what the API answers."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from tests.support.api import Api
from tests.support.collections import quiet

README = Path(__file__).resolve().parents[2] / "README.md"


def try_it_commands() -> list[tuple[str, str, Any]]:
    """(method, path with query, JSON body or None) of each curl in the block."""
    text = README.read_text().split("## Try it", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands, current = [], ""
    for line in text.splitlines():
        if line.startswith("curl "):
            current = line
        elif current and line.startswith("  "):
            current += "\n" + line
        else:
            current = ""
            continue
        if current.count("'") % 2 == 0:  # the quoted body is complete
            commands.append(current)
            current = ""
    requests = []
    for command in commands:
        words = [w for w in shlex.split(command) if w not in ("curl", "-s", "${H[@]}")]
        url, body = words[0], json.loads(words[2]) if words[1:2] == ["-d"] else None
        requests.append(("POST" if body is not None else "GET", url.split("localhost:8000", 1)[1], body))
    return requests


# What the comments promise, by path and occurrence: checked once the events have flowed.
PROMISES: dict[tuple[str, int], Any] = {
    ("/credit/v1/checks", 0): lambda a: a["decision"] == "cash_only",
    ("/collections/v1/cases", 0): lambda a: [(c["status"], c["level"]) for c in a] == [("open", 2)],
    ("/credit/v1/checks", 1): lambda a: a["decision"] == "approve",
}


async def test_the_readme_examples_work_as_written(embedded: tuple[Api, FastAPI]) -> None:
    api, app = embedded
    requests = try_it_commands()
    assert len(requests) == 11
    answers: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for method, path, body in requests:
        await quiet(app)  # a person pasting line by line: the events of the last one arrived
        route = path.split("?")[0]
        occurrence = seen[route] = seen.get(route, -1) + 1
        response = await api.request(method, path, json=body)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        answers[route] = answer = response.json()
        promise = PROMISES.get((route, occurrence))
        assert promise is None or promise(answer), f"{method} {path}: {answer}"

    assert answers["/ledger/v1/invoices"]["due_date"] == "2026-01-31"
    assert {t["kind"] for t in answers["/collections/v1/worklist"]} >= {"visit", "written_notice"}
    assert answers["/ledger/v1/customers/D-042/account"]["balance"] == [
        {"amount": 0, "currency": "CNY"}]
    statement = answers["/reconciliation/v1/statements"]
    assert statement["closing_balance"] == 0 and statement["confirmation"]["link"]
