"""Rasa custom actions (rasa-sdk 3.6.2 action server): `python -m rasa_sdk --actions actions -p 5055`.

actions.py      thin Action classes (tracker in, events out)
dialogue.py     decisions: which procedure, which reply (no rasa_sdk)
answers.py      wording of every reply (pure functions)
journal.py      SQLite journal of unanswered questions, feedback and handoffs
"""
