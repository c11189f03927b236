"""Screenshots of pages of a running site, in both languages, with the system Chromium.

.venv/bin/python scripts/screenshot.py http://127.0.0.1:8000 / /projects/ --out var/screenshots
.venv/bin/python scripts/screenshot.py URL PATH... --login sara@example.com:demo-pass-1234 --width 390
"""

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--out", default="var/screenshots")
    parser.add_argument("--login", help="email:password")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--languages", default="en,fa")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for language in args.languages.split(","):
            context = browser.new_context(viewport={"width": args.width, "height": 900})
            context.add_cookies([{"name": "django_language", "value": language, "url": args.base}])
            page = context.new_page()
            if args.login:
                email, password = args.login.split(":", 1)
                page.goto(f"{args.base}/accounts/login/")
                page.fill("input[name=login]", email)
                page.fill("input[name=password]", password)
                page.click("form.form-entrance button[type=submit]")
                page.wait_for_load_state()
            for path in args.paths:
                page.goto(f"{args.base}{path}")
                name = path.strip("/").replace("/", "_") or "home"
                file = out / f"{name}-{language}-{args.width}.png"
                page.screenshot(path=str(file), full_page=True)
                print(file)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
