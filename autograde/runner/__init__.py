"""The in-sandbox side: executes a notebook and its probes, writes data only."""
