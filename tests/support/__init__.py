"""Shared test helpers: free ports, child processes, polling."""
