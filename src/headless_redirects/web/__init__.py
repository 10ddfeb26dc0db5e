"""HTTP: the composition root (``create_app``), routes, middleware and error mapping."""
