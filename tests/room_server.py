"""A ``ci-sim workshop --room`` server for the room tests, and a small JSON client."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RoomServer:
    process: subprocess.Popen
    url: str
    code: str
    token: str
    folder: Path

    def call(self, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
             raw: bytes | None = None, timeout: float = 30) -> tuple[int, Any]:
        """(status, JSON or bytes) of a request; error answers are returned, not raised."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        request = urllib.request.Request(
            self.url + path, data=data, method="POST" if data is not None else "GET",
            headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, content, kind = response.status, response.read(), \
                    response.headers["Content-Type"]
        except urllib.error.HTTPError as error:
            status, content, kind = error.code, error.read(), error.headers["Content-Type"]
        return status, json.loads(content) if kind and "json" in kind else content

    def facilitator(self) -> dict[str, str]:
        return {"X-Facilitator-Token": self.token}

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.communicate()[0]


def start_room(folder: Path, *extra: str) -> RoomServer:
    """Start ``ci-sim workshop --room`` on a free loopback port; read the code and token it
    prints."""
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "ci_sim.cli", "workshop", "--room",
                                "--port", str(port), "--out", str(folder), *extra],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    lines = []
    deadline = time.monotonic() + 120
    while not any("Facilitator" in line for line in lines):
        line = process.stdout.readline()
        if not line and process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("room server did not start:\n" + "".join(lines)
                               + process.stdout.read())
        lines.append(line)
    text = "".join(lines)
    code = re.search(r"Room (\w+):", text).group(1)
    token = re.search(r"#token=(\S+)", text).group(1)
    url = f"http://127.0.0.1:{port}"
    server = RoomServer(process, url, code, token, folder)
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2)
            return server
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("room server did not answer:\n" + server.stop()) from None
            time.sleep(0.2)
