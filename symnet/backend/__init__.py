"""Backends: each turns a rewritten FunctionGraph into a callable."""
