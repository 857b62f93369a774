"""The staff console: a small web application for one-stop-shop staff (python -m console).

Sign-in with roles (viewer reads, editor changes), a dashboard drawn from the journal, unanswered questions
grouped and attached to procedures, the knowledge editor with the linter and an answer preview, the catalogue
sync review, conversations and the handoff queue, and an audit log where every change can be reverted.
Server-rendered HTML (FastAPI + Jinja2), charts as SVG drawn on the server, no JavaScript needed.
"""
