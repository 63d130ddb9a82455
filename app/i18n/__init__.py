"""Languages: locale selection, bilingual content, locale-aware formatting."""
