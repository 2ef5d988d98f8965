"""An emergency reported while the property database cannot be reached still gets the
resident what to do and whom to call (a real engine, pointed where nothing listens)."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.repairs import ActionStartRepair
from integrations.property import LocalPropertySystem


def test_an_emergency_gets_its_advice_even_when_it_cannot_be_filed() -> None:
    unreachable = LocalPropertySystem.from_url("postgresql://postgres@127.0.0.1:9/nowhere")
    tracker = Tracker(
        sender_id="o-emergency",
        slots={},
        latest_message={"text": "电梯困人了，快来人", "entities": [], "intent": {}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()

    events = ActionStartRepair().act(dispatcher, tracker, unreachable)

    [message] = dispatcher.messages
    assert message["text"].startswith("系统暂时无法登记，请立即拨打物业24小时值班电话")
    assert "不要扒门" in message["text"]
    assert {"event": "slot", "name": "repair_flow", "value": "done", "timestamp": None} in events
