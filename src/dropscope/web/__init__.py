"""The web dashboard: server-rendered HTML pages over the research services.

`dashboard_routes` gives the routes `api.app.create_app` mounts at `/`; `PUBLIC_PREFIXES`
are the paths the API's key authentication and rate limits leave alone (the dashboard is a
public, read-only view of the research, like /docs).
"""

from dropscope.web.site import PUBLIC_PREFIXES, Site, dashboard_routes

__all__ = ["PUBLIC_PREFIXES", "Site", "dashboard_routes"]
