"""Staff-kept records (procedures, guides) as the running bot reads them: schema, loading with file:line problems,
and the facts an answer gives. The linter and the sheet import are offline tools: ``knowledge.tools.records``."""
