"""Reference implementations of the course exercises (host side only, never sent to a sandbox)."""
