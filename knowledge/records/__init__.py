"""Staff-kept records (procedures, guides): their schema, loading with file:line problems, the linter, sheet import."""
