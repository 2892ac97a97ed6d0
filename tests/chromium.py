"""Open a local HTML file in headless Chromium over the DevTools protocol.

Collects what a reader's browser would complain about (console errors,
uncaught exceptions, failed loads), every request the page makes, and
screenshots at a phone's and a desktop's width. Debian's ``chromium`` package.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@dataclass
class PageVisit:
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    screenshots_png: dict[str, bytes] = field(default_factory=dict)
    phone_overflow_px: int = 0  # how far the page is wider than a phone screen (0 = fits)
    title: str = ""
    values: dict = field(default_factory=dict)  # name -> value of each ``evaluate`` expression, on the phone screen


class _Session:
    def __init__(self, ws_url: str, timeout_s: float):
        import websocket

        self.timeout_s = timeout_s
        self.ws = websocket.create_connection(ws_url, timeout=timeout_s, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method: str, timeout_s: float) -> None:
        end = time.monotonic() + timeout_s
        if any(e.get("method") == method for e in self.events):
            return
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == method:
                return
        raise TimeoutError(f"no {method} within {timeout_s} s")

    def drain(self, quiet_s: float = 0.5) -> None:
        """Collect events until none arrives for ``quiet_s``."""
        import websocket

        self.ws.settimeout(quiet_s)
        try:
            while True:
                self.events.append(json.loads(self.ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            self.ws.settimeout(self.timeout_s)

    def close(self) -> None:
        self.ws.close()


def visit(html_path: Path, *, chromium: str, timeout_s: float = 60.0, evaluate: dict | None = None) -> PageVisit:
    """Load ``html_path`` and report requests, console errors and screenshots (and the values of the
    JavaScript expressions in ``evaluate``, e.g. what a reader sees in an element)."""
    profile = tempfile.mkdtemp(prefix="gaitlab-chromium-")
    proc = subprocess.Popen(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = _devtools_port(proc, timeout_s)
        page_ws = _page_ws_url(port, timeout_s)
        s = _Session(page_ws, timeout_s)
        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                s.call(f"{domain}.enable")
            out = PageVisit()
            s.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=1, mobile=True)
            s.call("Page.navigate", url=Path(html_path).resolve().as_uri())
            s.wait_for("Page.loadEventFired", timeout_s)
            s.drain()
            out.phone_overflow_px = int(
                s.call(
                    "Runtime.evaluate",
                    returnByValue=True,
                    expression=("document.documentElement.scrollWidth - window.innerWidth"),
                )["result"]["value"]
            )
            out.title = s.call("Runtime.evaluate", expression="document.title", returnByValue=True)["result"]["value"]
            for name, expression in (evaluate or {}).items():
                result = s.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"]
                out.values[name] = result.get("value")
            out.screenshots_png["phone"] = base64.b64decode(s.call("Page.captureScreenshot", format="png")["data"])
            s.call("Emulation.setDeviceMetricsOverride", width=1100, height=1400, deviceScaleFactor=1, mobile=False)
            s.drain(0.3)
            out.screenshots_png["desktop"] = base64.b64decode(s.call("Page.captureScreenshot", format="png")["data"])
            s.drain(0.2)
            _collect(s.events, out)
            return out
        finally:
            s.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _collect(events: list[dict], out: PageVisit) -> None:
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Network.requestWillBeSent":
            out.requests.append(p["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.console_errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            out.console_errors.append(f"{d.get('text', 'exception')} {d.get('exception', {}).get('description', '')}")
        elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
            out.console_errors.append(p["entry"].get("text", ""))
        elif method == "Network.loadingFailed":
            out.console_errors.append(f"load failed: {p.get('errorText')}")


def _devtools_port(proc: subprocess.Popen, timeout_s: float) -> int:
    end = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < end:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if m := re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line):
            return int(m.group(1))
    raise RuntimeError("chromium did not start its DevTools endpoint:\n" + "".join(seen[-20:]))


def _page_ws_url(port: int, timeout_s: float) -> str:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as resp:  # local DevTools only
            targets = json.loads(resp.read())
        pages = [t for t in targets if t.get("type") == "page"]
        if pages:
            return pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.1)
    raise RuntimeError("chromium opened no page")


def png_is_blank(png: bytes) -> bool:
    """True when a screenshot is (nearly) one colour."""
    import io

    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    return bool(img.std() < 5.0 or len(np.unique(img)) < 16)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")
