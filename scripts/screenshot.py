"""The README's picture of the dashboard: runs the demo (its world ends yesterday, so the picture is of
today's demo) into a scratch folder and saves a screenshot of the whole page down to its definitions,
taken in Debian's Chromium through Playwright, as docs/dashboard.png.

    make screenshot        # (the test tools and `apt-get install chromium` needed)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright._impl._api_structures import Clip  # the type of `clip` (not re-exported)
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "dashboard.png"


def main() -> None:
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        raise SystemExit("no chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "report"
        script = str(Path(sys.executable).with_name("helpdesk-kpi"))
        database = f"sqlite:///{Path(scratch) / 'demo.db'}"
        subprocess.run([script, "demo", "--database", database, "--out", str(out)], check=True)  # noqa: S603
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto((out / "dashboard.html").as_uri())
            TARGET.parent.mkdir(exist_ok=True)
            # the whole page down to the definitions (text the README has already)
            top = "document.getElementById('definitions').getBoundingClientRect().top + scrollY"
            clip: Clip = {"x": 0, "y": 0, "width": 1280, "height": float(page.evaluate(top))}
            page.screenshot(path=str(TARGET), full_page=True, clip=clip)
            browser.close()
    print(f"saved {TARGET.relative_to(ROOT)} ({TARGET.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
