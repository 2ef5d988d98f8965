"""Issue 14, items 1 and 5, against the real stack: Rasa's HTTP API and REST channel answer
only with the token (any local process used to read every tracker, inject events and reach
`PUT /model`), and the action endpoint is neither on the public port nor open without its token."""

from __future__ import annotations

from pathlib import Path

import httpx

from scripts.stack import RunningStack, processes_marked
from tests.app.test_action_endpoint import action_call

FORGED = action_call("action_query_bill", "demo-resident-2", "物业费多少", [])


def test_rasa_answers_nothing_without_its_token(stack: RunningStack, rasa: httpx.Client) -> None:
    anyone = httpx.Client(base_url=stack.rasa_url, timeout=30)
    sender = "o-private-ports-1"
    assert rasa.post("/webhooks/rest/webhook", json={"sender": sender, "message": "你好"}).json()

    attempts = [
        anyone.post("/webhooks/rest/webhook", json={"sender": sender, "message": "你好"}),
        anyone.get(f"/conversations/{sender}/tracker"),
        anyone.post(
            f"/conversations/{sender}/tracker/events",
            json={"event": "slot", "name": "phone_last4", "value": "0002"},
        ),
        anyone.put("/model", json={"model_file": "/tmp/evil.tar.gz"}),
        anyone.post("/model/parse", json={"text": "你好"}),
        anyone.get("/status"),
        anyone.post("/webhooks/rest/webhook?token=wrong", json={"sender": sender, "message": "x"}),
    ]

    assert [response.status_code for response in attempts] == [401] * len(attempts)
    events = rasa.get(f"/conversations/{sender}/tracker").json()["events"]
    assert not any(e.get("name") == "phone_last4" for e in events), "an event was injected"


def test_the_action_endpoint_is_not_on_the_public_port(stack: RunningStack) -> None:
    token = stack.env["ACTION_ENDPOINT_TOKEN"]
    public = httpx.post(f"{stack.app_url}/rasa/webhook?token={token}", json=FORGED, timeout=30)
    assert public.status_code == 404 and "¥" not in public.text

    private = f"http://127.0.0.1:{stack.action_port}/rasa/webhook"
    assert httpx.post(private, json=FORGED, timeout=30).status_code == 401
    served = httpx.post(f"{private}?token={token}", json=FORGED, timeout=30)
    assert served.status_code == 200 and "¥" in served.text


def test_no_token_is_on_a_command_line(stack: RunningStack) -> None:
    secrets = [stack.env["RASA_TOKEN"].encode(), stack.env["ACTION_ENDPOINT_TOKEN"].encode()]
    pids = processes_marked(stack.marker)
    assert len(pids) >= 2  # the run script, Rasa and the app at least
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        assert not any(secret in command for secret in secrets), command
