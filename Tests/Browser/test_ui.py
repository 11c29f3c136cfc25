#!/usr/bin/python3
"""Browser tests of berth watch's web UI (issue 14), in real headless Chromium.

Against the built `berth` binary running `berth watch` on a git repository made here from
the sample shop's manifests, with the real dockerd and the sample images:
- the overview shows booking, customer and gateway, Synced and Healthy, 2/2;
- after `docker kill` of a replica the service page shows the heal without a reload;
- after a commit the new revision appears without a reload, and its commit message, which
  holds HTML, shows as text (no alert, no injected element);
- Sync now is refused without a session and works after logging in with the token (the
  session cookie is HttpOnly and SameSite=Strict);
- at 1,000 services and with 60-character names (served by `berth-bench ui --serve`)
  nothing overflows the 1280-pixel window;
- a commit with an invalid manifest is a banner on the open page naming the commit, the
  first error's file:line:col and the last good commit, gone after a fix commit;
- `berth suspend customer` shows a badge with status's sentence, gone after `berth resume`;
- a rollout of shop/booking:broken, rolled back, is a held-back banner in status's words
  while booking's row shows what serves: its old image, Healthy.
Screenshots (1280x800) go to .build/browser/ (the overview, with a banner, with a held-back
rollout, logged in, at 1,000 services; a service page). Every wait is bounded; the watch, its proxy,
the containers, the network and the temporary folder are removed even when a test fails.

Run: /usr/bin/python3 Tests/Browser/test_ui.py  (Debian's chromium, chromium-driver and
python3-selenium; `scripts/setup.sh --test` installs them). A browser that cannot start is
a failure, never a skip.
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("BERTH_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
BERTH = os.path.join(BIN, "berth")
BENCH = os.path.join(BIN, "berth-bench")
ARTIFACTS = os.path.join(ROOT, ".build", "browser")
TOKEN = "browser-test-token-" + "%08x" % random.getrandbits(32)
HTML_MESSAGE = "<script>alert(1)</script> customer 1.1 <img src=x onerror=alert(2)>"


def log(text):
    print(text, file=sys.stderr, flush=True)


def run(args, cwd=None, check=True, timeout=60):
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout.strip()


def eventually(what, seconds, condition, interval=0.1):
    """Polls `condition` until it returns something truthy or `seconds` pass (then fails)."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as e:  # a page between two states; the deadline decides
            last = e
        time.sleep(interval)
    raise AssertionError("not within %ss: %s%s" % (seconds, what, " (last error: %r)" % last if last else ""))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, data=None, headers=None, timeout=10):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Watch:
    """A git repository of the shop's manifests and a `berth watch` on it; `stop` removes
    everything it made."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="berth-browser-")
        self.repo = os.path.join(self.tmp, "repo")
        self.state = os.path.join(self.tmp, "state")
        self.project = "bw%08x" % random.getrandbits(32)
        self.process = None
        self.port = None
        self.publish = free_port()
        os.makedirs(self.state)
        shutil.copytree(os.path.join(ROOT, "manifests"), os.path.join(self.repo, "manifests"))
        gateway = os.path.join(self.repo, "manifests", "gateway.yaml")
        with open(gateway) as f:
            text = f.read()
        with open(gateway, "w") as f:
            f.write(text.replace("publish: 8080", "publish: %d" % self.publish))
        run(["git", "init", "-q", "-b", "main"], cwd=self.repo)
        self.commit("The shop: customer, booking and gateway")

    def commit(self, message):
        run(["git", "add", "-A"], cwd=self.repo)
        run(["git", "-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", "commit", "-q", "-m", message],
            cwd=self.repo)
        return run(["git", "rev-parse", "HEAD"], cwd=self.repo)

    def edit(self, name, old, new):
        path = os.path.join(self.repo, "manifests", name)
        with open(path) as f:
            text = f.read()
        assert old in text, "%s has no %r" % (name, old)
        with open(path, "w") as f:
            f.write(text.replace(old, new, 1))

    @property
    def log_path(self):
        return os.path.join(self.tmp, "watch.log")

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def start(self):
        env = dict(os.environ, BERTH_API_TOKEN=TOKEN)
        with open(self.log_path, "w") as out:
            self.process = subprocess.Popen(
                [BERTH, "watch", "--repo", self.repo, "--project", self.project, "--interval", "10m",
                 "--state-dir", self.state, "--listen", "127.0.0.1:0", "--proxy-bind", "127.0.0.1"],
                stdout=subprocess.DEVNULL, stderr=out, env=env, start_new_session=True)

        def listening():
            m = re.search(r'msg="API listening".*http\.address=127\.0\.0\.1:(\d+)', self.log())
            if self.process.poll() is not None:
                raise AssertionError("berth watch exited (%s); its log:\n%s" % (self.process.returncode, self.log()))
            return m and int(m.group(1))
        self.port = eventually("berth watch listens", 30, listening)

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def status(self):
        code, body = http("GET", self.base + "/api/v1/status")
        assert code == 200, body
        return json.loads(body)

    def healthy(self, replicas=None):
        services = self.status()["services"]
        want = replicas or {"booking": 2, "customer": 2, "gateway": 2}
        return (sorted(s["name"] for s in services) == sorted(want)
                and all(s["health"] == "Healthy" and s["sync"] == "Synced" and s["readyReplicas"] == want[s["name"]]
                        for s in services))

    def containers(self, service=None):
        args = ["docker", "ps", "-q", "--no-trunc", "--filter", "label=berth.project=" + self.project,
                "--filter", "status=running"]
        if service:
            args += ["--filter", "label=berth.service=" + service]
        return sorted(run(args).split())

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # The proxy that watch started outlives it on purpose: stop it by its pid.
        state_file = os.path.join(self.state, "proxy-%s.json" % self.project)
        try:
            with open(state_file) as f:
                pid = json.load(f)["pid"]
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, KeyError):
            pass
        ids = run(["docker", "ps", "-aq", "--filter", "label=berth.project=" + self.project], check=False).split()
        if ids:
            run(["docker", "rm", "-f"] + ids, check=False)
        run(["docker", "network", "rm", "berth-" + self.project], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)


def chromium():
    """Headless Chromium through Debian's chromedriver; raises when it cannot start."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,800", "--hide-scrollbars", "--force-device-scale-factor=1"]:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    # --window-size sets the window; make the viewport itself 1280x800.
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    outer = driver.get_window_size()
    driver.set_window_size(outer["width"] + 1280 - inner[0], outer["height"] + 800 - inner[1])
    return driver


def rows(driver):
    """The overview's rows: name, image, revision, replicas, autoscale, sync, health, last change."""
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('table.services tbody tr')).map(function (tr) {
            return Array.from(tr.cells).map(function (td) { return td.textContent; });
        });""")


def no_horizontal_overflow(driver):
    return driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth && document.body.scrollWidth <= window.innerWidth")


def read_line(process, seconds):
    """The first line `process` prints, within `seconds` (else the test fails)."""
    import select
    ready, _, _ = select.select([process.stdout], [], [], seconds)
    if not ready:
        raise AssertionError("%s printed nothing within %ss" % (" ".join(process.args), seconds))
    return process.stdout.readline()


def click(driver, selector):
    """Clicks `selector`, finding it again if a live update replaced it in between."""
    def clicked():
        driver.find_element("css selector", selector).click()
        return True
    eventually("click " + selector, 10, clicked)


def mark_page(driver):
    """A marker that a reload would wipe: the page must keep it while it updates itself."""
    driver.execute_script("window.__berthNoReload = 'kept';")


def page_kept(driver):
    return driver.execute_script("return window.__berthNoReload") == "kept"


class WebUITests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(ARTIFACTS, exist_ok=True)
        for path in (BERTH, BENCH):
            if not os.access(path, os.X_OK):
                raise AssertionError("%s is not built: run `swift build --build-tests` first" % path)
        cls.watch = Watch()
        cls.addClassCleanup(cls.watch.stop)
        cls.driver = chromium()
        cls.addClassCleanup(cls.driver.quit)
        cls.watch.start()
        eventually("the shop runs Synced and Healthy; watch log:\n" + cls.watch.log(), 120, cls.watch.healthy, 0.5)

    def test_1_overview_shows_the_shop_with_the_right_badges(self):
        d = self.driver
        d.get(self.watch.base + "/")
        eventually("the live indicator says live", 10, lambda: d.find_element("id", "live").text == "live")
        status = {s["name"]: s for s in self.watch.status()["services"]}
        got = rows(d)
        self.assertEqual([r[0] for r in got], ["booking", "customer", "gateway"])
        for r in got:
            self.assertEqual(r[1], status[r[0]]["image"])
            self.assertEqual(r[2], status[r[0]]["revision"])
            self.assertEqual(r[3], "2/2")
            self.assertEqual(r[5], "Synced")
            self.assertEqual(r[6], "Healthy")
            self.assertTrue(r[7].startswith("create "), r)
        badge = d.execute_script("""
            var b = document.querySelector('table.services tbody tr td:nth-child(7) b');
            return getComputedStyle(b).backgroundColor;""")
        self.assertEqual(badge, "rgb(220, 245, 227)", "Healthy is a green badge")
        self.assertIn("The shop: customer, booking and gateway", d.find_element("css selector", ".summary").text)
        self.assertTrue(no_horizontal_overflow(d))
        d.save_screenshot(os.path.join(ARTIFACTS, "overview.png"))

    def test_2_a_killed_replica_is_healed_on_the_open_page_without_a_reload(self):
        d = self.driver
        d.get(self.watch.base + "/services/customer")
        eventually("live", 10, lambda: d.find_element("id", "live").text == "live")
        mark_page(d)
        # One script reads every id at once: live updates replace the table, so element
        # references taken one by one may go stale between two reads.
        shown = lambda: sorted(d.execute_script("""
            return Array.from(document.querySelectorAll('table.instances td:first-child code'))
                .map(function (c) { return c.getAttribute('title'); });"""))
        before = shown()
        self.assertEqual(before, self.watch.containers("customer"))
        victim = before[0]
        killed = time.monotonic()
        run(["docker", "kill", victim])
        # Both the API and the page are watched from here: the page's own delay is the time
        # from the loop knowing the replacement (its status says so) to the page showing it.
        api_at = page_at = None
        replaced = lambda ids: victim not in ids and len(ids) == 2
        deadline = killed + 20
        while (api_at is None or page_at is None) and time.monotonic() < deadline:
            if api_at is None:
                customer = [s for s in self.watch.status()["services"] if s["name"] == "customer"][0]
                if replaced([i["id"] for i in customer["instances"] if i["state"] == "running"]):
                    api_at = time.monotonic()
            if page_at is None and replaced(shown()):
                page_at = time.monotonic()
            time.sleep(0.02)
        self.assertIsNotNone(page_at, "the page did not show the replacement within 20 s")
        self.assertIsNotNone(api_at, "the API did not show the replacement within 20 s")
        self.assertTrue(page_kept(d), "the page was reloaded")
        self.assertEqual(shown(), self.watch.containers("customer"))
        eventually("the heal is a recent event", 10,
                   lambda: "heal" in d.find_element("css selector", "table.events tbody tr:first-child").text)
        lag = max(0.0, page_at - api_at)
        log("docker kill -> replacement in the API %.2f s, on the open page %.2f s (the page's own delay %.2f s)"
            % (api_at - killed, page_at - killed, lag))
        self.assertLess(lag, 1.5, "the open page showed the heal %.2f s after the loop knew it" % lag)
        d.save_screenshot(os.path.join(ARTIFACTS, "service.png"))

    def test_3_a_commit_shows_its_new_revision_and_its_html_message_as_text(self):
        d = self.driver
        d.get(self.watch.base + "/")
        eventually("live", 10, lambda: d.find_element("id", "live").text == "live")
        mark_page(d)
        old = {r[0]: r[2] for r in rows(d)}
        self.watch.edit("customer.yaml", "image: shop/customer:1.0", "image: shop/customer:1.1")
        commit = self.watch.commit(HTML_MESSAGE)
        # watch fetches every 10 minutes: ask it now, from outside the browser.
        code, body = http("POST", self.watch.base + "/api/v1/sync", headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(code, 202, body)
        new = eventually("the overview shows customer's new revision", 120,
                         lambda: (lambda r: r if r["customer"] != old["customer"] else None)({x[0]: x[2] for x in rows(d)}), 0.2)
        self.assertTrue(page_kept(d), "the page was reloaded")
        self.assertEqual(new["booking"], old["booking"])
        status = {s["name"]: s for s in self.watch.status()["services"]}
        self.assertEqual(new["customer"], status["customer"]["revision"])
        eventually("customer 1.1 Synced and Healthy", 120,
                   lambda: [r for r in rows(d) if r[0] == "customer" and r[1] == "shop/customer:1.1" and r[5] == "Synced" and r[6] == "Healthy"], 0.2)
        # The message shows as text, everywhere it appears.
        summary = eventually("the summary names the new commit", 20,
                             lambda: (lambda t: t if commit[:7] in t else None)(d.find_element("css selector", ".summary").text))
        self.assertIn(HTML_MESSAGE, summary)
        self.assertEqual(d.execute_script("return document.querySelectorAll('script').length"), 1)
        self.assertEqual(d.execute_script("return document.querySelectorAll('main img').length"), 0)
        d.get(self.watch.base + "/services/customer")
        history = d.find_element("css selector", "pre.history").text
        self.assertIn("    " + HTML_MESSAGE, history)
        self.assertIn("spec.image: shop/customer:1.0 → shop/customer:1.1", history)
        from selenium.common.exceptions import NoAlertPresentException
        with self.assertRaises(NoAlertPresentException):
            d.switch_to.alert.text

    def test_4_sync_now_is_refused_without_a_session_and_works_after_log_in(self):
        d = self.driver
        d.delete_all_cookies()
        d.get(self.watch.base + "/")
        self.watch.edit("booking.yaml", "replicas: 2", "replicas: 3")
        self.watch.commit("booking: 3 replicas")
        # No session: the page offers a log-in, and a post is refused.
        self.assertEqual(d.find_element("css selector", ".actions a.btn").text, "Log in to sync")
        refused = d.execute_async_script("""
            var done = arguments[arguments.length - 1];
            fetch('/sync', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'csrf=x&back=%2F'})
              .then(function (r) { done(r.status); });""")
        self.assertEqual(refused, 403)
        time.sleep(2)
        self.assertEqual({s["name"]: s["desiredReplicas"] for s in self.watch.status()["services"]}["booking"], 2,
                         "nothing fetched the new commit")

        # A wrong token, then the right one.
        click(d, ".actions a.btn")
        eventually("the log-in form", 10, lambda: d.find_elements("id", "token"))
        d.find_element("id", "token").send_keys("not-the-token")
        click(d, "form.login button")
        eventually("the wrong token is refused", 10,
                   lambda: "That token does not match BERTH_API_TOKEN." in d.find_element("css selector", "main").text)
        d.find_element("id", "token").send_keys(TOKEN)
        click(d, "form.login button")
        eventually("logged in", 10, lambda: "Logged in" in d.find_element("id", "notice").text)
        cookies = [c for c in d.get_cookies() if c["name"].startswith("berth_session_")]
        self.assertEqual(len(cookies), 1)
        self.assertTrue(cookies[0]["httpOnly"])
        self.assertEqual(cookies[0]["sameSite"], "Strict")
        self.assertEqual(cookies[0]["path"], "/")
        self.assertNotIn("berth_session_", d.execute_script("return document.cookie"))

        # Sync now: the new commit is fetched and applied; the page follows.
        click(d, ".actions button.primary")
        eventually("sync requested", 10, lambda: "Sync requested" in d.find_element("id", "notice").text)
        eventually("live", 10, lambda: d.find_element("id", "live").text == "live")
        mark_page(d)
        eventually("booking shows 3/3 Synced Healthy", 120,
                   lambda: [r for r in rows(d) if r[0] == "booking" and r[3] == "3/3" and r[5] == "Synced" and r[6] == "Healthy"], 0.2)
        self.assertTrue(page_kept(d))
        self.assertEqual(len(self.watch.containers("booking")), 3)
        d.save_screenshot(os.path.join(ARTIFACTS, "overview-logged-in.png"))

    def sync_now(self):
        code, body = http("POST", self.watch.base + "/api/v1/sync", headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(code, 202, body)

    def banners(self, kind):
        return self.driver.execute_script("""
            return Array.from(document.querySelectorAll('section.attention .banner[data-kind="' + arguments[0] + '"]'))
                .map(function (b) { return b.textContent; });""", kind)

    def test_6_an_invalid_commit_is_a_banner_until_a_fix_is_committed(self):
        d = self.driver
        d.get(self.watch.base + "/")
        eventually("live", 10, lambda: d.find_element("id", "live").text == "live")
        mark_page(d)
        good = self.watch.status()["watch"]["lastAppliedCommit"]
        path = os.path.join(self.watch.repo, "manifests", "customer.yaml")
        with open(path) as f:
            lines = f.read().split("\n")
        line = next(i for i, text in enumerate(lines) if text.startswith("  replicas: ")) + 1
        self.watch.edit("customer.yaml", "  replicas: 2", "  replicas: two")
        bad = self.watch.commit("customer: <b>two</b> replicas")
        self.sync_now()
        shown = eventually("the invalid-commit banner, without a reload", 30, lambda: self.banners("invalidCommit"), 0.1)
        self.assertTrue(page_kept(d), "the page was reloaded")
        self.assertEqual(shown, [
            "commit %s has 1 manifest error: held back until a commit fixes them; running %s, the last good commit"
            "manifests/customer.yaml:%d:13: error: spec.replicas: expected an integer, found \"two\"" % (bad[:7], good[:7], line)])
        # The last good state keeps serving: customer stays Synced and Healthy.
        customer = [r for r in rows(d) if r[0] == "customer"][0]
        self.assertEqual((customer[3], customer[5], customer[6]), ("2/2", "Synced", "Healthy"))
        d.save_screenshot(os.path.join(ARTIFACTS, "overview-banner.png"))

        self.watch.edit("customer.yaml", "  replicas: two", "  replicas: 2")
        self.watch.commit("customer: 2 replicas again")
        self.sync_now()
        eventually("the banner is gone", 30, lambda: not self.banners("invalidCommit"), 0.1)
        self.assertTrue(page_kept(d), "the page was reloaded")

    def test_7_a_suspended_service_shows_a_badge_until_it_is_resumed(self):
        d = self.driver
        d.get(self.watch.base + "/")
        eventually("live", 10, lambda: d.find_element("id", "live").text == "live")
        mark_page(d)
        args = ["--repo", self.watch.repo, "--project", self.watch.project, "--state-dir", self.watch.state]
        run([BERTH, "suspend", "customer"] + args)
        health = lambda: [r[6] for r in rows(d) if r[0] == "customer"][0]
        shown = eventually("customer's suspended badge", 10, lambda: (lambda h: h if "suspended" in h else None)(health()), 0.1)
        mark = [s for s in self.watch.status()["services"] if s["name"] == "customer"][0]["suspended"]
        self.assertEqual(shown, "Healthy suspended2 of 2 replicas ready; suspended by %s at %s: berth watch leaves it alone until berth resume"
                         % (mark["by"], mark["at"]))
        self.assertTrue(page_kept(d), "the page was reloaded")
        run([BERTH, "resume", "customer"] + args)
        eventually("the badge is gone", 10, lambda: health() == "Healthy", 0.1)

    def test_8_a_rolled_back_rollout_is_a_banner_while_the_service_serves(self):
        d = self.driver
        d.get(self.watch.base + "/")
        eventually("live", 10, lambda: d.find_element("id", "live").text == "live")
        mark_page(d)
        before = [r for r in rows(d) if r[0] == "booking"][0]
        self.watch.edit("booking.yaml", "image: shop/booking:1.0", "image: shop/booking:broken")
        commit = self.watch.commit("booking: the broken image")
        self.sync_now()
        shown = eventually("the held-back banner", 90, lambda: self.banners("heldBack"), 0.2)
        self.assertTrue(page_kept(d), "the page was reloaded")
        self.assertEqual(len(shown), 1)
        self.assertTrue(shown[0].startswith("booking: rollout of "), shown)
        self.assertIn(" (%s) failed at " % commit[:7], shown[0])
        self.assertTrue(shown[0].endswith("; held back until a newer commit"), shown)
        # booking serves what it was rolled back to: its old image and revision, Healthy, never Missing or Degraded.
        row = eventually("booking Healthy at its old revision", 30, lambda: [
            r for r in rows(d) if r[0] == "booking" and r[6].startswith("Healthy held back") and r[1] == "shop/booking:1.0"], 0.2)[0]
        self.assertEqual((row[2], row[3], row[5]), (before[2], before[3], "OutOfSync"))
        self.assertIn("; " + shown[0][len("booking: "):], row[6])
        self.assertEqual(len(self.watch.containers("booking")), int(before[3].split("/")[1]))
        d.save_screenshot(os.path.join(ARTIFACTS, "overview-held-back.png"))

    def test_5_a_thousand_services_and_long_names_do_not_overflow(self):
        d = self.driver
        for long in (False, True):
            server = subprocess.Popen([BENCH, "ui", "--serve"] + (["--long"] if long else []),
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            try:
                line = read_line(server, 120)
                base = re.search(r"serving (http://127\.0\.0\.1:\d+)/", line).group(1)
                d.get(base + "/")
                got = rows(d)
                self.assertEqual(len(got), 1000)
                lengths = sorted({len(r[0]) for r in got})
                if long:
                    self.assertEqual(lengths, [60])
                else:
                    self.assertTrue(lengths[0] >= 14 and lengths[-1] <= 23, lengths)
                self.assertTrue(no_horizontal_overflow(d), "the overview is wider than the window")
                # Every cell stays in its column: cut with an ellipsis, never spilling over.
                spill = d.execute_script("""
                    var bad = [];
                    document.querySelectorAll('table.services tr').forEach(function (tr) {
                      Array.from(tr.cells).forEach(function (td) {
                        var r = td.getBoundingClientRect();
                        Array.from(td.children).forEach(function (c) {
                          var q = c.getBoundingClientRect();
                          if (getComputedStyle(td).overflow !== 'hidden' && q.right > r.right + 1) bad.push(td.textContent);
                        });
                      });
                    });
                    return bad.slice(0, 5);""")
                self.assertEqual(spill, [])
                size = len(d.page_source.encode())
                # What the browser received: the page gzip-compressed, well under 200 KB.
                wire, html = d.execute_script("""
                    var n = performance.getEntriesByType('navigation')[0];
                    return [n.encodedBodySize, n.decodedBodySize];""")
                self.assertGreater(html, wire * 5, "the page was not sent compressed (%d bytes received for %d)" % (wire, html))
                self.assertLess(wire, 200000)
                log("1,000 services%s: the overview is %d KB of HTML, %d KB received (gzip); its DOM %d KB"
                    % (" with 60-character names" if long else "", html // 1000, wire // 1000, size // 1000))
                suffix = "-long" if long else ""
                d.save_screenshot(os.path.join(ARTIFACTS, "overview-1000%s.png" % suffix))
                attention = d.find_elements("css selector", "section.attention .banner")
                self.assertGreater(len(attention), 0, "the degraded services are listed")
                name = got[7][0]
                d.get(base + "/services/" + name)
                self.assertEqual(d.find_element("css selector", "h1.name").text.split()[0], name)
                self.assertTrue(no_horizontal_overflow(d), "the service page is wider than the window")
                d.save_screenshot(os.path.join(ARTIFACTS, "service-1000%s.png" % suffix))
            finally:
                server.stdin.close()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(timeout=10)


class Result(unittest.TextTestResult):
    pass


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(WebUITests)
    result = unittest.TextTestRunner(verbosity=2, resultclass=Result).run(suite)
    failed = len(result.failures) + len(result.errors)
    if result.testsRun == 0:
        failed = max(failed, 1)
    print("%d passed, %d failed" % (result.testsRun - len(result.failures) - len(result.errors), failed))
    sys.exit(1 if failed or not result.wasSuccessful() else 0)
