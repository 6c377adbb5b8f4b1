"""Datasette as an ASGI app for bench/api.py, so uvicorn can run it with several workers.

`datasette serve` hard-codes `uvicorn.run(..., workers=1)`; this module builds the same app
(the database named by BENCH_DATASETTE_DB, immutable, facet suggestions off) for
`uvicorn datasette_app:app --app-dir bench --workers 2 ...`.
"""

import os

from datasette.app import Datasette

app = Datasette(
    immutables=[os.environ["BENCH_DATASETTE_DB"]],
    settings={"suggest_facets": False},
).app()
