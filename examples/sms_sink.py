"""A stand-in SMS gateway for trying the service on one machine: prints every message the
delivery worker sends (the progress code among them) and answers as a gateway does.

    python examples/sms_sink.py 8025 &
    LICENSING_SMS_GATEWAY_URL=http://127.0.0.1:8025/sms licensing deliver
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from itertools import count

_ids = count(1)


class Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        message = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        sys.stdout.write(f"SMS to {message['to']}:\n{message['text']}\n\n")
        sys.stdout.flush()
        answer = json.dumps({"id": f"sink-{next(_ids)}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8025
    HTTPServer(("127.0.0.1", port), Sink).serve_forever()
