"""The congress itself: name, dates, venue, theme, default language."""
