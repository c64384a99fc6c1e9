"""The page in a real browser: headless Chromium driven through chromedriver (selenium).

Runs when `chromium` and `chromedriver` are installed (Debian: `chromium`, `chromium-driver`;
override the paths with CHROMIUM / CHROMEDRIVER) and is skipped with a message otherwise. It
installs nothing. Build the page first (`bash web/build.sh`); `.ci/web.sh` does all of it.

It serves web/dist on 127.0.0.1 (a free port) and checks the numbers the seeds print, with
every expected number computed here, independently of the engine.
"""

import functools
import http.server
import math
import os
import pathlib
import shutil
import socketserver
import tempfile
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist"
SCREENSHOT = pathlib.Path(os.environ.get("WEB_SCREENSHOT", ROOT / "target" / "web-test" / "web.png"))


def _find(env, *names):
    path = os.environ.get(env)
    if path:
        return path if os.path.exists(path) else None
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _find("CHROMIUM", "chromium", "chromium-browser")
CHROMEDRIVER = _find("CHROMEDRIVER", "chromedriver")

if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "browser test skipped: needs `chromium` and `chromedriver` on PATH "
        "(Debian packages chromium and chromium-driver; .ci/web.sh installs them)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402  (only once we know there is a browser)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

# micrograd's demo: the total loss of step 99 from data/moons_mlp_init.json (its published
# run; src/nn/moons.rs quotes the same number).
MICROGRAD_LOSS_STEP_99 = 0.010978370135492719


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm"}

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    if not (DIST / "index.html").exists() or not (DIST / "scalargrad.wasm").exists():
        pytest.fail(f"{DIST} is not built: run `bash web/build.sh` first")
    handler = functools.partial(_Quiet, directory=str(DIST))
    socketserver.TCPServer.allow_reuse_address = True
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="scalargrad-web-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # an explicit chromedriver: selenium-manager never looks for (or downloads) one
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(server, browser):
    browser.get(server)
    WebDriverWait(browser, 30).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "yes"
        or d.find_element(By.ID, "fatal").is_displayed()
    )
    assert not browser.find_element(By.ID, "fatal").is_displayed(), browser.find_element(By.ID, "fatal").text
    yield browser
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], f"console errors: {severe}"


# ------------------------------------------------------------------ reading the picture
def node(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f'#graph g.node[data-name="{name}"]')


def shown(driver, name, field):
    """The number a node shows (`value 220` → 220.0), or None for `grad ·`."""
    text = node(driver, name).find_element(By.CSS_SELECTOR, f"text.{field}").text
    word, _, number = text.partition(" ")
    assert word == field, text
    if number == "·":
        return None
    return float(number.replace("−", "-"))


def close(a, b, rel=1e-5):
    return a is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def click(driver, element_id):
    driver.find_element(By.ID, element_id).click()


def type_program(driver, text):
    area = driver.find_element(By.ID, "source")
    driver.execute_script("arguments[0].value = ''", area)
    area.send_keys(text)
    click(driver, "draw")


# ------------------------------------------------------------------ the tests
def test_opens_on_the_apple_graph_showing_220(page):
    # no interaction at all: the page draws seed 003's apple graph on load
    assert shown(page, "price", "value") == 220.0
    assert "price = 220" in page.find_element(By.ID, "output").text
    assert shown(page, "apple", "value") == 100.0
    assert shown(page, "count", "value") == 2.0
    assert shown(page, "tax", "value") == 1.1
    assert shown(page, "apple", "grad") is None  # no gradient before backward
    assert Select(page.find_element(By.ID, "preset")).first_selected_option.get_attribute("value") == "apple"


def test_backward_step_by_step_then_gradients_2_2_110_200(page):
    apple, count, tax = 100.0, 2.0, 1.1
    click(page, "step")  # the root is seeded with 1 and price hands its share to its inputs
    info = page.find_element(By.ID, "step-info").text
    assert "Step 1 of 2" in info and "price" in info, info
    assert "= 1.1 (local)" in info and "= 200 (local)" in info, info  # ∂(ab)/∂a = b
    assert shown(page, "price", "grad") == 1.0
    assert close(shown(page, "apple_price", "grad"), tax)
    assert close(shown(page, "tax", "grad"), apple * count)
    assert shown(page, "apple", "grad") is None  # not reached yet
    assert shown(page, "count", "grad") is None
    click(page, "step")  # apple_price hands its gradient times its local derivatives on
    info = page.find_element(By.ID, "step-info").text
    assert "Step 2 of 2" in info and "apple_price" in info, info
    assert "= 2 (local)" in info and "= 100 (local)" in info, info
    assert close(shown(page, "apple", "grad"), count * tax)
    assert close(shown(page, "count", "grad"), apple * tax)
    click(page, "step")  # done
    assert close(shown(page, "apple", "grad"), count * tax)  # 2.2
    assert close(shown(page, "count", "grad"), apple * tax)  # 110
    assert close(shown(page, "tax", "grad"), apple * count)  # 200
    assert shown(page, "apple", "grad") == 2.2
    assert shown(page, "count", "grad") == 110.0
    assert shown(page, "tax", "grad") == 200.0
    info = page.find_element(By.ID, "step-info")
    assert info.get_attribute("data-agree") == "yes", info.text
    # "run all" gives the same at once
    click(page, "zero")
    assert shown(page, "apple", "grad") is None
    click(page, "run-all")
    assert [shown(page, n, "grad") for n in ("apple", "count", "tax")] == [2.2, 110.0, 200.0]


def test_apple_and_orange_715(page):
    Select(page.find_element(By.ID, "preset")).select_by_value("apple_orange")
    assert shown(page, "price", "value") == 715.0
    click(page, "run-all")
    want = {"apple": 2.2, "apple_count": 110, "orange": 3.3, "orange_count": 165, "tax": 650}
    for name, grad in want.items():
        assert close(shown(page, name, "grad"), grad), name


def test_setting_and_dragging_a_leaf_updates_values_and_gradients(page):
    click(page, "run-all")
    box = page.find_element(By.ID, "leaf-input-apple")
    page.execute_script("arguments[0].value = ''", box)
    box.send_keys("150")
    apple, count, tax = 150.0, 2.0, 1.1
    assert close(shown(page, "price", "value"), apple * count * tax)  # 330
    assert close(shown(page, "apple_price", "value"), apple * count)
    assert close(shown(page, "apple", "grad"), count * tax)
    assert close(shown(page, "count", "grad"), apple * tax)  # 165
    assert close(shown(page, "tax", "grad"), apple * count)  # 300
    # drag the number `value 2` of count to the right: count grows, every value follows
    value = node(page, "count").find_element(By.CSS_SELECTOR, "text.value")
    ActionChains(page).click_and_hold(value).move_by_offset(60, 0).release().perform()
    count = shown(page, "count", "value")
    assert count > 2.0, count
    assert float(page.find_element(By.ID, "leaf-input-count").get_attribute("value")) == count
    assert close(shown(page, "price", "value"), apple * count * tax)
    assert close(shown(page, "apple", "grad"), count * tax)
    assert close(shown(page, "count", "grad"), apple * tax)
    assert close(shown(page, "tax", "grad"), apple * count)


def test_a_typed_expression(page):
    type_program(page, "a = 2; b = -3; c = 10; d = -2\n(a*b + c).relu() * d")
    a, b, c, d = 2.0, -3.0, 10.0, -2.0
    inner = a * b + c  # 4 > 0, so relu passes it and its gradient
    assert Select(page.find_element(By.ID, "preset")).first_selected_option.text == "Your program (edited)"
    assert "= −8" in page.find_element(By.ID, "output").text
    click(page, "run-all")
    assert close(shown(page, "a", "grad"), d * b)
    assert close(shown(page, "b", "grad"), d * a)
    assert close(shown(page, "c", "grad"), d)
    assert close(shown(page, "d", "grad"), max(inner, 0.0))
    assert not page.find_element(By.ID, "error").is_displayed()


def test_a_syntax_error_shows_a_message_not_a_blank_page(page):
    type_program(page, "(a*b + c.relu() * d")
    error = page.find_element(By.ID, "error")
    assert error.is_displayed()
    assert "line 1, column 20" in error.text and "expected `)`" in error.text, error.text
    assert "^" in error.text  # a caret under the place
    # the last good picture stays (dimmed), the page keeps working
    assert shown(page, "price", "value") == 220.0
    type_program(page, "x = 3\ny = x ^ 2")
    assert "x ** 2" in page.find_element(By.ID, "error").text
    type_program(page, "x = 3\ny = x ** 2")
    assert not page.find_element(By.ID, "error").is_displayed()
    click(page, "run-all")
    assert shown(page, "y", "value") == 9.0 and shown(page, "x", "grad") == 6.0
    # the page fixture then checks that the console logged no error


def test_a_trapped_engine_is_reported_and_restarted(page):
    # a panic in the module traps it: the page says so, starts a fresh instance and
    # loads its graph again, without a console error
    answer = page.execute_script("return engine.call('sg_test_trap')")
    assert answer["ok"] is False and "deliberate panic" in answer["error"]["message"], answer
    fatal = page.find_element(By.ID, "fatal")
    assert fatal.is_displayed() and "restarted" in fatal.text, fatal.text
    body = page.find_element(By.TAG_NAME, "body")
    WebDriverWait(page, 10).until(lambda d: body.get_attribute("data-restarts") == "1")
    assert shown(page, "price", "value") == 220.0
    click(page, "run-all")
    assert shown(page, "count", "grad") == 110.0


def test_the_seed_001_network(page):
    Select(page.find_element(By.ID, "preset")).select_by_value("network")
    # the seed prints t = [0.63029549 0.74969909]
    assert close(shown(page, "t1", "value"), 0.63029549, rel=1e-5)
    assert close(shown(page, "t2", "value"), 0.74969909, rel=1e-5)
    click(page, "run-all")
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    h1, h2 = sig(0.7 * 2 + 0.3 * 4), sig(0.2 * 2 + 0.4 * 4)
    t1 = sig(0.1 * h1 + 0.5 * h2)
    assert close(shown(page, "w2_11", "grad"), (t1 - 0.8) * t1 * (1 - t1) * h1)


def test_moons_training_lowers_the_loss_to_micrograds(page):
    status = page.find_element(By.ID, "moons-status")
    first = float(status.get_attribute("data-loss"))
    click(page, "train")
    WebDriverWait(page, 120).until(lambda d: status.get_attribute("data-step") == "100")
    last = float(status.get_attribute("data-loss"))
    assert last < first / 10, (first, last)
    # the loss of step 99's forward pass, micrograd's published number
    assert math.isclose(last, MICROGRAD_LOSS_STEP_99, rel_tol=1e-9), last
    assert "accuracy 100%" in status.text, status.text


def test_screenshot(page):
    Select(page.find_element(By.ID, "preset")).select_by_value("apple_orange")
    click(page, "run-all")
    click(page, "step")  # back to the start of the pass: step 1, the root hands on
    click(page, "step")  # step 2: all_price hands 1.1 to both products
    click(page, "train")
    status = page.find_element(By.ID, "moons-status")
    WebDriverWait(page, 120).until(lambda d: status.get_attribute("data-step") == "100")
    page.execute_script("window.scrollTo(0, 0)")
    height = page.execute_script("return document.documentElement.scrollHeight")
    metrics = {"width": 1280, "height": min(int(height), 2400), "deviceScaleFactor": 1, "mobile": False}
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert page.save_screenshot(str(SCREENSHOT))
    page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert SCREENSHOT.stat().st_size > 10_000
