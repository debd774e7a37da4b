"""Adapters to the outside systems of call-taking. Each is a small interface over real HTTP (httpx)
with timeouts and clear errors; URLs and credentials come from settings."""
