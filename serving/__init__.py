"""FastAPI app: the /ws/talk protocol, admin API, auth, health, metrics, the web widget, and the CLI."""
