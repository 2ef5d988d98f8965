"""The NLU contract's intents and what counts as understanding well enough: shared by
`make eval` and the tests."""

MIN_ACCURACY = 0.95
MIN_MACRO_F1 = 0.93
MIN_ENTITY_F1 = 0.92
MAX_FALSE_ACTION_RATE = 0.03
# Intents whose actions do something in the property system or involve staff.
TRANSACTIONAL = frozenset(
    {
        "report_repair",
        "query_repair_status",
        "urge_repair",
        "cancel_repair",
        "rate_service",
        "query_bill",
        "book_facility",
        "cancel_booking",
        "query_booking",
        "file_complaint",
        "query_complaint_status",
        "bind_house",
        "query_announcement",
        "request_human",
    }
)
CONVERSATIONAL = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "inform",
        "bot_challenge",
        "out_of_scope",
        "faq",
    }
)
CONTRACT = TRANSACTIONAL | CONVERSATIONAL
