"""The official national catalogue as the running bot reads it: the record model, the shipped snapshot, values.

Importing it from the portal's sources and syncing it with the portal's API are offline tools:
``knowledge.tools.catalog``.
"""
