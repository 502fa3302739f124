"""The notebooks as a user sees them: JupyterLab in a real (headless) Chromium.

    python tests/browser/lab.py [--only open|run-all|progress|report|own-ablation] [--keep]

Run by `make test` (target test-browser) with the project venv's Python. It

1. starts JupyterLab from the venv on a free local port with a token, its own
   settings and workspaces, and `--NotebookNotary.db_file=:memory:` so that no
   local signature makes a notebook trusted: every notebook is opened as a fresh
   clone is, untrusted;
2. opens every committed notebook in Chromium (Debian's `chromium` through its
   `chromium-driver`, both by explicit path: nothing is downloaded) and checks
   that the kernel "Rust (convlab)" starts, that every stored figure output
   shows as a rendered image, and that no cell shows an error or stderr output;
3. on a copy of one section notebook under the smoke profile, clicks Run All,
   waits until every cell has run, and checks the fresh figures and outputs;
4. on a small notebook that trains one quick-profile run, checks that epoch
   lines appear while the cell still shows `[*]`, interrupts the kernel
   (Kernel → Interrupt), re-runs the setup and training cells, and checks that
   the run resumed from a finished epoch (recorded in its summary.json);
5. opens the committed write-up, `figures/quick/writeup.md`, in JupyterLab's
   Markdown viewer (the default viewer for Markdown in this lab's settings) and
   checks that every section's heading is there and every figure it links loads;
6. in a notebook that opens the study, types the notebook cell of
   `docs/extending/ablations.md` ("Add your own ablation": a new section, weight decay
   5e-4 against xknet18) into an empty cell, runs it under the smoke profile,
   and checks that its effects figure renders and that its runs were trained.

Each kernel is shut down after its notebook (a live kernel holds a build slot).
Screenshots of every notebook go to the scratch directory, named in failures.
Runs and figures of steps 3, 4 and 6 go to the scratch directory, never to runs/.
"""
import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
KERNEL_NAME = "convlab"
KERNEL_DISPLAY = "Rust (convlab)"
# The first cell of a notebook in a fresh build slot compiles libtorch's bindings,
# polars and plotters (~7 min on a 2-core machine, docs/guide/notebooks.md); later ones take seconds.
FIRST_BUILD_TIMEOUT = 1800
EPOCH_LINE = re.compile(r"^(\S+) seed (\d+)  epoch +(\d+)/(\d+)  train .* img/s .*eta \S+$", re.M)

# Everything about a notebook's cells, read from the DOM in one call.
CELLS_JS = """
const panel = [...document.querySelectorAll('.jp-NotebookPanel')].find(p => !p.classList.contains('lm-mod-hidden'));
if (!panel) return null;
return [...panel.querySelectorAll('.jp-Notebook .jp-Cell')].map(cell => ({
  kind: cell.classList.contains('jp-CodeCell') ? 'code' : 'markdown',
  prompt: (cell.querySelector('.jp-InputArea .jp-InputPrompt') || {}).textContent || '',
  text: (cell.querySelector('.jp-OutputArea') || {}).innerText || '',
  mimes: [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => o.getAttribute('data-mime-type') || ''),
  images: [...cell.querySelectorAll('.jp-OutputArea-output img')].map(i => ({
    mime: i.closest('.jp-OutputArea-output').getAttribute('data-mime-type'),
    loaded: i.complete && i.naturalWidth > 0, width: i.naturalWidth, height: i.naturalHeight})),
}));
"""


class Failure(Exception):
    pass


def log(msg):
    print(f"[browser] {msg}", flush=True)


def wait_for(what, check, timeout, interval=0.25):
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` s."""
    t0 = time.time()
    while True:
        value = check()
        if value:
            return value
        if time.time() - t0 > timeout:
            raise Failure(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server from this venv, for the duration of the test."""

    def __init__(self, scratch, env):
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        settings = os.path.join(scratch, "lab-settings")
        # Every cell attached to the DOM (JupyterLab 4 otherwise defers cells out of view),
        # and no requests to the internet for news or updates.
        overrides = {
            "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
            "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
            # A Markdown file opens rendered, as a reader opens the write-up.
            "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"defaultViewers": {"markdown": "Markdown Preview"}},
        }
        for name, value in overrides.items():
            path = os.path.join(settings, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                json.dump(value, f)
        jupyter = os.path.join(os.path.dirname(sys.executable), "jupyter")
        cmd = [
            jupyter, "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={self.port}",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={ROOT}",
            "--NotebookNotary.db_file=:memory:", f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={os.path.join(scratch, 'lab-workspaces')}",
        ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log_path = os.path.join(scratch, "jupyterlab.log")
        self.proc = subprocess.Popen(cmd, env=env, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(f"JupyterLab on port {self.port} (log: {self.log_path})", self._up, 120, 0.5)

    def _up(self):
        if self.proc.poll() is not None:
            raise Failure(f"JupyterLab exited with {self.proc.returncode}; log: {self.log_path}")
        try:
            return self.api("GET", "/api/status") is not None
        except (urllib.error.URLError, ConnectionError):
            return False

    def api(self, method, path):
        req = urllib.request.Request(self.base + path, method=method, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else {}

    def session(self, path):
        return next((s for s in self.api("GET", "/api/sessions") if s["path"] == path), None)

    def shutdown_kernels(self):
        for s in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{s['id']}")
        wait_for("every kernel to shut down", lambda: not self.api("GET", "/api/kernels"), 60)

    def stop(self):
        try:
            self.shutdown_kernels()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def chromium():
    # Local browser and driver only: Selenium Manager must not download anything.
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            raise Failure(f"{path} is missing: `make setup` installs Debian's chromium and chromium-driver")
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        opts.add_argument(arg)
    return webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))


class Browser:
    def __init__(self, lab, shots):
        self.lab, self.shots = lab, shots
        self.driver = chromium()
        self.driver.get(f"{lab.base}/lab?token={lab.token}")  # sets the login cookie

    def quit(self):
        self.driver.quit()

    def cells(self):
        return self.driver.execute_script(CELLS_JS)

    def screenshot(self, name):
        path = os.path.join(self.shots, f"{name}.png")
        self.driver.save_screenshot(path)
        return path

    def open(self, relpath, n_cells):
        """Open a notebook alone in a reset workspace; wait for its cells and its kernel."""
        from selenium.webdriver.common.by import By

        self.driver.get(f"{self.lab.base}/lab/tree/{relpath}?reset")
        wait_for(f"{relpath}: {n_cells} cells in the page", lambda: (c := self.cells()) is not None and len(c) == n_cells, 120)

        def kernel_idle():
            s = self.lab.session(relpath)
            return s and s["kernel"] and s["kernel"]["execution_state"] == "idle" and s
        session = wait_for(f"{relpath}: its kernel to start", kernel_idle, 120)
        if session["kernel"]["name"] != KERNEL_NAME:
            raise Failure(f"{relpath}: kernel `{session['kernel']['name']}` started, expected `{KERNEL_NAME}`")
        shown = wait_for(
            f"{relpath}: the toolbar to name the kernel",
            lambda: [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-KernelName, .jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-kernelName") if e.text.strip()],
            60,
        )
        if KERNEL_DISPLAY not in shown:
            raise Failure(f"{relpath}: the toolbar names the kernel {shown}, expected {KERNEL_DISPLAY!r}")

    def scroll_to(self, index):
        self.driver.execute_script(
            "const p=[...document.querySelectorAll('.jp-NotebookPanel')].find(p=>!p.classList.contains('lm-mod-hidden'));"
            "p.querySelectorAll('.jp-Notebook .jp-Cell')[arguments[0]].scrollIntoView({block:'center'});",
            index,
        )

    def check_figures(self, name, figure_cells, shot):
        """Every cell in `figure_cells` shows a loaded image; returns the DOM's cell list."""
        for i in figure_cells:
            self.scroll_to(i)

            def shown():
                c = self.cells()[i]
                return c if any(img["loaded"] for img in c["images"]) else None
            try:
                wait_for(f"{name}: cell {i}'s figure to render", shown, 20)
            except Failure as e:
                c = self.cells()[i]
                raise Failure(f"{e}; outputs {c['mimes']}, images {c['images']}; screenshot {self.screenshot(shot + '-missing-figure')}") from None
        return self.cells()

    def check_no_errors(self, name, cells, shot):
        for i, c in enumerate(cells):
            bad = [m for m in c["mimes"] if m in ("application/vnd.jupyter.stderr", "application/vnd.jupyter.error")]
            if bad:
                raise Failure(f"{name}: cell {i} shows an error/stderr output: {c['text'][:1500]!r}; screenshot {self.screenshot(shot + '-error')}")

    def click_command(self, command):
        """Click a menu or toolbar entry by its JupyterLab command id, as a user clicks it."""
        from selenium.webdriver.common.by import By

        menus = {"runmenu:run-all": "Run", "kernelmenu:interrupt": "Kernel"}
        if command in menus:
            bar = self.driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item")
            item = next((b for b in bar if b.text.strip() == menus[command]), None)
            if item is None:
                raise Failure(f"no `{menus[command]}` menu in the menu bar")
            item.click()
            entry = wait_for(f"menu entry {command}", lambda: self.driver.find_elements(By.CSS_SELECTOR, f'.lm-Menu-item[data-command="{command}"]'), 10)
            entry[0].click()
        else:
            button = wait_for(f"toolbar button {command}", lambda: self.driver.find_elements(By.CSS_SELECTOR, f'.jp-NotebookPanel:not(.lm-mod-hidden) [data-command="{command}"]'), 10)
            button[0].click()

    def run_cell(self, index):
        """Select a cell by clicking its prompt, then Shift+Enter."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        self.scroll_to(index)
        panel = self.driver.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden)")
        cell = panel.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")[index]
        cell.find_element(By.CSS_SELECTOR, ".jp-InputPrompt").click()
        ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()

    def wait_ran(self, name, indices, timeout):
        """Until each cell in `indices` shows an execution number `[n]:`."""
        def done():
            cells = self.cells()
            return all(re.fullmatch(r"\[\d+\]:", cells[i]["prompt"].strip()) for i in indices) and cells
        return wait_for(f"{name}: cells {list(indices)} to finish", done, timeout, 0.5)


def code_cells(nb):
    return [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


# The last line of a cell that shows a figure (`section.curves()`, `study.confusion(&last)?`, …).
FIGURE_SOURCE = re.compile(r"(curves|effects|confusion|per_class)\(.*\)\??\s*$")


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def figure_cells(nb):
    """Cells that store a figure, or whose last line shows one."""
    return [
        i for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (
            any(k.startswith("image/") for o in c.get("outputs", []) for k in o.get("data", {}))
            or FIGURE_SOURCE.search(source(c).strip().splitlines()[-1]))
    ]


def copy_notebook(src, dst_dir, name, dep_path):
    """A copy without outputs whose `:dep convlab` points at this checkout from anywhere."""
    nb = json.load(open(src))
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            c["outputs"], c["execution_count"] = [], None
            c["source"] = source(c).replace(':dep convlab = { path = "..", default-features = false }', f':dep convlab = {{ path = "{dep_path}", default-features = false }}')
    path = os.path.join(dst_dir, name)
    with open(path, "w") as f:
        json.dump(nb, f, indent=1)
    return path


def test_open_every_notebook(browser, lab):
    notebooks = sorted(f for f in os.listdir(os.path.join(ROOT, "notebooks")) if f.endswith(".ipynb"))
    if not notebooks:
        raise Failure("no notebooks under notebooks/")
    for f in notebooks:
        rel = f"notebooks/{f}"
        nb = json.load(open(os.path.join(ROOT, rel)))
        stored_errors = [i for i, c in enumerate(nb["cells"]) for o in c.get("outputs", []) if o.get("output_type") == "error"]
        if stored_errors:
            raise Failure(f"{rel}: error outputs stored in cells {stored_errors}")
        figures = figure_cells(nb)
        shot = f"open-{f[:-6]}"
        browser.open(rel, len(nb["cells"]))
        cells = browser.check_figures(rel, figures, shot)
        browser.check_no_errors(rel, cells, shot)
        if figures:
            browser.scroll_to(figures[0])
        log(f"{rel}: kernel {KERNEL_DISPLAY} started, {len(figures)} figure(s) shown; screenshot {browser.screenshot(shot)}")
        lab.shutdown_kernels()


def test_run_all_smoke(browser, lab, work, rel_work):
    """Run All on a copy of a section notebook (the lab's kernels run the smoke profile)."""
    src = os.path.join(ROOT, "notebooks", "06_normalization.ipynb")
    committed = json.load(open(src))
    copy_notebook(src, work, "run-all.ipynb", ROOT)
    rel = f"{rel_work}/run-all.ipynb"
    browser.open(rel, len(committed["cells"]))
    t0 = time.time()
    browser.click_command("runmenu:run-all")
    code = code_cells(committed)

    def finished():
        cells = browser.cells()
        busy = any(cells[i]["prompt"].strip() == "[*]:" for i in code)
        idle = lab.session(rel)["kernel"]["execution_state"] == "idle"
        return not busy and idle and cells
    cells = wait_for(f"{rel}: Run All to finish", finished, FIRST_BUILD_TIMEOUT, 1.0)
    shot = "run-all-smoke"
    browser.check_no_errors(rel, cells, shot)
    unrun = [i for i in code if not re.fullmatch(r"\[\d+\]:", cells[i]["prompt"].strip())]
    if unrun:
        raise Failure(f"{rel}: cells {unrun} did not run (prompts {[cells[i]['prompt'] for i in unrun]}); screenshot {browser.screenshot(shot)}")
    cells = browser.check_figures(rel, figure_cells(committed), shot)
    describe = cells[code[1]]["text"]
    if "profile smoke" not in describe:
        raise Failure(f"{rel}: the kernel did not run the smoke profile: {describe[:300]!r}")
    log(f"{rel}: Run All under the smoke profile in {time.time() - t0:.0f} s, {len(figure_cells(committed))} fresh figures; screenshot {browser.screenshot(shot)}")
    lab.shutdown_kernels()


def write_notebook(path, sources):
    """A notebook of code cells with these sources, for the convlab kernel."""
    nb = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": s} for i, s in enumerate(sources)],
        "metadata": {"kernelspec": {"display_name": KERNEL_DISPLAY, "language": "rust", "name": KERNEL_NAME}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    with open(path, "w") as f:
        json.dump(nb, f, indent=1)


PROGRESS_NOTEBOOK = [
    ":dep convlab = {{ path = \"{root}\", default-features = false }}",
    "use convlab::prelude::*;\n"
    "let settings = Settings::from_env()?;\n"
    "let settings = Settings {{ profile: convlab::settings::ProfileName::Quick, epochs: Some({epochs}), seeds: Some(vec![{seed}]), ..settings }};\n"
    "let study = Study::open(&settings)?;",
    "let one = study.run_variant(\"xknet18\")?;\none.seed_curves()",
]


def test_progress_and_interrupt(browser, lab, work, rel_work, runs):
    """Epoch lines while the cell runs; Kernel → Interrupt; re-run resumes from a finished epoch."""
    epochs, seed = 6, 7
    write_notebook(os.path.join(work, "progress.ipynb"), [s.format(root=ROOT, epochs=epochs, seed=seed) for s in PROGRESS_NOTEBOOK])
    rel = f"{rel_work}/progress.ipynb"
    run_dir = os.path.join(runs, "quick", "xknet18", f"seed-{seed}")
    shot = "progress"
    browser.open(rel, 3)
    browser.run_cell(0)
    browser.wait_ran(rel, [0], FIRST_BUILD_TIMEOUT)
    browser.run_cell(1)
    browser.wait_ran(rel, [1], 300)
    browser.check_no_errors(rel, browser.cells(), shot)

    # While the training cell runs ([*]), its epoch lines appear one by one.
    browser.run_cell(2)

    def two_lines_while_running():
        c = browser.cells()[2]
        lines = EPOCH_LINE.findall(c["text"])
        if c["prompt"].strip() != "[*]:":
            if len(lines) < 2:
                raise Failure(f"{rel}: the training cell finished before two epoch lines were seen while it ran: {c['text'][-1500:]!r}")
            return None
        return c if len(lines) >= 2 else None
    seen = wait_for(f"{rel}: two epoch lines while the cell shows [*]", two_lines_while_running, 300, 0.2)
    lines = EPOCH_LINE.findall(seen["text"])
    if [(n, int(s), int(k), int(e)) for n, s, k, e in lines[:2]] != [("xknet18", seed, 1, epochs), ("xknet18", seed, 2, epochs)]:
        raise Failure(f"{rel}: unexpected epoch lines {lines}")
    log(f"{rel}: {len(lines)} epoch lines visible while the cell shows [*]; screenshot {browser.screenshot(shot + '-running')}")

    # Kernel → Interrupt: evcxr kills the process running the cell.
    browser.click_command("kernelmenu:interrupt")
    wait_for(f"{rel}: the interrupted cell to stop", lambda: browser.cells()[2]["prompt"].strip() != "[*]:", 60)
    if os.path.exists(os.path.join(run_dir, "summary.json")):
        raise Failure(f"{rel}: the run finished before the interrupt reached it; raise `epochs`")
    if not os.path.exists(os.path.join(run_dir, "last.safetensors")):
        raise Failure(f"{rel}: no checkpoint in {run_dir} after two finished epochs")
    log(f"{rel}: interrupted; screenshot {browser.screenshot(shot + '-interrupted')}")

    # Re-run the setup cell and the same training cell: the run resumes, it does not restart.
    browser.run_cell(1)
    browser.wait_ran(rel, [1], 300)
    browser.run_cell(2)
    cells = browser.wait_ran(rel, [2], 600)
    text = cells[2]["text"]
    m = re.search(r"resuming \S+ after epoch (\d+)/(\d+)", text)
    if not m or int(m.group(1)) < 1:
        raise Failure(f"{rel}: the re-run did not resume from a finished epoch: {text[:1500]!r}")
    browser.check_no_errors(rel, cells, shot)
    browser.check_figures(rel, [2], shot)
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    if summary.get("resumed_at") != [int(m.group(1))]:
        raise Failure(f"{run_dir}/summary.json: resumed_at = {summary.get('resumed_at')}, the cell said it resumed after epoch {m.group(1)}")
    history = open(os.path.join(run_dir, "history.csv")).read().strip().splitlines()
    if len(history) != epochs + 1:
        raise Failure(f"{run_dir}/history.csv: {len(history) - 1} epochs, expected {epochs}")
    log(f"{rel}: resumed after epoch {m.group(1)}/{epochs} (summary.json resumed_at {summary['resumed_at']}); screenshot {browser.screenshot(shot + '-resumed')}")
    lab.shutdown_kernels()


REPORT_JS = """
const view = [...document.querySelectorAll('.jp-RenderedMarkdown')].find(v => v.offsetParent !== null);
if (!view) return null;
return {
  headings: [...view.querySelectorAll('h2')].map(h => h.textContent.replace(/¶$/, '').trim()),
  images: [...view.querySelectorAll('img')].map(i => ({src: i.getAttribute('src'), loaded: i.complete && i.naturalWidth > 0})),
  tables: view.querySelectorAll('table').length,
};
"""


def test_report_renders(browser, lab):
    rel = "figures/quick/writeup.md"
    path = os.path.join(ROOT, rel)
    if not os.path.exists(path):
        raise Failure(f"{rel} is not committed: run `convlab report`")
    text = open(path).read()
    want = [l[3:].strip() for l in text.splitlines() if l.startswith("## ")]
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    browser.driver.get(f"{lab.base}/lab/tree/{rel}?reset")

    def rendered():
        r = browser.driver.execute_script(REPORT_JS)
        return r if r and len(r["images"]) == len(links) and all(i["loaded"] for i in r["images"]) else None
    try:
        r = wait_for(f"{rel}: its {len(links)} figures to load in the Markdown viewer", rendered, 120, 0.5)
    except Failure as e:
        r = browser.driver.execute_script(REPORT_JS)
        missing = [i["src"] for i in (r or {}).get("images", []) if not i["loaded"]]
        raise Failure(f"{e}; not loaded: {missing[:5]}; screenshot {browser.screenshot('report-missing-figure')}") from None
    if r["headings"] != want:
        raise Failure(f"{rel}: the viewer shows the sections {r['headings']}, the file has {want}")
    if r["tables"] < 10:
        raise Failure(f"{rel}: {r['tables']} tables rendered, expected every section's and the summary's")
    log(f"{rel}: {len(r['headings'])} sections, {len(r['images'])} figures loaded, {r['tables']} tables in the Markdown viewer; screenshot {browser.screenshot('report')}")


def ablation_cell():
    """The notebook cell of docs/extending/ablations.md (the Rust block after `<!-- notebook cell -->`)."""
    text = open(os.path.join(ROOT, "docs", "extending", "ablations.md")).read()
    m = re.search(r"<!-- notebook cell -->\n```rust\n(.*?)```", text, re.S)
    if not m:
        raise Failure("docs/extending/ablations.md has no `<!-- notebook cell -->` Rust block")
    return m.group(1)


def test_own_ablation(browser, lab, work, rel_work, runs):
    """A user's own ablation, typed into a cell as the docs give it, run, its figure shown."""
    from selenium.webdriver.common.by import By

    cell = ablation_cell()
    sources = [
        f':dep convlab = {{ path = "{ROOT}", default-features = false }}',
        'use convlab::prelude::*;\nlet study = Study::from_env()?;\nprintln!("{}", study.describe());',
        "",
    ]
    write_notebook(os.path.join(work, "own-ablation.ipynb"), sources)
    rel = f"{rel_work}/own-ablation.ipynb"
    shot = "own-ablation"
    browser.open(rel, 3)
    browser.run_cell(0)
    browser.wait_ran(rel, [0], FIRST_BUILD_TIMEOUT)
    browser.run_cell(1)
    browser.wait_ran(rel, [1], 300)
    # Type the docs' cell into the empty one, line by line, as a user would.
    browser.scroll_to(2)
    panel = browser.driver.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden)")
    editor = panel.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")[2].find_element(By.CSS_SELECTOR, ".cm-content")
    editor.click()
    lines = [l.strip() for l in cell.strip().splitlines()]
    editor.send_keys("\n".join(lines))
    typed = browser.driver.execute_script("return arguments[0].innerText;", editor)
    squash = lambda s: re.sub(r"\s+", "", s)
    if squash(typed) != squash(cell):
        raise Failure(f"{rel}: the typed cell reads {typed!r}, not the docs' cell; screenshot {browser.screenshot(shot + '-typed')}")
    browser.run_cell(2)
    cells = browser.wait_ran(rel, [2], 900)
    browser.check_no_errors(rel, cells, shot)
    browser.check_figures(rel, [2], shot)
    trained = [d for d in ("wd-5e-4",) if os.path.exists(os.path.join(runs, "smoke", d, "seed-20211108", "summary.json"))]
    if not trained:
        raise Failure(f"{rel}: no finished run of wd-5e-4 under {runs}/smoke after the cell ran")
    log(f"{rel}: the docs' own-ablation cell typed, run under smoke, its effects figure shown; screenshot {browser.screenshot(shot)}")
    lab.shutdown_kernels()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["open", "run-all", "progress", "report", "own-ablation"], action="append", help="run only these parts (default: all)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory even when everything passes")
    args = ap.parse_args()
    parts = args.only or ["open", "run-all", "progress", "report", "own-ablation"]

    scratch = tempfile.mkdtemp(prefix="convlab-browser-")
    shots = os.path.join(scratch, "screenshots")
    os.makedirs(shots)
    # Copies the lab opens must sit under its root: in target/, which git ignores.
    work = tempfile.mkdtemp(prefix="browser-", dir=os.path.join(ROOT, "target"))
    rel_work = os.path.relpath(work, ROOT)
    runs = os.path.join(scratch, "runs")
    env = dict(os.environ, CONVLAB_PROFILE="smoke", CONVLAB_RUNS=runs, CONVLAB_FIGURES=os.path.join(scratch, "figures"))
    env.pop("CONVLAB_SEEDS", None)
    env.pop("CONVLAB_EPOCHS", None)
    log(f"scratch {scratch}")
    lab = browser = None
    ok = False
    try:
        lab = Lab(scratch, env)
        browser = Browser(lab, shots)
        if "open" in parts:
            test_open_every_notebook(browser, lab)
        if "run-all" in parts:
            test_run_all_smoke(browser, lab, work, rel_work)
        if "progress" in parts:
            test_progress_and_interrupt(browser, lab, work, rel_work, runs)
        if "report" in parts:
            test_report_renders(browser, lab)
        if "own-ablation" in parts:
            test_own_ablation(browser, lab, work, rel_work, runs)
        ok = True
    except Failure as e:
        shot = ""
        if browser:
            try:
                shot = f"; the page at the failure: {browser.screenshot('failure')}"
            except Exception:  # the browser itself may be what failed
                pass
        print(f"FAILED: {e}{shot}\n(screenshots and the JupyterLab log are in {scratch})", file=sys.stderr)
    finally:
        if browser:
            browser.quit()
        if lab:
            lab.stop()
        shutil.rmtree(work, ignore_errors=True)
        if ok and not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"browser: {'passed' if ok else 'failed'} ({', '.join(parts)})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
