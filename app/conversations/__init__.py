"""From a channel message to the bot's answer: persist, dedupe, ask Rasa, reply or push."""
