"""A small sweep scenario shared by the integration tests (report rendering, crash and resume)."""

from __future__ import annotations

import copy

import yaml

WORLD = {
    "kind": "creator_audience", "scale": 20.0,
    "audience": {"peers": {"kind": "erdos_renyi", "n": 1500, "mean_degree": 4.0},
                 "segments": [{"name": "young", "share": 0.5, "platforms": {"instagram": 0.9, "tiktok": 0.7}},
                              {"name": "old", "share": 0.5, "platforms": {"instagram": 0.6}}],
                 "interest": {"mean": 0.4, "concentration": 4.0, "homophily": 0.3}},
    "platforms": {"instagram": {"organic_reach": 0.3, "discovery": 0.1}, "tiktok": {"organic_reach": 0.4}},
    "tiers": {"nano": {"followers": [1000, 10000], "count": 400, "platforms": {"instagram": 0.5, "tiktok": 0.5},
                       "engagement": 0.2, "trust": 0.6},
              "micro": {"followers": [10000, 25000], "count": 120, "platforms": {"instagram": 0.5, "tiktok": 0.5},
                        "engagement": 0.15, "trust": 0.5},
              "mega": {"followers": [25000, 29000], "count": 4, "platforms": {"instagram": 1.0},
                       "engagement": 0.1, "trust": 0.3}},
}
SCENARIO = {
    "name": "small_sweep", "seed": 9, "trials": 128, "days": 21, "world": WORLD,
    "model": {"kind": "campaign", "threshold": {"max": 1.0, "interest_effect": 0.5}, "reshare": 0.1,
              "trust_growth": 0.1, "trust_ceiling": 0.9},
    "rate_card": {"instagram": {"nano": 55, "micro": 300, "mega": 4000}, "tiktok": {"nano": 15, "micro": 75}},
    "partnership_cost": {"nano": 50, "micro": 100, "mega": 1000},
    "baseline": "celebrity.burst.10k",
    "strategy_grid": {"budgets": [10000, 20000],
                      "mixes": {"celebrity": {"mega.instagram": 1.0},
                                "micro": {"micro.instagram": 1.0},
                                "nano": {"nano.instagram": 1.0}},
                      "schedules": {"burst": {"days": [0]},
                                    "weekly": {"schedule": {"start": 0, "every": 7, "count": 2}}}},
    "sweep": {"uncertainties": [{"path": "model.trust_growth", "name": "trust_growth", "levels": [0.0, 0.2]}]},
}


def write(folder, **changes) -> str:
    """Write the scenario (with top-level ``changes``) as YAML into ``folder``; return its path."""
    data = copy.deepcopy(SCENARIO)
    data.update(changes)
    path = folder / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)
