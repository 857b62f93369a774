"""The offline tools that keep the knowledge: never loaded by the running bot (make imports checks it).

``catalog/``  the official catalogue: importer from the portal's pages, sync with the portal's API, their parsers,
              the parse report and the change report (``make kb-import-catalog``, ``make kb-sync-catalog``).
``records/``  the staff's records: the linter and its check against the official catalogue (``make kb-lint``), the
              spreadsheet import (``make kb-import``).

The staff console runs the linter on every save and the catalogue sync's review, so it imports these; the action
server, the bridge and the Rasa channel never do. What they all read (schema, loader, facts, catalogue model,
index, search) is the runtime library in the rest of ``knowledge/``.
"""
