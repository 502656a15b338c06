"""Web adapter: REST API (``web.api``) and pages."""
