"""Coding: the codebook, genre, actor, the one stance engine (modality), tactic mentions, stages, red lines."""
