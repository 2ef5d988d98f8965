"""`rasa run`, with the API token taken from the environment (RASA_TOKEN) rather than the
command line, where every local user could read it (`ps`). Run with the Rasa environment's
Python: `python -m bot.serve <rasa run arguments>`."""

from __future__ import annotations

import os
import sys

from rasa.__main__ import main

if __name__ == "__main__":
    token = os.environ.get("RASA_TOKEN", "")
    if not token:
        raise SystemExit("RASA_TOKEN is not set")
    sys.argv = ["rasa", "run", *sys.argv[1:], "--auth-token", token]
    main()
