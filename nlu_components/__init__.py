"""Custom Rasa NLU components (run inside the Rasa 3.6 environment)."""
