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
# Screenshots go to target/web-test/; `WEB_SCREENSHOTS=docs bash .ci/web.sh` refreshes the
# ones committed in docs/.
SHOTS = pathlib.Path(os.environ.get("WEB_SCREENSHOTS", ROOT / "target" / "web-test"))
if not SHOTS.is_absolute():
    SHOTS = ROOT / SHOTS
SCREENSHOT = SHOTS / "web.png"

# micrograd's README cell, exactly as its README shows it.
MICROGRAD_README = """from micrograd.engine import Value

a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
print(f'{g.data:.4f}') # prints 24.7041, the outcome of this forward pass
g.backward()
print(f'{a.grad:.4f}') # prints 138.8338, i.e. the numerical value of dg/da
print(f'{b.grad:.4f}') # prints 645.5773, i.e. the numerical value of dg/db
"""


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
        "--window-size=1280,900",
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


def paste_program(driver, text):
    """Sets the program as a paste would (one input event) and presses Draw."""
    area = driver.find_element(By.ID, "source")
    driver.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))", area, text
    )
    click(driver, "draw")


def nodes_outside_the_panel(driver):
    """The names of drawn nodes whose box is not wholly inside the graph panel."""
    return driver.execute_script(
        """
        const panel = document.getElementById('graph-wrap').getBoundingClientRect();
        return [...document.querySelectorAll('#graph g.node')].filter((n) => {
          const r = n.querySelector('rect').getBoundingClientRect();
          return r.left < panel.left - 0.5 || r.right > panel.right + 0.5
              || r.top < panel.top - 0.5 || r.bottom > panel.bottom + 0.5;
        }).map((n) => n.dataset.name || n.dataset.id);
        """
    )


def no_horizontal_scroll(driver):
    return driver.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def shot(driver, element_id, name):
    """A screenshot of one whole element (the window made tall enough for it), into SHOTS."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    element = driver.find_element(By.ID, element_id)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    metrics = {"width": 1280, "height": int(height), "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        driver.execute_script("window.scrollTo(0, 0)")
        assert element.screenshot(str(SHOTS / name))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


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
    shot(page, "moons-section", "web-network.png")
    page.execute_script("window.scrollTo(0, 0)")
    height = page.execute_script("return document.documentElement.scrollHeight")
    metrics = {"width": 1280, "height": min(int(height), 2400), "deviceScaleFactor": 1, "mobile": False}
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert page.save_screenshot(str(SCREENSHOT))
    page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert SCREENSHOT.stat().st_size > 10_000


# ------------------------------------------------------------------ issue 26: the page a learner keeps open
def test_micrograds_readme_cell_pasted_whole(page):
    paste_program(page, MICROGRAD_README)
    assert not page.find_element(By.ID, "error").is_displayed()
    # its three print lines, in the output area, in order
    assert page.find_element(By.ID, "prints").text.split("\n") == ["24.7041", "138.8338", "645.5773"]
    # the picture: the program called backward, so the gradients are shown
    assert close(shown(page, "g", "value"), 24.70408163265306, rel=1e-6)
    assert close(shown(page, "a", "grad"), 138.83381924198252, rel=1e-5)
    assert close(shown(page, "b", "grad"), 645.5772594752186, rel=1e-5)
    grad = node(page, "a").find_element(By.CSS_SELECTOR, "text.grad").get_attribute("data-grad")
    assert math.isclose(float(grad), 138.83381924198252, rel_tol=1e-12)
    assert "g = 24.7041" in page.find_element(By.ID, "output").text
    # reassigned names: the latest binding keeps the plain name, earlier ones are c₁, c₂
    for name in ("c₁", "c₂", "c", "d₁", "d₂", "d", "g₁", "g"):
        node(page, name)
    assert shown(page, "c₁", "value") == -2.0  # a + b
    assert nodes_outside_the_panel(page) == []
    # and the panel fits the window: scrolled to, the whole graph is on screen at 1280 × 900
    assert page.find_element(By.ID, "graph-wrap").size["height"] <= page.execute_script("return innerHeight")
    shot(page, "graph-section", "web-micrograd.png")


@pytest.mark.parametrize("preset", ["apple", "apple_orange", "network", "expression"])
def test_every_node_of_each_preset_inside_the_panel(page, preset):
    Select(page.find_element(By.ID, "preset")).select_by_value(preset)
    assert len(page.find_elements(By.CSS_SELECTOR, "#graph g.node")) > 3
    assert nodes_outside_the_panel(page) == []
    click(page, "run-all")  # and while the pass is shown
    assert nodes_outside_the_panel(page) == []


def test_zoom_pan_and_fit(page):
    Select(page.find_element(By.ID, "preset")).select_by_value("network")
    graph = page.find_element(By.ID, "graph")
    fit = float(graph.get_attribute("data-scale"))
    click(page, "zoom-in")
    assert float(graph.get_attribute("data-scale")) > fit
    before = node(page, "cost").find_element(By.TAG_NAME, "rect").location
    # a point of the panel's background (not a node), as an offset from the panel's centre
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", graph)
    dx, dy = page.execute_script(
        """
        const r = arguments[0].getBoundingClientRect();
        for (let y = r.top + 6; y < r.bottom; y += 7) for (let x = r.left + 6; x < r.right; x += 7) {
          if (document.elementFromPoint(x, y) === arguments[0]) {
            return [Math.round(x - (r.left + r.width / 2)), Math.round(y - (r.top + r.height / 2))];
          }
        }
        return null;
        """,
        graph,
    )
    ActionChains(page).move_to_element_with_offset(graph, dx, dy).click_and_hold().move_by_offset(-40, 0).move_by_offset(
        -40, 0
    ).release().perform()
    after = node(page, "cost").find_element(By.TAG_NAME, "rect").location
    assert after["x"] < before["x"] - 40, (before, after)  # panned left
    click(page, "zoom-fit")
    assert float(graph.get_attribute("data-scale")) == fit
    assert nodes_outside_the_panel(page) == []


def test_step_labels_do_not_collide(page):
    Select(page.find_element(By.ID, "preset")).select_by_value("network")
    for _ in range(6):
        click(page, "step")
        overlaps = page.execute_script(
            """
            const r = [...document.querySelectorAll('#graph .edge-label')].map((t) => t.getBoundingClientRect());
            let n = 0;
            for (let i = 0; i < r.length; i++) for (let j = 0; j < i; j++) {
              const a = r[i], b = r[j];
              if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) n++;
            }
            return n;
            """
        )
        assert overlaps == 0


def test_a_300_character_name_and_a_long_error_line(page):
    name = "weight_" + "x" * 293
    assert len(name) == 300
    paste_program(page, f"{name} = 2\ny = {name} * 3")
    assert shown(page, name, "value") == 2.0  # data-name is the whole name
    box = node(page, name)
    title = box.find_element(By.CSS_SELECTOR, "text.title").text
    assert title.endswith("…") and len(title) < 30, title
    assert name in box.find_element(By.TAG_NAME, "title").get_attribute("textContent")  # full name on hover
    assert no_horizontal_scroll(page)
    assert nodes_outside_the_panel(page) == []
    # an error in a long line: the message wraps, the caret's window is in view
    paste_program(page, f"y = {name} * 3 +* 2")
    error = page.find_element(By.ID, "error")
    assert "line 1, column" in error.text and "found `*`" in error.text, error.text
    pre = error.find_element(By.TAG_NAME, "pre")
    assert "^" in pre.text
    fits = page.execute_script("const p = arguments[0]; return p.scrollWidth <= p.clientWidth", pre)
    assert fits
    assert no_horizontal_scroll(page)
    long_line = "y = " + " + ".join(["a"] * 400) + " +* 2"
    paste_program(page, long_line)
    assert "found `*`" in error.text
    pre = error.find_element(By.TAG_NAME, "pre")
    assert page.execute_script("const p = arguments[0]; return p.scrollWidth <= p.clientWidth", pre)
    assert pre.text.splitlines()[0].startswith("…")  # a window around the caret
    assert no_horizontal_scroll(page)


def test_unicode_names(page):
    paste_program(page, "π = 3.14159\n变量 = π * 2")
    assert not page.find_element(By.ID, "error").is_displayed()
    assert close(shown(page, "变量", "value"), 6.28318)
    click(page, "run-all")
    assert shown(page, "π", "grad") == 2.0


def test_nan_and_infinity_are_flagged(page):
    paste_program(page, "a = -1\nb = ln(a)\nc = b * 2")
    assert "nonfinite" in node(page, "b").get_attribute("class")
    assert "nonfinite" not in node(page, "a").get_attribute("class")
    flag = page.find_element(By.ID, "nonfinite")
    assert flag.is_displayed()
    assert "`b` (ln) is NaN" in flag.text and "domain" in flag.text, flag.text
    paste_program(page, "q = 1 / 0")
    assert "nonfinite" in node(page, "q").get_attribute("class")
    assert "division by zero" in flag.text, flag.text
    # a leaf dragged to ln's domain edge: y = ln(x) at x = 0 is −∞, and x's gradient 1/x is ∞
    paste_program(page, "x = 1\ny = x.ln()")
    assert not flag.is_displayed()
    click(page, "run-all")
    box = page.find_element(By.ID, "leaf-input-x")
    page.execute_script("arguments[0].value = ''", box)
    box.send_keys("0")
    assert node(page, "y").find_element(By.CSS_SELECTOR, "text.value").text == "value −∞"
    assert "nonfinite" in node(page, "x").get_attribute("class")
    assert "edge of ln's domain" in flag.text and "1/a at a = 0" in flag.text, flag.text
    shot(page, "graph-section", "web-nonfinite.png")


def test_exact_values_on_click(page):
    click(page, "run-all")
    node(page, "price").find_element(By.TAG_NAME, "rect").click()
    info = page.find_element(By.ID, "node-info")
    # the shortest text that reads back as the f64 100·2·1.1
    assert info.find_element(By.CSS_SELECTOR, ".exact-value").text == repr(100 * 2 * 1.1)
    assert info.find_element(By.CSS_SELECTOR, ".exact-grad").text == "1"
    tip = node(page, "count").find_element(By.TAG_NAME, "title").get_attribute("textContent")
    assert f"grad {100 * 1.1!r}" in tip, tip


def test_numerical_check_beside_the_engines_gradient(page):
    Select(page.find_element(By.ID, "check-leaf")).select_by_visible_text("count")
    h = page.find_element(By.ID, "check-h")
    page.execute_script("arguments[0].value = '0.001'", h)
    click(page, "check-run")
    result = page.find_element(By.ID, "check-result")
    assert float(result.get_attribute("data-grad")) == 100 * 1.1
    assert math.isclose(float(result.get_attribute("data-forward")), 110.0, rel_tol=1e-9)  # linear in count
    assert "engine's gradient" in result.text
    assert shown(page, "count", "value") == 2.0  # put back
    assert shown(page, "count", "grad") is None  # no gradients shown before: still none


def _status(page):
    return page.find_element(By.ID, "moons-status")


def _set(page, element_id, value):
    el = page.find_element(By.ID, element_id)
    page.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))", el, value
    )


def _reset_loss(page):
    return float(_status(page).get_attribute("data-loss0"))


def test_the_network_view_and_each_control(page):
    net = page.find_element(By.ID, "net")
    status = _status(page)
    # micrograd's MLP(2, [16, 16, 1]): 35 neurons, 304 weights, 337 parameters
    assert len(net.find_elements(By.CSS_SELECTOR, "g.neuron")) == 2 + 16 + 16 + 1
    weights = net.find_elements(By.CSS_SELECTOR, "path.weight")
    assert len(weights) == 2 * 16 + 16 * 16 + 16
    assert status.get_attribute("data-parameters") == "337"
    w = weights[40]
    assert w.get_attribute("stroke") in ("#2563eb", "#f97316")
    assert (float(w.get_attribute("data-w")) >= 0) == (w.get_attribute("stroke") == "#2563eb")
    assert net.find_element(By.CSS_SELECTOR, "g.neuron[data-layer='1'] image").get_attribute("href").startswith("data:image/png")
    before = [float(x.get_attribute("data-w")) for x in weights[:40]]
    click(page, "moons-step")
    after = [float(x.get_attribute("data-w")) for x in weights[:40]]
    assert before != after  # the weights move while it trains
    # hovering a neuron shows its output over the plane
    boundary = page.find_element(By.ID, "boundary")
    assert boundary.get_attribute("data-showing") == "output"
    ActionChains(page).move_to_element(net.find_element(By.CSS_SELECTOR, "g.neuron[data-layer='1'][data-index='3']")).perform()
    assert boundary.get_attribute("data-showing") == "1:3"
    ActionChains(page).move_to_element(status).perform()
    assert boundary.get_attribute("data-showing") == "output"
    # the loss chart's axis: ticks from 0 up past step 0's loss
    ticks = [float(t) for t in page.find_element(By.ID, "loss").get_attribute("data-yticks").split(",")]
    assert ticks[0] == 0 and len(ticks) >= 3 and ticks[-1] >= _reset_loss(page)
    assert page.find_element(By.ID, "loss").get_attribute("data-xticks") == "0,20,40,60,80,100"

    # hidden sizes: a new network, drawn, and training restarts
    _set(page, "hidden", "4, 3")
    assert len(net.find_elements(By.CSS_SELECTOR, "g.neuron")) == 2 + 4 + 3 + 1
    assert len(net.find_elements(By.CSS_SELECTOR, "path.weight")) == 2 * 4 + 4 * 3 + 3
    assert status.get_attribute("data-parameters") == str(3 * 4 + 5 * 3 + 4)
    WebDriverWait(page, 30).until(lambda d: int(status.get_attribute("data-step")) >= 3)
    _set(page, "hidden", "40")
    assert "1 to 32" in page.find_element(By.ID, "moons-error").text
    _set(page, "hidden", "16, 16")
    assert not page.find_element(By.ID, "moons-error").is_displayed()

    # learning rate: each step's rate is lr·(1 − 0.9·k/100)
    _set(page, "lr", "0.5")
    WebDriverWait(page, 30).until(lambda d: int(status.get_attribute("data-step") or 0) >= 2)
    # read the step and its rate together (one script runs between two animation frames)
    step, lr = page.execute_script("const d = arguments[0].dataset; return [d.step, d.lr]", status)
    k = int(step) - 1
    assert math.isclose(float(lr), 0.5 * (1 - 0.9 * k / 100), rel_tol=1e-12), (step, lr)
    _set(page, "lr", "1")

    # L2: step 0's loss is hinge + α·Σp², linear in α
    losses = {}
    for alpha in ("0", "0.0001", "0.1"):
        _set(page, "l2", alpha)
        losses[alpha] = _reset_loss(page)
    assert math.isclose(losses["0.0001"], MICROGRAD_LOSS_STEP_0, rel_tol=1e-12)
    assert losses["0"] < losses["0.0001"] < losses["0.1"]
    ratio = (losses["0.1"] - losses["0"]) / (losses["0.0001"] - losses["0"])
    assert math.isclose(ratio, 1000, rel_tol=1e-6), ratio

    # the points: noise 0 puts the first on the upper moon's end (1, 0); noise and seed move it
    first = lambda: page.find_element(By.ID, "boundary").get_attribute("data-first-point")  # noqa: E731
    micrograds = first()
    _set(page, "noise", "0")
    assert Select(page.find_element(By.ID, "data")).first_selected_option.get_attribute("value") == "generated"
    assert first() == "1,0"
    _set(page, "noise", "0.2")
    noisy = first()
    assert noisy not in ("1,0", micrograds)
    _set(page, "data-seed", "2")
    assert first() not in (noisy, "1,0")
    _set(page, "data", "file")
    assert first() == micrograds


MICROGRAD_LOSS_STEP_0 = 0.8958441028683222
