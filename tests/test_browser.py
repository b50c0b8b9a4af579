"""The report in a real headless Chromium (Debian package ``chromium``), driven over the DevTools
protocol on a pipe at 1280 x 900: the answer (task, leaderboard, comparison figure) before any detail,
collapsed sections that a click expands, a collapsed page of at most 4 screens, no console error, no
request outside the file, every figure visible once expanded, hostile strings shown as text. Saves a
screenshot (``report.png`` in the test's folder, or $GENOMEDL_ARTIFACTS)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time

import numpy as np
import pytest

from genomedl import plotting
from genomedl.attribution import plots
from genomedl.tables import write_json
from helpers import HOSTILE, make_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-pipe",
]


class DevTools:
    """Chrome DevTools protocol over ``--remote-debugging-pipe`` (NUL-separated JSON messages)."""

    def __init__(self, profile):
        to_chrome, self._out = os.pipe()
        self._in, from_chrome = os.pipe()
        command = " ".join([CHROMIUM, *FLAGS, f"--user-data-dir={profile}"])
        self.proc = subprocess.Popen(
            ["bash", "-c", f"exec {command} 3<&{to_chrome} 4>&{from_chrome}"],
            pass_fds=(to_chrome, from_chrome),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome)
        os.close(from_chrome)
        self._buffer, self._next, self.events, self.session = b"", 0, [], None

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.time() > deadline:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, timeout: float = 60, **params) -> dict:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, event: str, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while not any(e.get("method") == event for e in self.events):
            self.events.append(self._read(deadline))

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._in)
        os.close(self._out)


def fake_interpretation(folder, ids):
    """An interpret folder as the interpret stage writes it (figures drawn by the real plotting code)."""
    rng = np.random.default_rng(0)
    ppm = rng.dirichlet(np.ones(4) * 0.3, 8).T
    motif = {
        "name": "exon_motif1",
        "ppm": ppm,
        "cwm": ppm - 0.25,
        "support": 9,
        "kind": "attribution",
        "class": "exon",
        "matches": [{"id": "MA0139.2", "name": f"CTCF {HOSTILE}", "p": 1e-6, "q": 1e-4}],
    }
    plotting.save(
        plots.attribution_logos([{"title": f"{ids[0]}: saliency", "contrib": rng.normal(0, 1, (4, 50))}]),
        folder / "attributions.png",
    )
    conv_filter = {**motif, "name": "filter3", "cwm": None, "kind": "filter", "class": ""}
    plotting.save(plots.motif_logos([motif]), folder / "motifs.png")
    plotting.save(plots.motif_logos([conv_filter]), folder / "filters.png")
    plotting.save(plots.attention_map(rng.random((12, 12)), "attention"), folder / "attention.png")
    np.savez(folder / "attributions.npz", ids=np.array(ids[:4]))
    write_json(
        {
            "model": "good",
            "arch": "cnn",
            "sequences": 4,
            "seed": 1,
            "methods": ["saliency"],
            "motifs_from": "saliency",
            "notes": [],
            "attention": True,
            "jaspar": {"release": "JASPAR2024", "collection": "CORE", "tax_groups": ["vertebrates"], "motifs": 879},
            "motifs": [
                {**motif, "ppm": ppm.tolist(), "cwm": (ppm - 0.25).tolist()},
                {**conv_filter, "ppm": ppm.tolist()},
            ],
        },
        folder / "interpretation.json",
    )


WIDTH, HEIGHT = 1280, 900
LAYOUT = """(() => {
    const top = e => e.getBoundingClientRect().top + window.scrollY;
    const details = Array.from(document.querySelectorAll("details"));
    return {task: top(document.getElementById("task")), board: top(document.querySelector("table.board")),
            boardBottom: document.querySelector("table.board").getBoundingClientRect().bottom + window.scrollY,
            figure: top(document.getElementById("comparison")), details: details.map(top),
            open: details.filter(d => d.open).length, height: document.documentElement.scrollHeight};
})()"""
SUMMARY = """(() => {
    const s = document.querySelector("details.model[id] > summary");
    s.scrollIntoView();
    const r = s.getBoundingClientRect();
    return {x: r.left + 10, y: r.top + r.height / 2, before: s.parentElement.getBoundingClientRect().height};
})()"""
STATE = """(() => {
    const opened = Array.from(document.querySelectorAll("details")).filter(d => !d.open).map(d => {
        const before = d.getBoundingClientRect().height;
        d.open = true;
        return d.getBoundingClientRect().height - before;
    });
    const images = Array.from(document.images).map(i => {
        const r = i.getBoundingClientRect(), s = getComputedStyle(i);
        return {alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight,
                shown: r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"};
    });
    return {opened, images, scripts: document.scripts.length, text: document.body.textContent,
            visible: document.body.innerText};
})()"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_report_in_headless_chromium(tmp_path):
    interpret_dir = tmp_path / "interpret" / "good"
    interpret_dir.mkdir(parents=True)
    fake_interpretation(interpret_dir, [f"w{i} desc {HOSTILE}" for i in range(40)])
    report = make_report(tmp_path, interpret_dirs=[interpret_dir])
    url = report.resolve().as_uri()
    browser = DevTools(tmp_path / "profile")

    def evaluate(expression):
        return browser.send("Runtime.evaluate", returnByValue=True, expression=expression)["result"]["value"]

    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        browser.session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable")
        browser.send(
            "Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False
        )
        browser.send("Page.navigate", url=url)
        browser.wait_for("Page.loadEventFired")
        layout = evaluate(LAYOUT)
        click = evaluate(SUMMARY)  # a real mouse click on the first model's summary line
        for kind in ("mousePressed", "mouseReleased"):
            browser.send("Input.dispatchMouseEvent", type=kind, x=click["x"], y=click["y"], button="left", clickCount=1)
        clicked = evaluate("document.querySelector('details.model[id]').getBoundingClientRect().height")
        state = evaluate(STATE)
        shot = browser.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
    finally:
        browser.close()
    screenshot = tmp_path / "report.png"
    screenshot.write_bytes(base64.b64decode(shot))
    if os.environ.get("GENOMEDL_ARTIFACTS"):
        shutil.copy(screenshot, os.environ["GENOMEDL_ARTIFACTS"])
    methods = [e.get("method") for e in browser.events]
    errors = [
        e["params"]
        for e in browser.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert not errors, errors
    requests = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert url in requests and all(r == url or r.startswith("data:") for r in requests), requests
    assert "Page.javascriptDialogOpening" not in methods  # the hostile alert() never ran
    # the answer first: task sentence, leaderboard (on the first screen), comparison figure, then the details
    assert layout["task"] < layout["board"] < layout["boardBottom"] < HEIGHT, layout
    assert layout["boardBottom"] < layout["figure"] < min(layout["details"]), layout
    assert layout["open"] == 0 and len(layout["details"]) >= 6  # calibration, 2 models, data, run information
    assert layout["height"] <= 4 * HEIGHT, layout["height"]
    # a click expands a model's section; opening every other section makes each taller
    assert clicked > click["before"] + 200, (click, clicked)
    assert len(state["opened"]) == len(layout["details"]) - 1 and min(state["opened"]) > 0, state["opened"]
    assert len(state["images"]) == 3 + 2 * 4 + 4  # data, all models, per model, interpretation
    assert all(i["complete"] and i["w"] > 0 and i["h"] > 0 and i["shown"] for i in state["images"]), state["images"]
    assert state["scripts"] == 0
    assert f"w3 desc {HOSTILE}" in state["text"] and f"g {HOSTILE}" in state["text"]
    assert f"CTCF {HOSTILE}" in state["visible"] and f"Homo {HOSTILE}" in state["visible"]
    assert screenshot.stat().st_size > 10_000
