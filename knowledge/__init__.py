"""The knowledge base (procedure records and guides): the library the running bot loads, and its offline tools.

Runtime library (loaded by the action server, the bridge, the Rasa channel, the console):
    text, language, clock   Vietnamese text and vocabulary, the answers' day
    records/                the staff's records: schema, loader, the facts an answer gives
    catalog/                the official catalogue: record model, shipped snapshot, values
    index/                  the search index: where it is published (published), the encoder, the lexical index,
                            and the builder the console and /admin/reload run in-process (build, documents, worker)
    search/                 which record a question is about (engine, decision, reading)
Offline tools (``make kb-*``; never imported by the running bot, ``make imports`` checks it):
    tools/catalog/          import and sync of the official catalogue, their parsers and reports
    tools/records/          the linter and the spreadsheet import
Data, no code: ``data/`` (procedures/, guides/, official/, vocabulary/, the sheet import's template).

Keep this file free of heavy imports: the Rasa server's Python 3.10 env imports
``knowledge.text`` from here and has neither torch nor faiss.
"""
