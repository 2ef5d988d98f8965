"""Rasa custom actions, one module per capability; thin: read slots, call a service, answer."""
