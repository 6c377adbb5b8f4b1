"""The web dashboard: server-rendered HTML pages over the research services.

`dashboard_routes` gives the routes `api.app.create_app` mounts at `/` (public and
read-only, like /docs: outside /v1 and /mcp, so no key is asked and nothing counted);
`docs_routes` serve /docs, the API's Swagger UI, from the package under a strict
Content-Security-Policy.
"""

from dropscope.web.docs import docs_routes
from dropscope.web.site import Site, dashboard_routes

__all__ = ["Site", "dashboard_routes", "docs_routes"]
