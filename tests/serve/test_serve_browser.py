"""`tmplstudio serve` in a real headless Chromium (Debian's chromium + chromium-driver, driven by
selenium; .ci/run installs them when missing).

The page draws the terminal on a canvas, so what the reviewer sees is read from the websocket
frames the page received (Chromium's performance log), with the ANSI codes stripped; a
screenshot is kept in the test's folder for a person to look at.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.ci.cikit import make_project, write

CHROMIUM, DRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or "/usr/bin/chromedriver"
TOKEN = "test-token-0123456789abcdef"
# The flags that work on this kind of machine (no sandbox as root, no network but loopback).
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,900"]
ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]")


def wait_for(condition, what: str, timeout: float = 30.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    root = make_project(tmp_path)
    write(root / "templates" / "notice.j2", '+++\nlocale = "en-US"\n+++\nHello, please call us.\n')
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tmplstudio", "serve", "templates/notice.j2", "--port", str(port),
                             "--token", TOKEN, "--max-sessions", "1"],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []

    def started():
        line = proc.stdout.readline()
        lines.append(line)
        return "tmplstudio serve: open" in line or proc.poll() is not None

    wait_for(started, "the server's start line")
    assert proc.poll() is None, "".join(lines)
    assert f"http://127.0.0.1:{port}/?token={TOKEN}" in "".join(lines)
    info = {"url": f"http://127.0.0.1:{port}", "root": root, "port": port}
    yield info
    proc.terminate()
    try:
        rest, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, _ = proc.communicate()
    # The token is printed once, at start; no access-log line repeats it.
    assert rest.count(TOKEN) == 0, rest[-2000:]


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert Path(CHROMIUM).exists() and Path(DRIVER).exists(), "chromium and chromedriver (.ci/run installs them)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.received = b""
    yield driver
    driver.quit()


def screen_text(driver) -> str:
    """Everything the page has received on its websocket so far, without terminal escapes."""
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.webSocketFrameReceived":
            frame = message["params"]["response"]
            data = base64.b64decode(frame["payloadData"]) if frame["opcode"] == 2 else frame["payloadData"].encode()
            driver.received += data
    return ANSI.sub(b"", driver.received).decode("utf-8", "replace")


def test_page_loads_typing_shows_the_finding_and_save_asks_first(server, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(f"{server['url']}/?token={TOKEN}")
    wait_for(lambda: "No findings" in screen_text(browser), "the studio's first screen")
    assert "Hello, please call us." in screen_text(browser)
    # Nothing on the page came from another machine (the web font is served locally).
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(url.startswith(server["url"] + "/") for url in resources), resources
    assert any(url.endswith(".ttf") for url in resources)

    browser.find_element(By.ID, "terminal").click()
    ActionChains(browser).send_keys(" We will arrest you").perform()
    wait_for(lambda: "visit-threat Announces a home" in screen_text(browser), "the finding in the findings panel")
    browser.save_screenshot(str(tmp_path / "serve-finding.png"))

    # The terminal's save guard, unchanged: a draft with an error asks before it is written.
    ActionChains(browser).key_down("\ue009").send_keys("s").key_up("\ue009").perform()  # ctrl+s
    wait_for(lambda: "Save as a draft with 1 error?" in screen_text(browser), "the save-draft question")
    assert "arrest" not in (server["root"] / "templates" / "notice.j2").read_text(encoding="utf-8")


@pytest.mark.parametrize("query", ["", "?token=wrong-token-0123456789abc"])
def test_a_wrong_or_missing_token_is_refused(server, browser, query):
    from selenium.webdriver.common.by import By

    browser.get(f"{server['url']}/{query}")
    assert "wrong or missing token" in browser.find_element(By.TAG_NAME, "body").text
    assert browser.find_elements(By.ID, "terminal") == []
    for path in ("/ws", "/static/js/textual.js"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server['url']}{path}{query}", timeout=10)
        assert refused.value.code == 403


def test_sessions_beyond_the_limit_and_cross_origin_sockets_are_refused(server):
    import aiohttp

    async def scenario():
        async with aiohttp.ClientSession() as http:
            ws = f"ws://127.0.0.1:{server['port']}/ws?token={TOKEN}&width=80&height=24"
            with pytest.raises(aiohttp.WSServerHandshakeError) as cross:
                await http.ws_connect(ws, origin="http://evil.example")
            assert cross.value.status == 403
            first = await http.ws_connect(ws, origin=server["url"])
            with pytest.raises(aiohttp.WSServerHandshakeError) as full:
                await http.ws_connect(ws, origin=server["url"])
            assert full.value.status == 503
            await first.close()
            # The closed session's place is free again once its studio process has exited.
            deadline = time.monotonic() + 30
            while True:
                try:
                    again = await http.ws_connect(ws, origin=server["url"])
                    break
                except aiohttp.WSServerHandshakeError as exc:
                    assert exc.status == 503
                    if time.monotonic() > deadline:
                        pytest.fail("the closed session's place never came free")
                    await asyncio.sleep(0.2)
            await again.close()

    asyncio.run(scenario())
