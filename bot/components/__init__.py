"""Custom Chinese NLU components, loaded by the Rasa environment (see bot/config.yml)."""
