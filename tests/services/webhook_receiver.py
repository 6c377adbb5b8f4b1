"""A webhook receiver for the tests: a real HTTP server process on 127.0.0.1.

    python tests/services/webhook_receiver.py LOG CONTROL PORT_FILE [PORT [CERT KEY]]

Each request re-reads CONTROL (JSON: `mode` ok | 500 | 429 | 410 | slow | flap | redirect,
`delay` seconds for slow, `retry_after` for 429) and appends one JSON line to LOG with the
headers, the body and the status it answered. `flap` fails every other request (500).
The bound port (PORT, or a free one; 0 for a free one) is written to PORT_FILE once
listening. With CERT and KEY it speaks TLS.
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOG, CONTROL, PORT_FILE = (Path(a) for a in sys.argv[1:4])
_lock = threading.Lock()
_count = [0]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        try:
            control = json.loads(CONTROL.read_text())
        except (OSError, ValueError):
            control = {"mode": "ok"}
        mode = control.get("mode", "ok")
        with _lock:
            _count[0] += 1
            n = _count[0]
        status, extra = 200, {}
        if mode == "flap":
            status = 500 if n % 2 else 200
        elif mode == "429":
            status, extra = 429, {"retry-after": str(control.get("retry_after", 1))}
        elif mode == "redirect":
            status, extra = 307, {"location": "http://127.0.0.1:9/elsewhere"}
        elif mode.isdigit():
            status = int(mode)
        record = {
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode(),
            "status": status,
            "at": time.time(),
        }
        with _lock, LOG.open("a") as f:  # logged on arrival: processed, as far as it knows
            f.write(json.dumps(record) + "\n")
        if mode == "slow":
            time.sleep(float(control.get("delay", 2)))
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


if __name__ == "__main__":
    port = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    if len(sys.argv) > 6:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[5], sys.argv[6])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    tmp = PORT_FILE.with_suffix(".tmp")
    tmp.write_text(str(server.server_address[1]))
    tmp.rename(PORT_FILE)
    server.serve_forever()
