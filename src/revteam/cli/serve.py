"""``revteam serve``: run the web app and the JSON API with uvicorn.

``run_server`` is the reusable part (``revteam demo`` calls it after building the demo company).
Unless ``REVTEAM_RUN_WORKER_IN_SERVE`` is false, the worker (SLA tick + outbox) runs in a background
thread of the same process and stops with it. The app's lifespan starts the analytics warm-up thread
(``web/warm.py``; ``REVTEAM_WARM_ANALYTICS``), so the analytics pages are warm soon after the server is.
"""

from __future__ import annotations

import threading

import typer

from revteam.config import Settings, get_settings
from revteam.runtime import build_runtime


def run_server(settings: Settings | None = None, *, host: str | None = None, port: int | None = None) -> None:
    """Migrate the database, build the app and serve it until interrupted (Ctrl-C)."""
    import uvicorn

    from revteam.web.app import create_app

    settings = settings or get_settings()
    runtime = build_runtime(settings)
    app = create_app(runtime)
    bind_host = host or settings.host
    bind_port = port if port is not None else settings.port
    stop = threading.Event()
    worker = None
    if settings.run_worker_in_serve:
        from revteam.services.notify.worker_loop import run_forever

        worker = threading.Thread(target=run_forever, args=(runtime.sessions, settings), kwargs={"stop": stop},
                                  name="revteam-worker", daemon=True)
        worker.start()
    try:
        uvicorn.run(app, host=bind_host, port=bind_port, log_level="info", proxy_headers=False, server_header=False)
    finally:
        stop.set()
        if worker is not None:
            worker.join(timeout=10)
        runtime.engine.dispose()


def serve_command(
    host: str = typer.Option(None, "--host", help="Address to listen on (default: REVTEAM_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, "--port", help="Port to listen on (default: REVTEAM_PORT, 8000).", min=1, max=65535),
) -> None:
    """Serve the web app and the JSON API (http://HOST:PORT; API description at /docs once logged in)."""
    settings = get_settings()
    typer.echo(f"revteam: serving http://{host or settings.host}:{port or settings.port} (Ctrl-C stops)")
    run_server(settings, host=host, port=port)
