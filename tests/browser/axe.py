"""axe-core (from npm, see package.json) run in a Playwright page: the WCAG 2.1 A and AA rules,
failing on every violation whose impact is serious or critical."""

from __future__ import annotations

from functools import cache

from playwright.sync_api import Page

from app.config import PROJECT_ROOT

AXE_SCRIPT = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

# axe.run's answer cut down to what a failure message needs (the full one holds whole DOM nodes).
_RUN_AXE = """tags => axe.run(document, {runOnly: {type: "tag", values: tags}}).then(results =>
  results.violations.map(violation => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.map(node => node.target.join(" ")),
  })))"""


@cache
def axe_source() -> str:
    """The axe-core script, read once per test run."""
    if not AXE_SCRIPT.exists():
        raise RuntimeError(f"{AXE_SCRIPT} is missing: run 'npm ci' (make test does)")
    return AXE_SCRIPT.read_text(encoding="utf-8")


def serious_violations(page: Page) -> list[dict]:
    """The page's serious and critical WCAG 2.1 A/AA violations, as axe-core reports them."""
    # Evaluated through the DevTools protocol, not as a <script> tag: the app's
    # Content-Security-Policy allows no inline scripts, and an injected tag would be blocked.
    page.evaluate(axe_source())
    violations = page.evaluate(_RUN_AXE, WCAG_21_AA)
    return [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    """One line per violation: rule id, impact, help text and the elements it found."""
    return "\n".join(
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + ", ".join(violation["targets"])
        for violation in violations
    )


def assert_accessible(page: Page) -> None:
    """Fail listing every serious or critical WCAG 2.1 A/AA violation on the page."""
    violations = serious_violations(page)
    assert not violations, f"{page.url} has accessibility violations:\n{describe(violations)}"
