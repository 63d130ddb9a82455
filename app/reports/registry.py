"""Figures of the agreement registry: a fixed handful of GROUP BY queries, whatever its size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Integer, Select, cast, extract, func, select

from app.agreements.models import (
    AGREEMENT_KIND_LABELS,
    DERIVED_STATUS_LABELS,
    UNIT_LEVEL_LABELS,
    Agreement,
    AgreementParty,
    DerivedStatus,
    ScopeArea,
    agreement_scope_areas,
)
from app.agreements.services import derived_status_column
from app.extensions import db
from app.partners.models import PARTNER_KIND_LABELS, Partner

# The order a reader scans statuses in: in force first, then ended, then not yet signed.
STATUS_ORDER = (
    DerivedStatus.ACTIVE,
    DerivedStatus.EXPIRING,
    DerivedStatus.EXPIRED,
    DerivedStatus.TERMINATED,
    DerivedStatus.DRAFT,
    DerivedStatus.IN_NEGOTIATION,
)
# Statuses a chart colours: fine, needs attention, over.
STATUS_TONES = {
    DerivedStatus.ACTIVE: "ok",
    DerivedStatus.EXPIRING: "warn",
    DerivedStatus.EXPIRED: "bad",
    DerivedStatus.TERMINATED: "bad",
}


@dataclass(frozen=True)
class RegistryFilters:
    """Which agreements the dashboard counts: signing years and level."""

    year_from: int | None = None
    year_to: int | None = None
    level: str | None = None

    def query_args(self) -> dict[str, Any]:
        """The filters as URL query arguments (for export links)."""
        args = {"year_from": self.year_from, "year_to": self.year_to, "level": self.level}
        return {key: value for key, value in args.items() if value not in (None, "")}


@dataclass(frozen=True)
class Count:
    """One category of a breakdown: its stored key, its label in the reader's language."""

    key: str
    label: str
    value: int
    tone: str | None = None


@dataclass(frozen=True)
class YearCount:
    """Agreements signed in a year, and how many had been signed by its end."""

    year: int
    signed: int
    cumulative: int


@dataclass
class RegistryStatistics:
    """Everything the registry dashboard shows."""

    filters: RegistryFilters
    today: date
    total: int = 0
    samples: int = 0
    per_year: list[YearCount] = field(default_factory=list)
    by_kind: list[Count] = field(default_factory=list)
    by_level: list[Count] = field(default_factory=list)
    by_scope_area: list[Count] = field(default_factory=list)
    by_partner_kind: list[Count] = field(default_factory=list)
    by_status: list[Count] = field(default_factory=list)

    @property
    def all_time_signed(self) -> int:
        """Agreements signed up to the last year shown (the running total)."""
        return self.per_year[-1].cumulative if self.per_year else 0

    def status_count(self, status: DerivedStatus) -> int:
        """How many agreements are in a derived status."""
        return next((c.value for c in self.by_status if c.key == status.value), 0)

    @property
    def growth(self) -> tuple[YearCount, int] | None:
        """The year before the last signing year, and the total since: "17 → 43"."""
        if len(self.per_year) < 2:
            return None
        return self.per_year[-2], self.all_time_signed


def _signed_year():
    """The signing year as an integer on SQLite and PostgreSQL alike."""
    return cast(extract("year", Agreement.signed_on), Integer)


def _level_filter(query: Select, filters: RegistryFilters) -> Select:
    """Keep one level's agreements when a level is chosen."""
    if filters.level:
        query = query.where(Agreement.unit_level == filters.level)
    return query


def _filtered(query: Select, filters: RegistryFilters) -> Select:
    """Apply the level and signing-year filters (year bounds as dates, so indexes help)."""
    query = _level_filter(query, filters)
    if filters.year_from is not None:
        query = query.where(Agreement.signed_on >= date(filters.year_from, 1, 1))
    if filters.year_to is not None:
        query = query.where(Agreement.signed_on < date(filters.year_to + 1, 1, 1))
    return query


def _counts(rows: Any) -> dict[str, int]:
    """(key, count) rows as a dict."""
    return {str(key): int(count) for key, count in rows if key is not None}


def _labelled(labels: dict, counts: dict[str, int], tones: dict | None = None) -> list[Count]:
    """Every category of an enumeration in its order, zeros included."""
    return [
        Count(
            str(key.value),
            str(label),
            counts.get(key.value, 0),
            (tones or {}).get(key),
        )
        for key, label in labels.items()
    ]


def _per_year(filters: RegistryFilters) -> list[YearCount]:
    """Signed per year with running totals; running totals count earlier years too."""
    year = _signed_year().label("year")
    query = _level_filter(
        select(year, func.count()).where(Agreement.signed_on.is_not(None)), filters
    ).group_by(year)
    counts = {int(row_year): int(count) for row_year, count in db.session.execute(query)}
    if not counts:
        return []
    # The chosen range, narrowed to the years that have any signing at all.
    first = max(filters.year_from or min(counts), min(counts))
    last = min(filters.year_to or max(counts), max(counts))
    running = sum(count for row_year, count in counts.items() if row_year < first)
    years = []
    for each in range(first, last + 1):
        running += counts.get(each, 0)
        years.append(YearCount(each, counts.get(each, 0), running))
    return years


def registry_statistics(filters: RegistryFilters, today: date) -> RegistryStatistics:
    """The dashboard's figures: seven queries, however many agreements there are."""
    stats = RegistryStatistics(filters=filters, today=today)
    base = _filtered(
        select(
            Agreement.id.label("id"),
            Agreement.kind.label("kind"),
            Agreement.unit_level.label("unit_level"),
            Agreement.is_sample.label("is_sample"),
            derived_status_column(today).label("derived_status"),
        ),
        filters,
    ).subquery("filtered_agreements")

    # Grouping a subquery's column, not the CASE itself: PostgreSQL would not match the
    # CASE in GROUP BY with the one in SELECT, their date parameters being bound separately.
    status_rows = db.session.execute(
        select(base.c.derived_status, base.c.is_sample, func.count()).group_by(
            base.c.derived_status, base.c.is_sample
        )
    ).all()
    status_counts: dict[str, int] = {}
    for status, is_sample, count in status_rows:
        status_counts[status] = status_counts.get(status, 0) + count
        stats.total += count
        stats.samples += count if is_sample else 0
    ordered_labels = {status: DERIVED_STATUS_LABELS[status] for status in STATUS_ORDER}
    stats.by_status = _labelled(ordered_labels, status_counts, STATUS_TONES)

    kinds = db.session.execute(select(base.c.kind, func.count()).group_by(base.c.kind))
    stats.by_kind = _labelled(AGREEMENT_KIND_LABELS, _counts(kinds))
    levels = db.session.execute(select(base.c.unit_level, func.count()).group_by(base.c.unit_level))
    stats.by_level = _labelled(UNIT_LEVEL_LABELS, _counts(levels))

    partner_kinds = db.session.execute(
        select(Partner.kind, func.count(func.distinct(base.c.id)))
        .select_from(base)
        .join(AgreementParty, AgreementParty.agreement_id == base.c.id)
        .join(Partner, Partner.id == AgreementParty.partner_id)
        .group_by(Partner.kind)
    )
    stats.by_partner_kind = _labelled(PARTNER_KIND_LABELS, _counts(partner_kinds))

    scope_counts = _counts(
        db.session.execute(
            select(agreement_scope_areas.c.scope_area_id, func.count())
            .select_from(base)
            .join(agreement_scope_areas, agreement_scope_areas.c.agreement_id == base.c.id)
            .group_by(agreement_scope_areas.c.scope_area_id)
        )
    )
    areas = db.session.scalars(select(ScopeArea).order_by(ScopeArea.position, ScopeArea.id))
    stats.by_scope_area = [
        Count(area.code, str(area.name), scope_counts.get(str(area.id), 0))
        for area in areas
        if area.active or scope_counts.get(str(area.id))
    ]

    stats.per_year = _per_year(filters)
    return stats


def registry_figure_rows(stats: RegistryStatistics) -> list[tuple[str, str, int]]:
    """The dashboard's figures as (figure, category, count) rows for CSV/XLSX export."""
    rows: list[tuple[str, str, int]] = []
    for year in stats.per_year:
        rows.append((_("Signed in the year"), str(year.year), year.signed))
    for year in stats.per_year:
        rows.append((_("Total signed by the end of the year"), str(year.year), year.cumulative))
    sections = (
        (_("Status"), stats.by_status),
        (_("Kind"), stats.by_kind),
        (_("Level"), stats.by_level),
        (_("Scope area"), stats.by_scope_area),
        (_("Partner kind"), stats.by_partner_kind),
    )
    for title, counts in sections:
        rows.extend((title, count.label, count.value) for count in counts)
    rows.append((_("All agreements"), _("Total"), stats.total))
    rows.append((_("All agreements"), _("Sample (demo) agreements"), stats.samples))
    return rows
