"""The `autograde` command: thin click commands over the Python API."""
