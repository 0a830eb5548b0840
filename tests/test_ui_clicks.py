"""Buttons on auto-refreshing pages act in on_click callbacks, never on the button's return value.

A click reaches the server as a rerun carrying the button's trigger. If an auto-refresh rerun interrupts that
run before the script reaches the button, the trigger is reset and the click is lost; a callback runs as the
click's rerun begins, before any of the script. Measured with Streamlit and streamlit-autorefresh in Chromium
(a 0.4 s refresh, 0.25 s of work before the buttons): 5 of 20 return-value clicks registered, 20 of 20 callback
clicks. The CI run of session 10 lost the sidebar's Stop click this way.
"""

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[1] / "ui"


def _auto_refreshing() -> list[Path]:
    pages = [p for p in sorted((UI / "pages").glob("*.py")) if "autorefresh(" in p.read_text()]
    return [UI / "components.py", *pages]         # components: the sidebar, shown on every page


def _buttons(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text())
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr == "button"]


def test_the_auto_refreshing_pages_are_found() -> None:
    names = {p.name for p in _auto_refreshing()}
    assert {"overview.py", "endpoint.py", "components.py"} <= names


def test_every_button_on_an_auto_refreshing_page_acts_in_a_callback() -> None:
    seen, bare = 0, []
    for path in _auto_refreshing():
        for call in _buttons(path):
            seen += 1
            if not any(k.arg == "on_click" for k in call.keywords):
                bare.append(f"{path.name}:{call.lineno}")
    assert seen >= 5, seen           # sidebar start/stop, endpoint toggle, overview details/toggle
    assert not bare, f"buttons acting on their return value on an auto-refreshing page: {bare}"
