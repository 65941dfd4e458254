"""HTTP transport: the ASGI app, its routes and their schemas."""
