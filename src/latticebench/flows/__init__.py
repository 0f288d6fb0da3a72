"""Flow Makers: they compose jobs and never compute."""
