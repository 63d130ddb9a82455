"""The staff dashboard, the agreement-registry dashboard and its exports."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from app.agreements.models import EXPIRING_WITHIN_DAYS, DerivedStatus
from app.agreements.services import registry_today
from app.auth.access import STAFF, allow
from app.auth.models import Role
from app.events.services import current_event
from app.exports import csv_response, xlsx_response
from app.reports.charts import Bar, bar_chart
from app.reports.forms import RegistryFilterForm
from app.reports.registry import (
    Count,
    RegistryFilters,
    RegistryStatistics,
    registry_figure_rows,
    registry_statistics,
)

bp = Blueprint("reports", __name__, template_folder="templates")


@dataclass(frozen=True)
class DashboardCard:
    """One block of a staff member's starting page."""

    roles: tuple[Role, ...]
    title: object
    text: object
    endpoint: str | None = None
    action: object = None


DASHBOARD_CARDS: list[DashboardCard] = [
    DashboardCard(
        (Role.ADMIN,),
        _l("Accounts and roles"),
        _l("Invite staff, grant roles and deactivate accounts."),
        "auth.staff_list",
        _l("Manage accounts"),
    ),
    DashboardCard(
        (Role.ORGANISER,),
        _l("Congress organisation"),
        _l("Registrations, payments, programme and attendance of WCPP 2026."),
        "registration.list_registrations",
        _l("Registrations"),
    ),
    DashboardCard(
        (Role.REGISTRY_OFFICER, Role.ORGANISER, Role.ADMIN),
        _l("Cooperation agreements"),
        _l("The registry of MoUs and cooperation agreements (PKS) with partner organisations."),
        "reports.registry_dashboard",
        _l("Registry dashboard"),
    ),
    DashboardCard(
        (Role.GATE_STAFF,),
        _l("Gate check-in"),
        _l("Scan delegates' badges at the venue entrance and session doors."),
    ),
]


@bp.get("/dashboard")
@allow(*STAFF)
def dashboard():
    """Each staff member's starting page: what their roles let them do."""
    cards = [card for card in DASHBOARD_CARDS if current_user.has_role(*card.roles)]
    return render_template("reports/dashboard.html", event=current_event(), dashboard_cards=cards)


# Who may see the registry's figures: those who keep it and the organisers who read it.
REGISTRY_READERS = (Role.ADMIN, Role.REGISTRY_OFFICER, Role.ORGANISER)


@dataclass(frozen=True)
class RegistryChart:
    """A chart of the registry dashboard with the table that carries the same figures."""

    chart_id: str
    title: str
    category_heading: str
    svg: Markup
    counts: list[Count]


def _registry_filters() -> tuple[RegistryFilterForm, RegistryFilters]:
    """The filter form from the query string; a field with bad input is ignored (and flagged)."""
    form = RegistryFilterForm(formdata=request.args)
    if request.args:
        form.validate()
    valid = {name: form[name].data for name in ("year_from", "year_to", "level")}
    valid = {name: value for name, value in valid.items() if not form[name].errors}
    return form, RegistryFilters(
        year_from=valid.get("year_from"),
        year_to=valid.get("year_to"),
        level=valid.get("level") or None,
    )


def _chart(
    chart_id: str, title: str, heading: str, counts: list[Count], **options
) -> RegistryChart:
    """One breakdown drawn as a bar chart."""
    description = "; ".join(f"{count.label}: {count.value}" for count in counts)
    bars = [Bar(count.label, count.value, count.tone) for count in counts]
    svg = bar_chart(chart_id, title, description, bars, **options)
    return RegistryChart(chart_id, title, heading, svg, counts)


def _registry_charts(stats: RegistryStatistics) -> list[RegistryChart]:
    """The dashboard's breakdowns, each as a chart with its data table."""
    return [
        _chart("chart-status", _("Active, expiring and expired"), _("Status"), stats.by_status),
        _chart("chart-kind", _("By kind"), _("Kind"), stats.by_kind),
        _chart("chart-level", _("By level"), _("Level"), stats.by_level),
        _chart("chart-scope", _("By scope area"), _("Scope area"), stats.by_scope_area),
        _chart(
            "chart-partner-kind", _("By kind of partner"), _("Partner kind"), stats.by_partner_kind
        ),
    ]


@bp.get("/reports/registry")
@allow(*REGISTRY_READERS)
def registry_dashboard():
    """Agreements signed per year, by kind, level, scope area, partner kind and status."""
    form, filters = _registry_filters()
    stats = registry_statistics(filters, registry_today())
    years = [Count(str(year.year), str(year.year), year.signed) for year in stats.per_year]
    per_year_chart = _chart(
        "chart-years", _("Agreements signed per year"), _("Year"), years, vertical=True
    )
    return render_template(
        "reports/registry.html",
        form=form,
        filters=filters,
        stats=stats,
        per_year_chart=per_year_chart,
        charts=_registry_charts(stats),
        DerivedStatus=DerivedStatus,
        expiring_within_days=EXPIRING_WITHIN_DAYS,
    )


def _registry_export_table() -> tuple[str, list[str], list[tuple[str, str, int]]]:
    """The filtered dashboard figures as a file name stem, header and rows."""
    _form, filters = _registry_filters()
    today = registry_today()
    stats = registry_statistics(filters, today)
    header = [_("Figure"), _("Category"), _("Agreements")]
    return f"agreement-registry-figures-{today.isoformat()}", header, registry_figure_rows(stats)


@bp.get("/reports/registry/figures.csv")
@allow(*REGISTRY_READERS)
def registry_export_csv():
    """The dashboard's figures (with its filters) as CSV."""
    name, header, rows = _registry_export_table()
    return csv_response(f"{name}.csv", header, rows)


@bp.get("/reports/registry/figures.xlsx")
@allow(*REGISTRY_READERS)
def registry_export_xlsx():
    """The dashboard's figures (with its filters) as an Excel workbook."""
    name, header, rows = _registry_export_table()
    return xlsx_response(f"{name}.xlsx", header, rows)
