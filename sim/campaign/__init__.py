"""The campaign model: creators' posts, exposure, engagement, trust-weighted persuasion, adoption.

``spec`` (scenario blocks) → ``model`` (world arrays and strategy schedules) → ``kernel``
(numba) or ``agents`` (Mesa; identical outcomes) → ``metrics`` (tables in real accounts and USD).
"""
