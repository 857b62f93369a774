"""The staff records' offline tools: the linter (with its check against the official catalogue), sheet import.

The records themselves are read at run time through ``knowledge.records`` (schema, loader, facts).
"""
