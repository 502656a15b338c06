"""REST API under ``/api/v1``: tenant-scoped, role-checked, described at ``/openapi.json``."""
