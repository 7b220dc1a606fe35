"""The REST routers, one per resource."""
