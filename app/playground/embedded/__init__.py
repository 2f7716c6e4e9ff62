"""The embedded backend: worker processes on this machine, reached over pipes, runs kept in SQLite."""
