"""Named rate cards: USD per post by platform and creator tier, each with its source.

A scenario's ``rate_card`` is a mapping ``platform -> tier -> USD`` or the name of one of these
cards (the card's prices are then written into the resolved scenario and its manifest). Price is
a parameter of every result, so the cards make a planner's question explicit: "which prices?".

Tiers here are the model's (nano 1k-10k, micro 10k-100k, macro 100k-1M, mega 1M-10M followers, and
celebrity, 10M-500M followers); sources use five bands, so the model's macro tier spans their "mid"
and "macro" bands and takes the lower end of their macro range. Rate cards stop at "mega $10,000+";
a real celebrity's fee comes from the source article or from reported celebrity fees (below).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class RateCard:
    """USD per post by platform and tier.

    Attributes
    ----------
    name : str
        How scenarios name it.
    prices : mapping
        ``platform -> tier -> USD per post`` (sponsored post, organic distribution).
    source : str
        Where the numbers come from, and how ranges were turned into one price.
    """

    name: str
    prices: Mapping[str, Mapping[str, float]]
    source: str

    def as_dict(self) -> dict[str, dict[str, float]]:
        """A plain, mutable copy of the prices (what a scenario holds)."""
        return {platform: dict(tiers) for platform, tiers in self.prices.items()}


def _card(name: str, source: str, prices: dict[str, dict[str, float]]) -> RateCard:
    frozen = MappingProxyType({p: MappingProxyType(dict(t)) for p, t in prices.items()})
    return RateCard(name, frozen, source)


_INDUSTRY = {
    "instagram": {"nano": 55.0, "micro": 300.0, "macro": 5_000.0, "mega": 20_000.0},
    "tiktok": {"nano": 15.0, "micro": 75.0, "macro": 1_250.0, "mega": 2_500.0},
    "youtube": {"nano": 110.0, "micro": 600.0, "macro": 10_000.0, "mega": 20_000.0},
    "x": {"nano": 11.0, "micro": 110.0, "macro": 2_000.0, "mega": 4_000.0},
}

#: A real celebrity's fee per Instagram post (10M-500M followers; docs/model.md §7.10): between the
#: "$10 per 1,000 followers" rule of thumb (inBeat 2024) at the tier's geometric middle (~70M
#: followers: $707k) and the reported top fees (Dwayne Johnson ~$1.5M per post at ~390M followers,
#: inBeat 2024: ~$4 per 1,000, i.e. $280k at 70M); literature notes §1.5. No card gives a
#: celebrity price off Instagram.
CELEBRITY_INSTAGRAM = 500_000.0

INDUSTRY_MIDPOINT = _card(
    "industry_midpoint",
    "Midpoints of the most-quoted rate card (Influencer Marketing Hub, 'Influencer rates' guide, "
    "repeated by reach-influencers.com 2021 and wordontheblock.com 2023): Instagram nano $10-100, "
    "micro $100-500, mid $500-5,000, macro $5,000-10,000, mega $10,000+; TikTok $5-25, $25-125, "
    "$125-1,250, $1,250-2,500, $2,500+; YouTube $20-200, $200-1,000, $1,000-10,000, "
    "$10,000-20,000, $20,000+; X $2-20, $20-200, $200-2,000, $2,000-4,000, $4,000+ (X figures "
    "unverified). Macro (100k-1M) takes the low end of the sources' macro band; mega takes twice "
    "the open-ended floor on Instagram (entry-level mega; true celebrities cost far more, see "
    "'source_article') and the floor elsewhere. Celebrity (10M-500M followers, Instagram only): $500,000, "
    "between the '$10 per 1,000 followers' rule of thumb (inBeat 2024) at the tier's geometric middle "
    "(~70M followers: $707k) and the reported top fees (Dwayne Johnson ~$1.5M at ~390M followers: ~$4 per "
    "1,000, $280k at 70M). LinkedIn has no public card.",
    {**_INDUSTRY, "instagram": {**_INDUSTRY["instagram"], "celebrity": CELEBRITY_INSTAGRAM}})


def _source(micro: float, mega: float) -> dict[str, dict[str, float]]:
    # The article's celebrity fee is for a real celebrity (tier 'celebrity'); it is also kept on
    # 'mega', which stood in for the celebrity before the model had one.
    return {p: {**t, "micro": micro, "mega": mega, "celebrity": mega} for p, t in _INDUSTRY.items()}


SOURCE_ARTICLE = _card(
    "source_article",
    "The source article (JCI Worldwide blog, 'The Evolution from Celebrity Endorsements to "
    "Micro-Influencer Partnerships in Advocacy Campaigns', 2024): micro-influencers 'typically "
    "charge between $2,000 and $8,000 per post' (here the midpoint, $5,000, on every platform) "
    "and celebrity endorsements 'command hundreds of thousands to millions of dollars' (here "
    "$500,000 per post, near the geometric middle of $100k-$3M), on the 'celebrity' tier and, as before the "
    "model had real celebrities, on 'mega'. The article gives no nano or "
    "macro price: those are the industry midpoints. Its micro price is 4-80x every published "
    "rate card and could not be traced to a primary source.",
    _source(5_000.0, 500_000.0))

SOURCE_ARTICLE_LOW = _card(
    "source_article_low", "The source article's lower ends: micro $2,000, celebrity $100,000; "
    "nano and macro as 'industry_midpoint'.", _source(2_000.0, 100_000.0))

SOURCE_ARTICLE_HIGH = _card(
    "source_article_high", "The source article's upper ends: micro $8,000, celebrity $2,000,000 "
    "('millions'); nano and macro as 'industry_midpoint'.", _source(8_000.0, 2_000_000.0))

#: Every named card, by name.
RATE_CARDS: Mapping[str, RateCard] = MappingProxyType(
    {c.name: c for c in (INDUSTRY_MIDPOINT, SOURCE_ARTICLE, SOURCE_ARTICLE_LOW, SOURCE_ARTICLE_HIGH)})
