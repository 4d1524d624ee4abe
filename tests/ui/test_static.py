"""Static checks of the UI files: the rules of CONVENTIONS habit 13 and the CSP."""

from __future__ import annotations

import re
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "src" / "cloudlabmanager" / "ui"
JS = sorted((UI / "js").rglob("*.js"))


def _code(path: Path) -> str:
    # Comments may talk about the forbidden things; only code counts.
    text = path.read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(^|[^:\\])//.*$", r"\1", text, flags=re.M)


def test_no_html_parsing_sinks_anywhere() -> None:
    sinks = re.compile(
        r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(|"
        r"createContextualFragment|DOMParser|\.srcdoc\b"
    )
    found = [f"{p.name}: {m.group(0)}" for p in JS for m in sinks.finditer(_code(p))]
    assert not found


def test_only_dom_js_creates_elements_and_only_api_js_talks_to_the_server() -> None:
    for path in JS:
        code = _code(path)
        if path.name != "dom.js":
            assert "createElement" not in code, path
        if path.name != "api.js":
            assert not re.search(r"\bfetch\(|XMLHttpRequest|EventSource\(|sendBeacon", code), path


def test_one_module_per_view() -> None:
    views = {p.stem for p in (UI / "js" / "views").glob("*.js")}
    assert {"setup", "login", "dashboard", "instances", "services", "jobs", "job"} <= views
    main = (UI / "js" / "main.js").read_text()
    for view in ("setup", "login", "dashboard", "instances", "services", "jobs", "job"):
        assert f'from "./views/{view}.js"' in main


def test_index_html_fits_the_content_security_policy() -> None:
    html = (UI / "index.html").read_text()
    assert " style=" not in html and "<style" not in html
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S):
        assert script.strip() == "", "inline script"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/assets/", "#")), url


def test_nothing_is_loaded_from_another_host() -> None:
    for path in [*JS, UI / "app.css", UI / "index.html"]:
        code = _code(path) if path.suffix == ".js" else path.read_text()
        assert not re.search(r"(?<![\w.])(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", code, flags=re.I), (
            path
        )
        assert "@import" not in code, path


def test_styles_are_set_through_classes_or_the_cssom_only() -> None:
    for path in JS:
        code = _code(path)
        assert not re.search(r"""setAttribute\(\s*["']style""", code), path
        assert not re.search(r"""["']style["']\s*:""", code), path
