"""The README's nginx configuration for two app processes (issue 17), run for real when nginx is installed
(Debian: apt-get install -y nginx-light): `nginx -t` accepts it as written (with a throwaway certificate), and
in front of two stand-in app processes it keeps a browser on one process (the route cookie), spreads new
browsers over both, and passes the WebSocket upgrade through. Skipped without nginx."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install -y nginx-light)")


def readme_config() -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```nginx\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "the README gives one nginx configuration"
    return blocks[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _main_config(tmp: Path, http_block: str) -> Path:
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n access_log off;\n client_body_temp_path {tmp}/body;\n proxy_temp_path {tmp}/proxy;\n"
        f" fastcgi_temp_path {tmp}/fcgi;\n uwsgi_temp_path {tmp}/uwsgi;\n scgi_temp_path {tmp}/scgi;\n"
        f"{http_block}\n}}\n"
    )
    return conf


def _nginx(conf: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(NGINX), "-p", str(conf.parent), "-e", str(conf.parent / "error.log"), "-c", str(conf), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_nginx_accepts_the_readme_configuration_as_written(tmp_path):
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=backcare.example.org"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    config = readme_config().replace("/etc/ssl/backcare/fullchain.pem", str(cert))
    config = config.replace("/etc/ssl/backcare/privkey.pem", str(key))
    checked = _nginx(_main_config(tmp_path, config), "-t")
    assert checked.returncode == 0, checked.stderr


class _App(http.server.BaseHTTPRequestHandler):
    """A stand-in app process: answers which process it is and the upgrade headers it was given."""

    def do_GET(self) -> None:
        body = json.dumps(
            {
                "port": self.server.server_address[1],
                "upgrade": self.headers.get("Upgrade"),
                "connection": self.headers.get("Connection"),
                "forwarded_proto": self.headers.get("X-Forwarded-Proto"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def balancer(tmp_path):
    """nginx with the README's http block on a free plain-HTTP port, in front of two stand-in processes on the
    README's ports' places."""
    apps = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _App) for _ in range(2)]
    for app in apps:
        threading.Thread(target=app.serve_forever, daemon=True).start()
    port = _free_port()
    config = readme_config()
    config = config.replace("server 127.0.0.1:8501;", f"server 127.0.0.1:{apps[0].server_address[1]};")
    config = config.replace("server 127.0.0.1:8502;", f"server 127.0.0.1:{apps[1].server_address[1]};")
    config = re.sub(r"listen 443 ssl;", f"listen 127.0.0.1:{port};", config)
    config = re.sub(r"\s*ssl_certificate(_key)?\s+[^;]+;", "", config)
    conf = _main_config(tmp_path, config)
    started = _nginx(conf)
    assert started.returncode == 0, started.stderr
    deadline = time.monotonic() + 10
    while not (tmp_path / "nginx.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield port, {app.server_address[1] for app in apps}
    finally:
        _nginx(conf, "-s", "stop")
        for app in apps:
            app.shutdown()


def _get(port: int, cookie: str | None = None, headers: dict | None = None) -> tuple[dict, str | None]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers=headers or {})
    if cookie:
        request.add_header("Cookie", f"backcare_route={cookie}")
    with urllib.request.urlopen(request, timeout=10) as answer:
        set_cookie = answer.headers.get("Set-Cookie")
        return json.loads(answer.read()), set_cookie


def test_a_browser_stays_on_its_process_and_new_browsers_spread_over_both(balancer):
    port, processes = balancer
    first, set_cookie = _get(port)
    assert set_cookie and set_cookie.startswith("backcare_route=") and "HttpOnly" in set_cookie
    route = set_cookie.split(";")[0].split("=", 1)[1]
    # the same browser (its cookie) on every later request, the WebSocket's included: the same process
    assert {_get(port, route)[0]["port"] for _ in range(20)} == {first["port"]}
    # new browsers (no cookie yet) land on both processes
    assert {_get(port)[0]["port"] for _ in range(40)} == processes


def test_the_websocket_upgrade_is_passed_to_the_app(balancer):
    port, _ = balancer
    seen, _ = _get(port, headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    assert seen["upgrade"] == "websocket" and seen["connection"].lower() == "upgrade"
    plain, _ = _get(port)
    assert plain["upgrade"] is None and plain["connection"] == "close"
