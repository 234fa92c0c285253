"""The domain: registry, versions, history, runs, coverage, ownership. Never imports the UI."""
