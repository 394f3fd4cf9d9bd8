"""A tiny headless-Chromium driver over the DevTools protocol on ``--remote-debugging-pipe``.

Chromium reads NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4, so no
websocket library is needed. :func:`load_page` opens a local file, waits for it to settle, and
returns the console errors, uncaught exceptions, values of a few JavaScript expressions and a
PNG screenshot.

Flags (the machine's network must not be touched): headless, no sandbox (containers), no GPU, no
QUIC, no first-run, no background networking, component update or sync, a fresh profile.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
]


def find_chromium() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass
class PageResult:
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""
    pdf: bytes = b""


class ChromiumError(RuntimeError):
    pass


class _Pipe:
    def __init__(self, binary: str, profile: Path) -> None:
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        # Move the child's ends above 10 so the dup2 to 3 and 4 cannot clobber each other.
        child_in = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10)
        child_out = fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
        os.close(to_r)
        os.close(from_w)

        def wire() -> None:
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(3, 4),
            preexec_fn=wire,
        )
        os.close(child_in)
        os.close(child_out)
        self.w, self.r = to_w, from_r
        self.buf = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        want = self.next_id
        deadline = time.monotonic() + timeout
        while True:
            for m in self._read(deadline):
                if m.get("id") == want:
                    if "error" in m:
                        raise ChromiumError(f"{method}: {m['error']}")
                    return m.get("result", {})
                self.events.append(m)

    def pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.events.extend(self._read(deadline, wait_all=False))

    def _read(self, deadline: float, wait_all: bool = True) -> list[dict[str, Any]]:
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                if wait_all:
                    raise ChromiumError("chromium did not answer in time")
                return []
            ready, _, _ = select.select([self.r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise ChromiumError("chromium closed the pipe: " + self._stderr())
            self.buf += chunk
        *messages, self.buf = self.buf.split(b"\0")
        return [json.loads(m) for m in messages if m]

    def _stderr(self) -> str:
        try:
            self.proc.kill()
            return (self.proc.communicate(timeout=5)[1] or b"").decode(errors="replace")[-2000:]
        except Exception:  # pragma: no cover - diagnostics only
            return ""

    def close(self) -> None:
        try:
            os.write(self.w, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc.stderr:
            self.proc.stderr.close()
        for fd in (self.w, self.r):
            try:
                os.close(fd)
            except OSError:
                pass


def load_page(
    path: Path,
    expressions: dict[str, str],
    *,
    binary: str,
    width: int = 1280,
    height: int = 4000,
    settle: float = 1.0,
    timeout: float = 20.0,
    javascript: bool = True,
    clip: tuple[int, int, int, int] | None = None,
    media: str | None = None,
    pdf: bool = False,
) -> PageResult:
    """Open ``path`` in a fresh headless Chromium and report what happened.

    ``media="print"`` lays the page out (and evaluates the expressions) as for printing; ``pdf``
    also prints it to PDF (A4 landscape, the page's own ``@page`` rules winning)."""
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    pipe = _Pipe(binary, profile)
    out = PageResult()
    try:
        target = pipe.send("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
        session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            pipe.send(f"{domain}.enable", session=session)
        pipe.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        if not javascript:
            pipe.send("Emulation.setScriptExecutionDisabled", {"value": True}, session=session)
        if media:
            pipe.send("Emulation.setEmulatedMedia", {"media": media}, session=session)
        pipe.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session, timeout=timeout)
        deadline = time.monotonic() + timeout
        loaded = False
        while time.monotonic() < deadline and not loaded:
            pipe.pump(0.1)
            loaded = any(e.get("method") == "Page.loadEventFired" for e in pipe.events)
        if not loaded:
            raise ChromiumError("the page did not finish loading")
        pipe.pump(settle)
        shot_params: dict[str, Any] = {"format": "png", "captureBeyondViewport": False}
        if clip:
            shot_params["clip"] = dict(zip(("x", "y", "width", "height"), clip, strict=False), scale=1)
        shot = pipe.send("Page.captureScreenshot", shot_params, session=session, timeout=timeout)
        out.screenshot = base64.b64decode(shot["data"])
        if pdf:
            printed = pipe.send(
                "Page.printToPDF",
                {
                    "landscape": True,
                    "paperWidth": 11.69,
                    "paperHeight": 8.27,
                    "preferCSSPageSize": True,
                    "printBackground": True,
                },
                session=session,
                timeout=timeout,
            )
            out.pdf = base64.b64decode(printed["data"])
        for name, expr in expressions.items():
            res = pipe.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=session)
            out.values[name] = res.get("result", {}).get("value")
        for e in pipe.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                d = params.get("exceptionDetails", {})
                out.exceptions.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                args = params.get("args", [])
                out.console_errors.append(" ".join(str(a.get("value", a.get("description"))) for a in args))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.console_errors.append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                url = params.get("request", {}).get("url", "")
                if not url.startswith(("file:", "data:", "about:")):
                    out.requests.append(url)
    finally:
        pipe.close()
        shutil.rmtree(profile, ignore_errors=True)
    return out
