"""Interactive tools a glossary page loads (fragments served by htmx), apart from the run engine."""
