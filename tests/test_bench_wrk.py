"""The catalogue benchmark reads wrk's report: slow runs, timeouts and errors are
counted and shown, never a crash. The reports below are wrk 4.1's own output."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.catalogue import parse_wrk, ratio, run_wrk, to_ms

FAST = """\
Running 2s test @ http://127.0.0.1:5101/err
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    44.12ms    0.90ms  48.13ms   90.00%
    Req/Sec    45.50      5.00    50.00     70.00%
  Latency Distribution
     50%   43.99ms
     75%   44.06ms
     90%   44.38ms
     99%   48.13ms
  184 requests in 2.01s, 24.23KB read
  Non-2xx or 3xx responses: 184
Requests/sec:     91.70
Transfer/sec:     12.07KB
"""

# Values in whole seconds carry a trailing space: "1.54s ".
SLOW = """\
Running 4s test @ http://127.0.0.1:5101/slow
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52s    22.89ms   1.55s    75.00%
    Req/Sec     1.00      0.00     1.00    100.00%
  Latency Distribution
     50%  812.00ms
     75%    1.55s \n\
     90%    1.55s \n\
     99%    2.00s \n\
  8 requests in 4.01s, 0.88KB read
  Socket errors: connect 0, read 1, write 0, timeout 3
Requests/sec:      2.00
Transfer/sec:     225.61B
"""

NOTHING_FINISHED = """\
Running 3s test @ http://127.0.0.1:5101/slow
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     0.00      0.00     0.00      -nan%
  0 requests in 3.01s, 0.00B read
  Socket errors: connect 0, read 0, write 0, timeout 4
Requests/sec:      0.00
Transfer/sec:       0.00B
"""


def test_a_fast_run_with_error_answers():
    figures = parse_wrk(FAST)
    assert figures["rps"] == 91.70
    assert figures["p50_ms"] == 43.99 and figures["p99_ms"] == 48.13
    assert figures["requests"] == 184
    assert figures["non_2xx"] == 184 and figures["timeouts"] == 0
    assert figures["errors"] == 184


def test_latencies_in_seconds_and_timeouts_are_read():
    figures = parse_wrk(SLOW)
    assert figures["p50_ms"] == 812.0
    assert figures["p99_ms"] == 2000.0
    assert figures["timeouts"] == 3 and figures["read_errors"] == 1
    assert figures["errors"] == 4


def test_a_run_where_nothing_finished_reports_its_timeouts():
    figures = parse_wrk(NOTHING_FINISHED)
    assert figures["p50_ms"] is None and figures["p99_ms"] is None
    assert figures["rps"] == 0.0 and figures["requests"] == 0
    assert figures["timeouts"] == 4 and figures["errors"] == 4
    assert ratio(figures, parse_wrk(FAST)) is None


@pytest.mark.parametrize(
    ("value", "ms"),
    [("812.00us", 0.812), ("1.52ms", 1.52), ("2.00s", 2000.0), ("1.50m", 90_000.0), ("-nan", None)],
)
def test_every_unit_wrk_prints(value: str, ms: float | None):
    if ms is None:
        assert to_ms(value) is None
    else:
        assert to_ms(value) == pytest.approx(ms)


class _Slow(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(2.5)  # longer than wrk's own 2 s default
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # wrk hangs up on the requests still running when its time is over


def test_wrk_waits_past_its_default_timeout_for_a_slow_answer():
    server = _Server(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        figures = run_wrk(f"http://127.0.0.1:{server.server_port}/slow", 3, 2)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert figures["timeouts"] == 0
    assert figures["requests"] >= 2
    assert figures["p50_ms"] is not None and figures["p50_ms"] >= 2000
