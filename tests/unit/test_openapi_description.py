"""The published OpenAPI describes every operation: a route added without ``doc(...)`` fails here, at once,
before the live schemathesis run (tests/e2e/test_openapi.py) would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stoa.app import create_app
from stoa.config import Settings


def description(tmp_path: Path) -> dict[str, Any]:
    app = create_app(Settings(data_dir=tmp_path, run_workers=False))
    return app.openapi()


def operations(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{method.upper()} {path}", op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def test_every_answer_has_a_schema_and_every_error_is_mastodons_shape(tmp_path: Path) -> None:
    doc = description(tmp_path)
    assert len(operations(doc)) > 95
    for name, op in operations(doc):
        for code, response in op["responses"].items():
            if code.startswith("3"):
                continue
            content = response.get("content")
            assert content, (name, code)
            assert all(entry.get("schema") not in (None, {}) for entry in content.values()), (name, code, content)
            if code.startswith(("4", "5")) and "text/html" not in content:  # the sign-in page answers HTML
                assert content.get("application/json") == {"schema": {"$ref": "#/components/schemas/Error"}}, \
                    (name, code)
        assert {"429", "503"} <= set(op["responses"]), name


def test_routes_that_read_parameters_say_which(tmp_path: Path) -> None:
    for name, op in operations(description(tmp_path)):
        if "400" in op["responses"]:  # it parses Params
            declared = [p for p in op.get("parameters", []) if p["in"] != "path"]
            assert declared or "requestBody" in op, name


def test_nullable_fields_are_nullable_and_forms_use_brackets(tmp_path: Path) -> None:
    doc = description(tmp_path)
    status = doc["components"]["schemas"]["Status"]["properties"]
    for field in ("edited_at", "in_reply_to_id", "language", "reblog", "application"):
        assert {"type": "null"} in status[field]["anyOf"], field
    post = doc["paths"]["/api/v1/statuses"]["post"]
    assert post["security"] == [{"bearer": ["write:statuses"]}]
    form = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]
    assert "media_ids[]" in form and "media_ids" in post["requestBody"]["content"]["application/json"]["schema"][
        "properties"]
    query = {p["name"]: p["schema"] for p in doc["paths"]["/api/v1/timelines/home"]["get"]["parameters"]}
    assert (query["limit"]["type"], query["limit"]["minimum"], query["limit"]["maximum"]) == ("integer", 1, 40)
    assert query["max_id"]["pattern"] == "^[0-9]{1,18}$"
