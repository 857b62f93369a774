"""Rasa custom actions (rasa-sdk 3.6.2 action server): `python -m actions.server --port 5055`.

actions.py      thin Action classes (tracker in, events out)
dialogue.py     decisions: which procedure, which reply (no rasa_sdk)
answers.py      wording of every reply (pure functions)
(the journal of unanswered questions, feedback and handoffs is the top-level `journal` package)
server.py       the server: loopback only, needs Rasa's shared secret, index loaded before it is ready
"""
