"""Code that runs inside the Rasa server (Python 3.10 env): the REST input channel every message comes through,
and the lock store that keeps the messages of one conversation in order across Rasa replicas."""
