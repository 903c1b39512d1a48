"""Shared text tools: clause and sentence breaks, list markers, the literal pre-filter."""
