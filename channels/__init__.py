"""Code that runs inside the Rasa server (Python 3.10 env): the REST input channel every message comes through."""
