"""The official catalogue's offline tools: import from the portal's pages, sync with its API, parse and report.

The snapshot they write is read at run time through ``knowledge.catalog`` (model, snapshot, values).
"""
