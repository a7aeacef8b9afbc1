"""Keeping chosen mutants as declared mutants of an assignment (written in save_impl)."""
