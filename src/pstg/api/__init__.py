"""The REST API (FastAPI): one router per resource under /api/v1, bearer-token auth with roles.

`create_app(context)` builds the application around an `ApiContext`, which gives the routers
everything they read: the database, the station's catalog, the live cache, the poller's
statistics, the writer's statistics and the auth service.
"""
