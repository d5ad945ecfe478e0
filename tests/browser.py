"""A real headless browser for page tests: Debian's chromium driven over the DevTools protocol.

`Chromium` starts the browser on a private profile with a DevTools port on
loopback; `BrowserPage` drives one tab over a websocket (navigate, evaluate
JavaScript, press keys, resize, screenshot) and records what the page did:
console errors, uncaught exceptions, every request and failed or 4xx/5xx
responses. Fixtures: `chromium` (one per session) and `browser_page` (a fresh
tab per test); `screenshot_dir` is where screenshots go for review
(`$IOTORINO_ARTIFACTS` or artifacts/screenshots in the checkout).

Any section's page tests use it:

    def test_my_page(server, browser_page):
        browser_page.goto(server.url + "/scuole")
        browser_page.assert_clean(server.url)
        assert browser_page.evaluate("document.querySelectorAll('canvas').length") > 0
        browser_page.screenshot("scuole")
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
    "--disable-default-apps", "--mute-audio", "--hide-scrollbars", "--window-size=1280,900",
    # Nothing resolves but loopback: a page that tries to leave the host fails loudly instead of waiting.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
]
LOCAL_SCHEMES = ("data", "blob", "about")


class BrowserError(AssertionError):
    """The browser or the page did something a test does not accept."""


class Chromium:
    """A headless chromium process with its DevTools endpoint on 127.0.0.1."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or shutil.which("chromium") or shutil.which("chromium-browser")
        if not self.binary:
            raise BrowserError("chromium not found: run scripts/setup.sh (APT_PACKAGES has chromium)")
        self.profile = Path(tempfile.mkdtemp(prefix="iotorino-chromium-"))
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self, timeout: float = 30.0) -> "Chromium":
        """Launch the browser and wait for its DevTools port."""
        self.process = subprocess.Popen(
            [self.binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=open(self.profile / "stderr.log", "wb"),
        )
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not active.is_file() or not active.read_text().strip():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BrowserError(f"chromium did not start: {(self.profile / 'stderr.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        self.port = int(active.read_text().split()[0])
        return self

    def new_page(self) -> "BrowserPage":
        """A new tab, connected."""
        target = requests.put(f"http://127.0.0.1:{self.port}/json/new?about:blank", timeout=10).json()
        return BrowserPage(self, target["id"], target["webSocketDebuggerUrl"])

    def close_target(self, target_id: str) -> None:
        """Close a tab."""
        requests.get(f"http://127.0.0.1:{self.port}/json/close/{target_id}", timeout=10)

    def stop(self) -> None:
        """Stop the browser and remove its profile."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


class BrowserPage:
    """One tab over the DevTools protocol, recording console errors, exceptions and requests."""

    def __init__(self, browser: Chromium, target_id: str, ws_url: str) -> None:
        self.browser = browser
        self.target_id = target_id
        self._connection = contextlib.ExitStack()
        self.ws = self._connection.enter_context(connect(ws_url, max_size=64 * 1024 * 1024, open_timeout=10))
        self.ids = itertools.count(1)
        self.console_errors: list[str] = []
        self.requests: list[str] = []
        self.failures: list[str] = []
        self.loaded = False
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable")

    def send(self, method: str, params: dict | None = None, timeout: float = 30.0) -> dict:
        """Call a DevTools method and return its result (events arriving meanwhile are recorded)."""
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == call_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.console_errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.console_errors.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.console_errors.append(f"{params['entry'].get('text')} {params['entry'].get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            self.failures.append(f"{params.get('errorText')} (request {params.get('requestId')})")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            self.failures.append(f"{params['response']['status']} {params['response']['url']}")
        elif method == "Page.loadEventFired":
            self.loaded = True

    def pump(self, seconds: float) -> None:
        """Record events for `seconds` (lets scripts run and late requests show)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self._event(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                return

    def goto(self, url: str, timeout: float = 30.0, settle: float = 0.5) -> None:
        """Navigate and wait for the load event, then `settle` seconds for scripts and late requests."""
        self.loaded = False
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"navigation to {url} failed: {result['errorText']}")
        deadline = time.monotonic() + timeout
        while not self.loaded:
            if time.monotonic() > deadline:
                raise BrowserError(f"{url} did not finish loading in {timeout} s")
            self.pump(0.1)
        self.pump(settle)

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def press(self, key: str, code: str, key_code: int) -> None:
        """Press and release one key (e.g. "Tab", "Tab", 9)."""
        for kind in ("rawKeyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": key_code})

    def viewport(self, width: int, height: int, mobile: bool = False) -> None:
        """Emulate a screen size (a phone with `mobile=True`)."""
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def screenshot(self, name: str, directory: Path | None = None, max_height: int = 5000) -> Path:
        """A full-page PNG (up to `max_height` px) written to the screenshot directory."""
        metrics = self.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], max_height), "scale": 1}
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})["data"]
        target = (directory or screenshots_directory()) / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
        return target

    def outside_requests(self, base_url: str) -> list[str]:
        """Requests that went anywhere but the app under test (or data:/blob:/about: URLs)."""
        home = urlparse(base_url).netloc
        return [u for u in self.requests if urlparse(u).scheme not in LOCAL_SCHEMES and urlparse(u).netloc != home]

    def assert_clean(self, base_url: str) -> None:
        """No console error or exception, no failed request, nothing requested outside the host."""
        problems = {"console": self.console_errors, "failed": self.failures, "outside": self.outside_requests(base_url)}
        if any(problems.values()):
            raise BrowserError(f"page was not clean: {problems}")

    def reset(self) -> None:
        """Forget what was recorded."""
        self.console_errors.clear(), self.requests.clear(), self.failures.clear()

    def close(self) -> None:
        """Close the tab."""
        try:
            self._connection.close()
        finally:
            self.browser.close_target(self.target_id)


def screenshots_directory() -> Path:
    """Where screenshots go: `$IOTORINO_ARTIFACTS/screenshots`, else artifacts/screenshots in the checkout."""
    return Path(os.environ.get("IOTORINO_ARTIFACTS") or ROOT / "artifacts") / "screenshots"


@pytest.fixture(scope="session")
def chromium():
    """One headless chromium for the session."""
    browser = Chromium().start()
    yield browser
    browser.stop()


@pytest.fixture
def browser_page(chromium):
    """A fresh tab, closed after the test."""
    page = chromium.new_page()
    yield page
    page.close()
