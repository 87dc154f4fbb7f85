"""Schema-driven fuzzing of the HTTP API: every route /openapi.json describes, with valid and invalid
input generated from its schema (webhooks correctly signed, so the fuzz reaches the dialogue), never
answers with a server error."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from twilio.request_validator import RequestValidator

from bot.service import Service
from bot.web.app import CHAT_COOKIE, create_app
from tests.channels.conftest import PUBLIC, TG_SECRET, TW_TOKEN


@pytest.fixture
def api_schema(channel_service: Service) -> Iterator[Any]:
    """The app's own /openapi.json, over ASGI."""
    app = create_app(channel_service)
    with TestClient(app):  # runs the app's lifespan, as a server would
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


def _provider_headers(case: Any) -> dict[str, str]:
    """Sign the generated request as the provider would, so that it is read rather than refused."""
    path = case.operation.path
    if path == "/webhooks/telegram":
        return {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    if path.startswith("/webhooks/twilio") and isinstance(case.body, dict):
        form = {str(k): str(v) for k, v in case.body.items()}
        return {"X-Twilio-Signature": RequestValidator(TW_TOKEN).compute_signature(PUBLIC + path, form)}
    return {}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the HTTP layer, not the database
def test_no_input_gives_a_server_error(api_schema: Any, mode: GenerationMode) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {"/webhooks/telegram", "/webhooks/twilio", "/chat/send"} <= {op.path for op in operations}

    @settings(
        max_examples=int(os.environ.get("API_FUZZ_EXAMPLES", "120")),
        deadline=None,
        derandomize="API_FUZZ_EXAMPLES" not in os.environ,  # the same cases each run, unless asked for more
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations), label="operation")
        case = data.draw(operation.as_strategy(generation_mode=mode), label="case")
        headers = {**(case.headers or {}), **_provider_headers(case)}
        case.call_and_validate(
            checks=[not_a_server_error], headers=headers, cookies={CHAT_COOKIE: "fuzzed-web-session"}, base_url=PUBLIC
        )

    fuzz()


def test_the_webhooks_are_described_with_their_request_shapes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    telegram = paths["/webhooks/telegram"]["post"]
    twilio = paths["/webhooks/twilio"]["post"]
    assert "update_id" in telegram["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"X-Telegram-Bot-Api-Secret-Token"} == {p["name"] for p in telegram["parameters"]}
    form = twilio["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"MessageSid", "From", "Body"} <= set(form["properties"])
    assert "text" in paths["/chat/send"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
