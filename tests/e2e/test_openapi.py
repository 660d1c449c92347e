"""Schemathesis holds a live `stoa serve` to its published OpenAPI (/api/openapi.json).

For every documented operation, random requests built from the description (parameters, bodies in
every documented media type) are sent with a signed-in person's bearer token and without one; every
answer must be documented: no 5xx, a documented status code, a documented content type, and a body
that matches the documented schema. Generation is derandomized (the same requests every run) and
bounded (``EXAMPLES`` per operation and run).

Left out, because random input would break the run itself rather than find a bug:
the server-sent-event streams (``/api/v1/streaming/*`` but ``health``), which never end.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from mastodon import Mastodon
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.databases import BACKENDS
from tests.e2e.conftest import LiveServer, serving

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"
# Requests per operation, signed in and not: valid ones (each answer must match its schema), and ones that
# break the description (each must be refused with a documented error, never a 5xx).
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 5}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
NEVER_ENDING = ("/api/v1/streaming/",)
WRITES_LAST = {"GET": 0, "PUT": 1, "PATCH": 1, "POST": 2, "DELETE": 3}


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server without rate limits: the run sends more requests than one token may."""
    with serving(str(request.param), tmp_path, STOA_RATE_LIMIT_ENABLED="false") as live:
        yield live


def sign_up(url: str, username: str) -> Mastodon:
    client_id, client_secret = Mastodon.create_app("stoa-openapi", api_base_url=url,
                                                   scopes=["read", "write", "follow", "push"])
    registrar = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=url)
    token = registrar.create_account(username, PASSWORD, f"{username}@example.org", agreement=True)
    return Mastodon(access_token=token, api_base_url=url)


def community(url: str) -> tuple[str, dict[str, str]]:
    """Two people who post, reply, boost, like, follow and upload, so that lists hold every entity;
    returns the first one's access token and IDs of real records, by path parameter name."""
    alice, bob = sign_up(url, "alice"), sign_up(url, "bob")
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 140, 90)).save(photo, "PNG")
    media = alice.media_post(photo.getvalue(), mime_type="image/png", description="a green square")
    first = alice.status_post("Hello #stoa", media_ids=[media], language="en")
    alice.status_post("Only for followers", visibility="private")
    bob.account_follow(alice.account_verify_credentials().id)
    reply = bob.status_post("@alice welcome!", in_reply_to_id=first.id)
    bob.status_favourite(first.id)
    bob.status_reblog(first.id)
    alice.status_bookmark(reply.id)
    alice.status_favourite(reply.id)
    deadline = time.monotonic() + 30
    while len(notes := alice.notifications()) < 4 and time.monotonic() < deadline:  # fan-out is asynchronous
        time.sleep(0.1)
    assert len(notes) == 4, notes  # follow, mention, favourite, reblog
    alice.markers_set(["home"], [first.id])
    known = {"status_id": first.id, "account_id": bob.account_verify_credentials().id, "media_id": media.id,
             "notification_id": notes[0].id, "hashtag": "stoa"}
    return str(alice.access_token), {name: str(value) for name, value in known.items()}


def operations(url: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{url}/api/openapi.json")
    found = [result.ok() for result in schema.get_all_operations()]
    kept = [op for op in found if not (op.path.startswith(NEVER_ENDING) and op.path != "/api/v1/streaming/health")]
    return sorted(kept, key=lambda op: (WRITES_LAST[op.method.upper()], op.path))


def failures_of(operation: Any, url: str, headers: dict[str, str], known: dict[str, str],
                mode: GenerationMode) -> list[str]:
    """Random requests to ``operation``, half of them about a real record where its path names one."""
    session = requests.Session()
    strategy = operation.as_strategy(generation_mode=mode)
    real = {name: known[name] for name in re.findall(r"{(\w+)}", operation.path) if name in known}
    if real:
        strategy = st.one_of(strategy, operation.as_strategy(generation_mode=mode, path_parameters=real))

    @settings(max_examples=EXAMPLES[mode], derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(base_url=url, headers=headers, session=session, timeout=30)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except Unsatisfiable:
        # Nothing the operation reads can be made invalid (no parameters but free text): no negative case.
        if mode is GenerationMode.POSITIVE:
            raise
    except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; the report lists each one that failed
        return [f"{mode.value} {operation.method.upper()} {operation.path}: {exc}"]
    return []


def test_every_operation_answers_as_documented(server: LiveServer) -> None:
    token, known = community(server.url)
    ops = operations(server.url)
    assert len(ops) > 90, [f"{op.method} {op.path}" for op in ops]
    failures: list[str] = []
    for headers in ({}, {"Authorization": f"Bearer {token}"}):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for op in ops:
                failures += failures_of(op, server.url, headers, known, mode)
    # The token still works: no operation the run reached may revoke it or erase its account.
    me = requests.get(f"{server.url}/api/v1/accounts/verify_credentials",
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.status_code == 200, me.text
    assert not failures, "\n\n".join(failures)
