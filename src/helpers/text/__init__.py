"""Shared text tools: clause and sentence breaks, list markers, Chinese numerals, the literal pre-filter."""
