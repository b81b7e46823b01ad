"""Every notebook in a real JupyterLab in headless Chromium: run all cells, then move every widget control.

For each committed notebook (every edition, student and solution: found by ``git ls-files``, so new
chapters and editions are covered without changes here) the test opens it, runs all cells and
fails on any error output. Then, for every interactive widget on the page (``ipywidgets.interact``
renders a ``.widget-interact`` box of controls above an output area), it moves each control as a
person would - a slider by keyboard one step and then to an end of its range, a dropdown to the
next option, a text box to another text (its own characters reversed), a checkbox toggled - and
asserts each time that the output (figure or text) changes, holds no error, and that the page never
shows "Error displaying widget". A slider whose range holds one value (min == max) cannot move and
is counted as "fixed". A control of a kind this file does not know fails the test with its class.
"""

from __future__ import annotations

import hashlib
import re
import time

RUN_TIMEOUT_S = 900
MOVE_TIMEOUT_S = 120
_ERROR_TEXT = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception)\b")

KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const session = panel && panel.sessionContext && panel.sessionContext.session;
    return !!(session && session.kernel && session.kernel.status === 'idle');
}"""

RUN_STATE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cells = panel.content.widgets.filter(c => c.model.type === 'code');
    const busy = cells.some(c => (c.promptNode ? c.promptNode.textContent : '').includes('*'));
    const errors = [];
    panel.content.widgets.forEach((c, i) => {
        if (c.model.type !== 'code') return;
        for (const o of c.model.outputs.toJSON()) {
            if (o.output_type === 'error') errors.push(`cell ${i + 1}: ${o.ename}: ${o.evalue}`.slice(0, 300));
        }
    });
    const done = cells.filter(c => c.model.executionCount !== null).length;
    return {busy, errors, done, total: cells.length,
            idle: panel.sessionContext.session.kernel.status === 'idle'};
}"""

OUTPUT_STATE = """(box) => {
    const out = box.querySelector('.widget-output');
    if (!out) return {signature: '', filled: false, errors: ''};
    const images = Array.from(out.querySelectorAll('img')).map(i => i.src);
    const text = out.innerText;
    const stderr = Array.from(out.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]'))
        .map(e => e.innerText).join('\\n');
    return {signature: text + '\\n' + images.join('\\n'), filled: images.length > 0 || text.trim().length > 0,
            errors: stderr};
}"""

CONTROL_KINDS = """(box) => Array.from(box.children)
    .filter(c => c.classList.contains('jupyter-widgets') && !c.classList.contains('widget-output'))
    .map(c => {
        const k = c.classList;
        const label = (c.querySelector('.widget-label') || {}).innerText || '';
        if (k.contains('widget-hslider') || k.contains('widget-vslider')) return {kind: 'slider', label};
        if (k.contains('widget-dropdown')) return {kind: 'dropdown', label};
        if (k.contains('widget-text') || k.contains('widget-textarea')) return {kind: 'text', label};
        if (k.contains('widget-checkbox')) return {kind: 'checkbox', label};
        return {kind: 'unknown: ' + Array.from(k).join(' '), label};
    })"""


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


class Notebook:
    """One notebook open in a page: run it, find its widgets, move their controls."""

    def __init__(self, page, name: str):
        self.page, self.name = page, name

    def wait_idle(self, timeout_s: float) -> None:
        self.page.wait_for_function(KERNEL_IDLE, timeout=timeout_s * 1000)

    def run_all(self) -> dict:
        self.page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        deadline, stable = time.monotonic() + RUN_TIMEOUT_S, 0
        while time.monotonic() < deadline:
            time.sleep(1.0)
            state = self.page.evaluate(RUN_STATE)
            finished = state["idle"] and not state["busy"] and (state["done"] == state["total"] or state["errors"])
            stable = stable + 1 if finished else 0
            if stable >= 2:
                return state
        raise AssertionError(f"{self.name}: cells still running after {RUN_TIMEOUT_S} s")

    def output(self, box) -> dict:
        return box.evaluate(OUTPUT_STATE)

    def wait_for_new_output(self, box, before: str, what: str) -> dict:
        deadline = time.monotonic() + MOVE_TIMEOUT_S
        while time.monotonic() < deadline:
            time.sleep(0.3)
            state = self.output(box)
            if state["filled"] and state["signature"] != before and self.page.evaluate(KERNEL_IDLE):
                time.sleep(0.3)  # let the last message of this update land, then look again
                state = self.output(box)
                assert not _ERROR_TEXT.search(state["errors"]), f"{what}: the widget's output shows an error:\n" \
                                                                  f"{state['errors'][:1500]}"
                return state
        raise AssertionError(f"{what}: the output did not change within {MOVE_TIMEOUT_S} s")

    def move(self, box, control, kind: str, what: str) -> int:
        """Move one control; return how many moves were made (0: a slider that cannot move)."""
        moves = 0
        if kind == "slider":
            handle = control.locator(".noUi-handle").first
            for key_up, key_down in (("ArrowRight", "ArrowLeft"), ("End", "Home")):
                low, high = float(handle.get_attribute("aria-valuemin")), float(handle.get_attribute("aria-valuemax"))
                if low == high:
                    return 0
                value = handle.get_attribute("aria-valuetext")  # unrounded (aria-valuenow is formatted)
                before = self.output(box)["signature"]
                handle.focus()
                self.page.keyboard.press(key_down if float(value) >= high - 1e-9 else key_up)
                self.page.wait_for_function("([h, v]) => h.getAttribute('aria-valuetext') !== v",
                                            arg=[handle.element_handle(), value], timeout=10_000)
                self.wait_for_new_output(box, before, f"{what} {value} -> {handle.get_attribute('aria-valuetext')}")
                moves += 1
            return moves
        before = self.output(box)["signature"]
        if kind == "dropdown":
            select = control.locator("select")
            options = select.locator("option").all_inner_texts()
            current = select.evaluate("s => s.selectedIndex")
            select.select_option(index=(current + 1) % len(options))
        elif kind == "text":
            field = control.locator("input, textarea").first
            value = field.input_value()
            new = value[::-1] if value[::-1] != value else value[:-1] or "x"
            field.fill(new)
            field.press("Enter")
        elif kind == "checkbox":
            control.locator("input[type=checkbox]").click()
        self.wait_for_new_output(box, before, what)
        return 1


def test_notebook_runs_and_every_widget_responds(notebook, lab_server, browser, artifacts, record_property):
    """``notebook``: each committed notebook, from conftest.pytest_generate_tests."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda err: page_errors.append(str(err)))
    counts = {"widgets": 0, "controls": 0, "moves": 0, "fixed": 0}
    try:
        page.goto(lab_server.url(notebook, "w" + _digest(notebook)), timeout=120_000)
        nb = Notebook(page, notebook)
        nb.wait_idle(180)
        state = nb.run_all()
        assert not state["errors"], f"{notebook}: cells raised:\n" + "\n".join(state["errors"])
        assert state["done"] == state["total"], f"{notebook}: only {state['done']}/{state['total']} code cells ran"
        boxes = page.locator(".widget-interact")
        counts["widgets"] = boxes.count()
        for b in range(counts["widgets"]):
            box = boxes.nth(b)
            box.scroll_into_view_if_needed()
            kinds = box.evaluate(CONTROL_KINDS)
            assert nb.output(box)["filled"], f"{notebook}: widget {b + 1} shows no output after running"
            controls = box.locator(":scope > .jupyter-widgets:not(.widget-output)")
            for c, control_kind in enumerate(kinds):
                what = f"{notebook}: widget {b + 1}, {control_kind['kind']} {control_kind['label']!r}"
                assert not control_kind["kind"].startswith("unknown"), f"{what}: teach this test to move it"
                moved = nb.move(box, controls.nth(c), control_kind["kind"], what)
                counts["controls"] += 1
                counts["moves"] += moved
                counts["fixed"] += moved == 0
        body = page.locator("body").inner_text()
        assert "Error displaying widget" not in body, f"{notebook}: the page shows 'Error displaying widget'"
        assert not page_errors, f"{notebook}: JavaScript errors in the page: {page_errors[:3]}"
    except BaseException:
        shot = artifacts / (notebook.replace("/", "__") + ".png")
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failure: {shot}")
        raise
    finally:
        record_property("notebook", notebook)
        for key, value in counts.items():
            record_property(key, value)
        try:  # shut the kernel down so the next notebook has the CPU
            page.evaluate("window.jupyterapp.commands.execute('kernelmenu:shutdown')")
        except Exception:
            pass
        context.close()
