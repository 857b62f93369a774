"""The knowledge base (procedure records and guides) and the tools that keep and search it.

Keep this file free of heavy imports: the Rasa server's Python 3.10 env imports
``knowledge.text`` from here and has neither torch nor faiss.
"""
