"""Write the malformed-input corpus: ``python tests/hardening/make_corpus.py``.

Each case is a file (a scenario, sometimes with an edge list beside it) that must be refused
with exit status 2, one ``file:line: key: message`` line per problem, no traceback and no
output folder. ``cases.yaml`` lists, per file, a piece of the key and of the message the first
line must contain. The files are committed; this script documents how they were made and
rewrites them identically.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import yaml

HERE = Path(__file__).parent / "corpus"

CLASSIC = """\
name: classic
seed: 1
trials: 10
world:
  graph: {kind: erdos_renyi, n: 200, mean_degree: 3.0}
model: {kind: independent_cascade, edge_prob: 0.2}
recruits: {rule: random, count: 2}
"""

CAMPAIGN = """\
name: campaign
seed: 1
trials: 4
days: 14
world:
  kind: creator_audience
  scale: 10
  audience:
    peers: {kind: erdos_renyi, n: 500, mean_degree: 4.0}
    segments:
      - {name: all, share: 1.0, platforms: {instagram: 0.9}}
    interest: {mean: 0.3, concentration: 4, homophily: 0.5}
  platforms:
    instagram: {organic_reach: 0.2, discovery: 0.1}
  tiers:
    micro: {followers: [1000, 3000], count: 10, platforms: {instagram: 1.0}, engagement: 0.1, trust: 0.5}
    mega: {followers: [3000, 4000], count: 2, platforms: {instagram: 1.0}, engagement: 0.05, trust: 0.3}
model: {kind: campaign, reshare: 0.1}
rate_card: {instagram: {micro: 300, mega: 20000}}
strategies:
  - name: micro
    posts: [{tier: micro, platform: instagram, creators: 3, days: [0]}]
  - name: mega
    posts: [{tier: mega, platform: instagram, creators: 1, days: [0]}]
"""

EDGES = "0 1\n1 2\n2 0\n"


def edgelist_scenario(path: str, fmt: str = "edgelist", model: str = "{kind: independent_cascade, edge_prob: 0.2}",
                      recruits: str = "{rule: random, count: 1}") -> str:
    return (f"name: edges\nseed: 1\ntrials: 4\nworld:\n  graph: {{kind: edgelist, path: {path}, directed: true, "
            f"format: {fmt}}}\nmodel: {model}\nrecruits: {recruits}\n")


CASES: list[tuple[str, str | bytes, str, str, dict[str, str | bytes]]] = []


def case(name: str, text: str | bytes, key: str, message: str, extra: dict | None = None) -> None:
    """One corpus file: its content, what the first error line's key and message must contain."""
    CASES.append((name, text, key, message, extra or {}))


def sub(base: str, old: str, new: str) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


# --- typos: unknown keys, at every level
for old, new, key in [
    ("seed: 1", "sed: 1", "sed"), ("trials: 10", "trails: 10", "trails"),
    ("edge_prob: 0.2", "edgeprob: 0.2", "model.edgeprob"), ("mean_degree: 3.0", "mean_degre: 3.0", "mean_degre"),
    ("count: 2}", "cuont: 2}", "recruits.cuont"), ("kind: erdos_renyi", "kind: erdos_reny", "world.graph.kind"),
    ("kind: independent_cascade", "kind: independent_cascad", "model.kind"),
    ("rule: random", "rule: randon", "recruits.rule"),
]:
    case(f"typo_{key.replace('.', '_')}", sub(CLASSIC, old, new), key, "")
for old, new, key in [
    ("organic_reach: 0.2", "organic_rech: 0.2", "organic_rech"), ("engagement: 0.1", "engagment: 0.1", "engagment"),
    ("reshare: 0.1", "reshar: 0.1", "model.reshar"), ("creators: 3", "creator: 3", "creator"),
    ("homophily: 0.5", "homophilly: 0.5", "homophilly"), ("rate_card:", "ratecard:", "ratecard"),
]:
    case(f"typo_campaign_{key.replace('.', '_')}", sub(CAMPAIGN, old, new), key, "")

# --- wrong types
for old, new, key in [
    ("seed: 1", "seed: one", "seed"), ("trials: 10", "trials: '10'", "trials"),
    ("trials: 10", "trials: 10.5", "trials"),
    ("trials: 10", "trials: [10]", "trials"), ("n: 200", "n: two hundred", "world.graph.n"),
    ("edge_prob: 0.2", "edge_prob: high", "model.edge_prob"), ("edge_prob: 0.2", "edge_prob: true", "model.edge_prob"),
    ("count: 2}", "count: [2]}", "recruits.count"), ("name: classic", "name: [classic]", "name"),
    ("world:\n  graph:", "world: 5\nx:\n  graph:", "world"),
]:
    case(f"type_{key.replace('.', '_')}_{len(CASES)}", sub(CLASSIC, old, new), key, "")
for old, new, key in [
    ("days: 14", "days: two weeks", "days"), ("scale: 10", "scale: big", "world.scale"),
    ("followers: [1000, 3000]", "followers: 1000", "followers"),
    ("days: [0]}]\n  - name: mega", "days: 0}]\n  - name: mega", "days"),
    ("platforms: {instagram: 0.9}", "platforms: [instagram]", "platforms"),
    ("rate_card: {instagram: {micro: 300, mega: 20000}}",
     "rate_card: {instagram: {micro: cheap, mega: 20000}}", "rate_card.instagram.micro"),
]:
    case(f"type_campaign_{key.replace('.', '_')}_{len(CASES)}", sub(CAMPAIGN, old, new), key, "")

# --- NaN and infinities
for old, new, key in [
    ("edge_prob: 0.2", "edge_prob: .nan", "model.edge_prob"), ("edge_prob: 0.2", "edge_prob: .inf", "model.edge_prob"),
    ("mean_degree: 3.0", "mean_degree: .nan", "world.graph.mean_degree"),
    ("mean_degree: 3.0", "mean_degree: .inf", "world.graph.mean_degree"),
    ("mean_degree: 3.0", "mean_degree: -.inf", "world.graph.mean_degree"),
]:
    case(f"nan_{len(CASES)}", sub(CLASSIC, old, new), key, "")
for old, new, key in [
    ("scale: 10", "scale: .inf", "world.scale"), ("scale: 10", "scale: .nan", "world.scale"),
    ("organic_reach: 0.2", "organic_reach: .nan", "organic_reach"), ("trust: 0.5}", "trust: .nan}", "trust"),
    ("micro: 300,", "micro: .inf,", "rate_card.instagram.micro"), ("reshare: 0.1", "reshare: -.inf", "model.reshare"),
]:
    case(f"nan_campaign_{len(CASES)}", sub(CAMPAIGN, old, new), key, "")

# --- negative and enormous sizes
for old, new, key, msg in [
    ("n: 200", "n: -5", "world.graph.n", "greater than or equal to 1"),
    ("n: 200", "n: 0", "world.graph.n", "greater than or equal to 1"),
    ("trials: 10", "trials: -1", "trials", ""), ("trials: 10", "trials: 0", "trials", ""),
    ("n: 200", "n: 1000000000000", "world", "GiB"),
    ("mean_degree: 3.0", "mean_degree: 1e300", "world.graph", "exceeds n - 1"),
    ("seed: 1", "seed: -1", "seed", ""), ("seed: 1", "seed: 18446744073709551616", "seed", ""),
    ("count: 2}", "count: 5000}", "recruits", "5000"), ("count: 2}", "count: -2}", "recruits.count", ""),
]:
    case(f"size_{len(CASES)}", sub(CLASSIC, old, new), key, msg)
for old, new, key, msg in [
    ("days: 14", "days: 0", "days", ""), ("days: 14", "days: -3", "days", ""),
    ("count: 10,", "count: -10,", "count", ""), ("n: 500", "n: 100000000000", "world", "GiB"),
    ("creators: 3", "creators: 300", "strategies.0.posts.0.creators", "asked for"),
    ("followers: [1000, 3000]", "followers: [3000, 1000]", "followers", "high > low"),
    ("scale: 10", "scale: 0.5", "world.scale", ""),
]:
    case(f"size_campaign_{len(CASES)}", sub(CAMPAIGN, old, new), key, msg)

# --- empty, non-UTF-8, not a mapping
case("empty", "", "", "the file is empty")
case("only_comments", "# nothing here\n# at all\n", "", "the file is empty")
case("not_utf8", "name: caf\xe9\n".encode("latin-1"), "", "not a UTF-8 text file")
case("binary", bytes(range(256)) * 4, "", "not a UTF-8 text file")
case("top_level_list", "- name: x\n- seed: 1\n", "(top level)", "mapping")
case("top_level_scalar", "just a string\n", "(top level)", "mapping")
case("syntax_error", "name: [unclosed\nseed: 1\n", "", "invalid YAML")
case("tabs", "name: x\n\tseed: 1\n", "", "invalid YAML")
case("utf16", CLASSIC.encode("utf-16"), "", "not a UTF-8 text file")
case("name_dotdot", sub(CLASSIC, "name: classic", "name: '..'"), "name", "should match pattern")
case("name_parent_path", sub(CLASSIC, "name: classic", "name: ../../etc"), "name", "should match pattern")
case("name_hidden", sub(CLASSIC, "name: classic", "name: .hidden"), "name", "should match pattern")
case("control_character", sub(CLASSIC, "name: classic", "name: cla\x1fssic"), "", "is not allowed")
case("huge_file", "name: x\n" + "# padding\n" * 120_000, "", "the limit is")

# --- YAML bombs, aliases, tags, duplicate keys
bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)) + "name: *h\n"
case("billion_laughs", bomb, "", "aliases")
case("alias_scalar", sub(CLASSIC, "seed: 1", "seed: &s 1\ntrials_again: *s"), "", "aliases")
case("alias_merge", sub(CLASSIC, "recruits: {rule: random, count: 2}",
                        "base: &b {rule: random}\nrecruits: {<<: *b, count: 2}"),
     "", "aliases")
case("python_object", sub(CLASSIC, "name: classic", "name: !!python/object/apply:os.system ['echo pwned']"), "", "tag")
case("python_name", sub(CLASSIC, "seed: 1", "seed: !!python/name:os.system"), "", "tag")
case("custom_tag", sub(CLASSIC, "trials: 10", "trials: !big 10"), "", "tag")
case("binary_tag", sub(CLASSIC, "name: classic", "name: !!binary aGVsbG8="), "", "tag")
case("timestamp_tag", sub(CLASSIC, "name: classic", "name: !!timestamp 2001-12-14"), "", "tag")
case("duplicate_top", sub(CLASSIC, "trials: 10", "trials: 10\ntrials: 20"), "", "duplicate key trials")
case("duplicate_nested", sub(CLASSIC, "n: 200,", "n: 200, n: 300,"), "", "duplicate key world.graph.n")
case("duplicate_campaign", sub(CAMPAIGN, "reshare: 0.1", "reshare: 0.1, reshare: 0.2"), "",
     "duplicate key model.reshare")
case("nonstring_key", sub(CLASSIC, "seed: 1", "seed: 1\n[1, 2]: x"), "", "keys must be names")

# --- malformed and self-contradictory edge lists
for name, content, msg in [
    ("one_column", "0 1\n2\n", "expected 'source target [weight]'"),
    ("bad_weight", "0 1 0.5\n1 2 heavy\n", "is not a number"),
    ("nan_weight", "0 1 nan\n", "finite number >= 0"),
    ("negative_weight", "0 1 -0.5\n", "finite number >= 0"),
    ("mixed_weights", "0 1 0.5\n1 2\n", "some lines have a weight"),
    ("empty_edges", "", "no edges"),
    ("comments_only_edges", "# a\n# b\n", "no edges"),
    ("attribute_not_weight", "0 1 {'color': 'red'}\n", "are not {'weight': number}"),
    ("attribute_code", "0 1 {'weight': __import__('os').system('echo pwned')}\n", "not"),
]:
    case(f"edges_{name}", edgelist_scenario(f"{name}.txt"), "world.graph.path", msg, {f"{name}.txt": content})
case("edges_not_utf8", edgelist_scenario("latin.txt"), "world.graph.path", "not a UTF-8 text file",
     {"latin.txt": "caf\xe9 1\n".encode("latin-1")})
case("edges_bad_gzip", edgelist_scenario("broken.txt.gz"), "world.graph.path", "",
     {"broken.txt.gz": b"\x1f\x8b\x08\x00garbage"})
case("edges_cut_gzip", edgelist_scenario("cut.txt.gz"), "world.graph.path", "cut short",
     {"cut.txt.gz": gzip.compress(b"0 1\n" * 1000, mtime=0)[:40]})
for name, content, msg in [
    ("json_invalid", "{edges: [[0, 1]}", "invalid JSON"),
    ("json_no_edges", '{"nodes": [1, 2]}', "needs an 'edges' list"),
    ("json_bad_pair", '{"edges": [[0, 1, 2]]}', "not a [source, target] pair"),
    ("json_nested_pair", '{"edges": [[[0], {"a": 1}]]}', "not a [source, target] pair"),
    ("json_labels_list", '{"edges": [[0, 1]], "labels": [1, 2]}', "'labels' must be a mapping"),
]:
    case(f"edges_{name}", edgelist_scenario(f"{name}.json", fmt="json"), "world.graph.path", msg,
         {f"{name}.json": content})
case("edges_weights_missing",
     edgelist_scenario("plain.txt", model="{kind: independent_cascade, edge_prob: edge_weight}"),
     "model", "weight", {"plain.txt": EDGES})
case("edges_weight_above_one",
     edgelist_scenario("heavy.txt", model="{kind: independent_cascade, edge_prob: edge_weight}"),
     "model", "", {"heavy.txt": "0 1 2.5\n1 2 0.5\n"})
case("edges_unknown_recruit", edgelist_scenario("known.txt", recruits="{rule: explicit, nodes: [42]}"),
     "recruits.nodes", "42", {"known.txt": EDGES})
case("edges_bad_format", edgelist_scenario("f.txt", fmt="csv"), "world.graph.format", "edgelist", {"f.txt": EDGES})

# --- missing and unreadable files
case("missing_edgelist", edgelist_scenario("no_such_file.txt"), "world.graph.path", "no such file")
case("edgelist_is_directory", edgelist_scenario("."), "world.graph.path", "no such file")
case("unknown_dataset", sub(CLASSIC, "{kind: erdos_renyi, n: 200, mean_degree: 3.0}", "{kind: dataset, name: nethep}"),
     "world.graph.name", "unknown dataset")
case("missing_parameters_file", sub(CAMPAIGN, "seed: 1", "seed: 1\nparameters: calibration/fitted/none.yaml"),
     "parameters", "")

# --- self-contradictory scenarios
for old, new, key, msg in [
    ("recruits: {rule: random, count: 2}", "recruits: {rule: random, count: 2, fraction: 0.1}", "recruits",
     "exactly one"),
    ("recruits: {rule: random, count: 2}", "recruits: {rule: random}", "recruits", "exactly one"),
    ("recruits: {rule: random, count: 2}", "", "", "give exactly one of 'recruits'"),
    ("recruits: {rule: random, count: 2}", "recruits: {rule: random, count: 2}\nstrategies: [{name: a, recruits: "
     "{rule: random, count: 1}}]", "", "exactly one"),
    ("mean_degree: 3.0", "mean_degree: 500.0", "world.graph", "exceeds n - 1"),
    ("recruits: {rule: random, count: 2}", "recruits: {rule: random, count: 2}\ncascade_trees: [0]", "",
     "campaign model only"),
    ("recruits: {rule: random, count: 2}", "strategies: [{name: a, recruits: {rule: random, count: 1}}, "
     "{name: a, recruits: {rule: top_degree, count: 1}}]", "", "unique"),
    ("model: {kind: independent_cascade, edge_prob: 0.2}", "model: {kind: campaign}", "", "creator_audience world"),
]:
    case(f"contradiction_{len(CASES)}", sub(CLASSIC, old, new), key, msg)
for old, new, key, msg in [
    ("days: [0]}]\n  - name: mega", "days: [20]}]\n  - name: mega", "", "beyond the horizon"),
    ("tier: mega, platform: instagram", "tier: nano, platform: instagram", "", "not in world.tiers"),
    ("tier: mega, platform: instagram", "tier: mega, platform: tiktok", "", "not in world.platforms"),
    ("rate_card: {instagram: {micro: 300, mega: 20000}}", "rate_card: {instagram: {micro: 300}}", "", "no price"),
    ("share: 1.0", "share: 0.5", "world.audience", "segment shares must sum to 1"),
    ("creators: 3, days: [0]}]\n  - name: mega", "budget: 100, days: [0]}]\n  - name: mega",
     "strategies.0.posts.0.budget", "buys no partner"),
    ("creators: 3, days: [0]}]\n  - name: mega", "creators: 3, budget: 900, days: [0]}]\n  - name: mega", "",
     "exactly one"),
    ("model: {kind: campaign, reshare: 0.1}", "model: {kind: independent_cascade, edge_prob: 0.1}", "",
     "campaign model"),
    ("strategies:", "baseline: nobody\nstrategies:", "", "baseline 'nobody'"),
    ("trials: 4", "trials: 4\ncascade_trees: [9]", "", "is not run"),
    ("strategies:", "sweep: {uncertainties: [{path: model.reshar, levels: [0.1]}]}\nstrategies:",
     "sweep.uncertainties.0.path", "did you mean 'reshare'"),
    ("strategies:", "sweep: {uncertainties: [{path: model.reshare, levels: [0.1, 1.5]}]}\nstrategies:",
     "sweep.uncertainties", "point 1"),
    ("strategies:", "sweep: {design: sobol, samples: 10, uncertainties: [{path: model.reshare, low: 0, high: 0.2}]}\n"
     "strategies:", "sweep", "power of two"),
    ("rate_card: {instagram: {micro: 300, mega: 20000}}", "rate_card: cheapest", "rate_card", "unknown rate card"),
    ("platforms: {instagram: 1.0}, engagement: 0.05", "platforms: {instagram: 0.5}, engagement: 0.05", "", "sum to 1"),
]:
    case(f"contradiction_campaign_{len(CASES)}", sub(CAMPAIGN, old, new), key, msg)

# --- pathological documents: nesting, numbers and tags Python itself chokes on (issue 17, item 6).
# Deep nesting is refused from PyYAML's event stream, before its composer (one recursion per
# level) runs: a few thousand levels used to end in a RecursionError and a traceback.
DEEP = 5000
case("deep_flow_lists", CLASSIC + "extra: " + "[" * DEEP + "]" * DEEP + "\n", "", "at most 64 are allowed")
case("deep_flow_mappings", CLASSIC + "extra: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n", "", "at most 64 are allowed")
case("deep_block_lists", CLASSIC + "extra:\n  " + "- " * DEEP + "1\n", "", "at most 64 are allowed")
case("deep_block_mappings",
     CLASSIC + "extra:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(100)) + " " * 101 + "1\n",
     "", "at most 64 are allowed")
case("deep_in_a_key", sub(CLASSIC, "seed: 1", "seed: 1\n" + "[" * 100 + "]" * 100 + ": 1"), "",
     "at most 64 are allowed")
case("deep_in_a_block", sub(CLASSIC, "model: {kind: independent_cascade, edge_prob: 0.2}",
                             "model: {kind: independent_cascade, edge_prob: " + "[" * 80 + "0.2" + "]" * 80 + "}"),
     "", "at most 64 are allowed")
case("int_5000_digits", sub(CLASSIC, "trials: 10", "trials: " + "9" * 5000), "trials", "out of range")
case("int_hex_5000_digits", sub(CLASSIC, "seed: 1", "seed: 0x" + "f" * 5000), "seed", "out of range")
case("int_past_64_bits", sub(CLASSIC, "n: 200", "n: 36893488147419103232"), "world.graph.n", "64-bit")
case("int_tag_not_a_number", sub(CLASSIC, "seed: 1", "seed: !!int abc"), "seed", "is not an integer")
case("int_only_underscores", sub(CLASSIC, "seed: 1", "seed: 0x_"), "seed", "is not an integer")
case("float_tag_not_a_number", sub(CLASSIC, "edge_prob: 0.2", "edge_prob: !!float abc"), "model.edge_prob",
     "not a number")
case("bool_tag_not_a_bool", sub(CLASSIC, "mean_degree: 3.0}", "mean_degree: 3.0, directed: !!bool maybe}"),
     "world.graph.directed", "true or false")
case("merge_key", sub(CLASSIC, "recruits: {rule: random, count: 2}", "recruits: {<<: {rule: random}, count: 2}"),
     "recruits", "merge key")
case("key_python_tag", sub(CLASSIC, "seed: 1", "seed: 1\n? !!python/name:os.system\n: 1"), "", "tag")
case("key_a_mapping", sub(CLASSIC, "seed: 1", "seed: 1\n? {a: 1}\n: 1"), "", "keys must be names")
# Rich printed ":100:" as an emoji: a problem on line 100 lost its line number.
case("problem_on_line_100", "# padding\n" * 98 + sub(CLASSIC, "seed: 1", "seed: one"), "seed", "valid integer")
case("value_cut_to_a_line", sub(CLASSIC, "name: classic", "name: " + "a" * 5000), "name", "characters)")
# Sizes whose arrays would not fit, or that break the random-number keys, refused when read.
case("days_past_the_key_limit", sub(CAMPAIGN, "days: 14", "days: 16777217"), "days", "16777216")
case("schedule_count_enormous", sub(CAMPAIGN, "days: [0]}]\n  - name: mega",
                                    "schedule: {start: 0, every: 1, count: 1000000000000}}]\n  - name: mega"),
     "", "beyond the horizon")
case("posts_per_day_over_255", sub(CAMPAIGN, "days: [0]}]\n  - name: mega", "days: [" + ", ".join(["0"] * 300)
                                   + "]}]\n  - name: mega"), "strategies.0.posts.0", "at most 255")
case("max_steps_past_int32", sub(CLASSIC, "trials: 10", "trials: 10\nmax_steps: 9223372036854775807"), "max_steps",
     "less than or equal to")
case("followers_past_2_53", sub(CAMPAIGN, "followers: [3000, 4000]", "followers: [3000, 18446744073709551615]"),
     "followers", "less than or equal to")
case("scale_above_every_follower_count", sub(CAMPAIGN, "scale: 10", "scale: 1e308"), "world", "no creator")
case("beta_shape_underflows", sub(CAMPAIGN, "concentration: 4", "concentration: 5e-324"), "world.audience.interest",
     "too small")
case("power_law_support_enormous", sub(CLASSIC, "{kind: erdos_renyi, n: 200, mean_degree: 3.0}",
                                       "{kind: configuration, n: 200, degrees: {kind: power_law, exponent: 2.5, "
                                       "max: 1000000000000000000}}"), "world.graph.degrees.max", "")
case("sobol_design_enormous", sub(CAMPAIGN, "strategies:", "sweep: {design: sobol, samples: 1099511627776, "
                                  "uncertainties: [{path: model.reshare, low: 0, high: 0.2}]}\nstrategies:"),
     "sweep", "at most 1,000,000")
case("factorial_design_enormous", sub(CAMPAIGN, "strategies:", "sweep: {uncertainties: [" + ", ".join(
    f"{{path: model.{k}, levels: [{', '.join(f'0.{i:02d}' for i in range(1, 41))}]}}"
    for k in ("reshare", "fatigue", "dilution", "trust_growth")) + "]}\nstrategies:"), "sweep", "2,560,000 points")
case("strategy_grid_enormous", sub(CAMPAIGN, CAMPAIGN[CAMPAIGN.index("strategies:"):],
                                   "strategy_grid:\n  budgets: [" + ", ".join(str(1000 + i) for i in range(400))
                                   + "]\n  mixes: {m: {micro.instagram: 1.0}}\n  schedules: {"
                                   + ", ".join(f"s{i}: {{days: [0]}}" for i in range(400)) + "}\n"),
     "strategy_grid", "at most 100,000")
case("edges_json_deep", edgelist_scenario("deep.json", fmt="json"), "world.graph.path", "nested too deeply",
     {"deep.json": '{"edges": ' + "[" * DEEP + "]" * DEEP + "}"})
case("edges_json_long_number", edgelist_scenario("long_number.json", fmt="json"), "world.graph.path", "4,300 digits",
     {"long_number.json": '{"edges": [[' + "9" * 5000 + ", 1]]}"})
case("edgelist_name_too_long", edgelist_scenario("a" * 300 + ".txt"), "world.graph.path", "cannot be read")


# --- the planner's roster (world.creators.roster): every problem located as creators.csv:line:column
ROSTER_WORLD = CAMPAIGN.replace(
    "    micro: {followers: [1000, 3000], count: 10, platforms: {instagram: 1.0}, engagement: 0.1, trust: 0.5}\n"
    "    mega: {followers: [3000, 4000], count: 2, platforms: {instagram: 1.0}, engagement: 0.05, trust: 0.3}\n",
    "    micro: {followers: [1000, 3000], engagement: 0.1, trust: 0.5}\n"
    "    mega: {followers: [3000, 4000], engagement: 0.05, trust: 0.3}\n"
    "  creators: {roster: ROSTER}\n").replace("creators: 3, days", "creators: 1, days")
assert "ROSTER" in ROSTER_WORLD
GOOD_ROSTER = "handle,platform,followers,price_per_post\n@a,instagram,1500,100\n@b,instagram,3500,900\n"
for name, content, message in [
    ("roster_duplicate", GOOD_ROSTER + "@a,instagram,2000,120\n", ".csv:4:1: handle: '@a' appears twice"),
    ("roster_negative", GOOD_ROSTER.replace("1500,100", "-1500,100"), ".csv:2:14: followers: must be"),
    ("roster_missing_number", GOOD_ROSTER.replace("3500,900", "3500,"), ".csv:3:19: price_per_post: is empty"),
    ("roster_unknown_platform", GOOD_ROSTER.replace("@b,instagram", "@b,tiktok"),
     ".csv:3:4: platform: unknown platform 'tiktok'"),
    ("roster_not_utf8", GOOD_ROSTER.encode().replace(b"@b", b"@\xe9"), ".csv:3:2: not UTF-8 text"),
    ("roster_missing_column", "handle,platform,followers\n@a,instagram,1500\n", "missing required column"),
    ("roster_no_tier", GOOD_ROSTER.replace("3500,900", "9000,900"), ".csv:3:14: followers: 9,000 is in no"),
    ("roster_empty", "", "the roster is empty"),
]:
    file = f"{name}.csv"
    case(name, ROSTER_WORLD.replace("ROSTER", file), "world.creators.roster", message, {file: content})
case("roster_missing_file", ROSTER_WORLD.replace("ROSTER", "nobody.csv"), "world.creators.roster", "no such file")
case("roster_with_counts", ROSTER_WORLD.replace("ROSTER", "good.csv").replace(
    "micro: {followers: [1000, 3000],", "micro: {followers: [1000, 3000], count: 3,"), "world",
     "with a roster the creators come from the file", {"good.csv": GOOD_ROSTER})
case("max_partners_below_creators", CAMPAIGN.replace("  - name: micro\n", "  - name: micro\n    max_partners: 2\n"),
     "strategies.0", "more than max_partners")
case("optimize_without_budget", CAMPAIGN + "optimize: {schedules: {burst: {days: [0]}}}\n", "",
     "optimize: give 'budget'")
case("optimize_budget_buys_nobody", CAMPAIGN + "optimize: {budget: 50, schedules: {burst: {days: [0]}}}\n",
     "optimize", "buys no partner in any cell")
case("roster_followers_past_2_53", ROSTER_WORLD.replace("ROSTER", "huge.csv"), "world.creators.roster",
     ".csv:3:14: followers: must be a whole number <= 9,007,199,254,740,992",
     {"huge.csv": GOOD_ROSTER.replace("3500,900", "18446744073709551616,900")})


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for old in HERE.iterdir():
        old.unlink()
    index = {}
    for i, (name, text, key, message, extra) in enumerate(CASES):
        file = f"{i:03d}_{name}.yaml"
        data = text if isinstance(text, bytes) else text.encode()
        (HERE / file).write_bytes(data)
        for other, content in extra.items():
            (HERE / other).write_bytes(content if isinstance(content, bytes) else content.encode())
        index[file] = {"key": key, "message": message}
    (HERE / "cases.yaml").write_text(
        "# The malformed-input corpus: file -> what its first error line must contain (make_corpus.py).\n"
        + yaml.safe_dump(index, sort_keys=True, allow_unicode=True))
    print(f"{len(CASES)} cases written to {HERE}")


if __name__ == "__main__":
    main()
