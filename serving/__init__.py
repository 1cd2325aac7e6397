"""FastAPI app: /ws/talk protocol, admin API, auth, health, metrics, web widget, and the CLI."""
