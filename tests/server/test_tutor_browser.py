"""The tutor's web page in a real headless Chromium (Debian's package, driven by Selenium with
Debian's chromedriver): answer two problems, reload, and find the same session."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coachgraph.agents.diagnosis import evaluate, parse_expression
from coachgraph.recommend.service import RecommendService
from tests.conftest import skip_without
from tests.server.tutor_app import KEY, tutor_app

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (dev extra) drives the browser")

pytestmark = pytest.mark.slow

CHROMIUM, DRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or "/usr/bin/chromedriver"

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-dev-shm-usage")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path, service: RecommendService) -> Iterator[tuple[str, object]]:
    import uvicorn

    app, sessions = tutor_app(tmp_path, service)
    port = _free_port()
    served = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not served.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", sessions
    served.should_exit = True
    thread.join(timeout=30)
    sessions.close()


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from selenium.webdriver.chrome.service import Service

    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        skip_without("chromium", "Chromium is not installed (bash .ci/chromium.sh, or apt-get install -y chromium "
                                 "chromium-driver)")

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager never downloads a driver or browser
    monkeypatch.setenv("SE_AVOID_STATS", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _wait(driver: object, condition, timeout: float = 60.0) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: condition(d))


def _text(driver: object, element: str) -> str:
    return driver.find_element("id", element).text


def _answer(driver: object, text: str) -> None:
    box = driver.find_element("id", "answer")
    box.send_keys(text)
    driver.find_element("id", "send").click()


def _mastery(driver: object) -> dict[str, str]:
    rows = driver.find_elements("css selector", "#mastery tbody tr")
    return {row.get_attribute("data-skill"): row.find_element("css selector", ".value").text for row in rows}


def test_two_answers_then_a_reload_returns_to_the_same_session(server, browser) -> None:
    url, sessions = server
    browser.get(f"{url}/tutor")
    browser.find_element("id", "learner").send_keys("ada")
    browser.find_element("id", "key").send_keys(KEY)
    browser.find_element("id", "load").click()
    _wait(browser, lambda d: d.find_element("id", "picker").is_displayed())
    browser.find_element("id", "targets").send_keys("add-2d")
    browser.find_element("id", "new").click()
    _wait(browser, lambda d: _text(d, "session-id") != "" and "Problem 1" in _text(d, "transcript"))
    session = _text(browser, "session-id")
    question = sessions.view(session).problem
    _answer(browser, str(evaluate(parse_expression(question))))
    _wait(browser, lambda d: d.find_element("id", "transcript").get_attribute("data-turn") == "1")
    assert "Correct" in _text(browser, "transcript")
    _answer(browser, "1000")
    _wait(browser, lambda d: d.find_element("id", "transcript").get_attribute("data-turn") == "2")
    assert "Not quite: you answered 1000" in _text(browser, "transcript")
    before_text, before_mastery, before_plan = _text(browser, "transcript"), _mastery(browser), _text(browser, "plan")
    assert f"session={session}" in browser.current_url and before_mastery["add-1d"] != "0.20"

    browser.refresh()
    _wait(browser, lambda d: _text(d, "session-id") == session and "1000" in _text(d, "transcript"))
    assert _text(browser, "transcript") == before_text
    assert _mastery(browser) == before_mastery and _text(browser, "plan") == before_plan
    view = sessions.view(session)
    assert view.turn == 2 and [e["text"] for e in view.transcript if e["role"] == "learner"][1] == "1000"
    assert browser.find_element("id", "learner").get_attribute("value") == "ada"
