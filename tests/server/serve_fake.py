"""Start the real HTTP server (uvicorn through `coachgraph.server.run.serve`) over a store whose
recommender was trained with `HashEmbeddings`, so that tests get a live server in seconds.

Run as ``python -m tests.server.serve_fake STORE [BODY_TIMEOUT_S]``; the key comes from
``COACHGRAPH_API_KEY``; the URL is printed on the first line of stdout once the socket listens.
"""

from __future__ import annotations

import os
import sys

from coachgraph.recommend.trainer import open_service
from coachgraph.server.app import create_app
from coachgraph.server.keys import API_KEY_ENV
from coachgraph.server.run import bind, serve
from tests.fakes import HashEmbeddings


def main() -> None:
    store = sys.argv[1]
    body_timeout_s = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    service = open_service(store, embeddings=HashEmbeddings(dims=32))
    app = create_app(store, api_key=os.environ.get(API_KEY_ENV) or None, service=service,
                     body_timeout_s=body_timeout_s)
    serve(app, bind("127.0.0.1", 0), on_listening=lambda url: print(url, flush=True))


if __name__ == "__main__":
    main()
