"""Telegram bridge: our own Telegram channel in front of Rasa's REST channel. Run with `python -m bot`."""
