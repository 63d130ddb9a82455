"""Dashboards, charts and exports for staff."""
