"""A Sketchfab-shaped synthetic likes dataset with known ground truth.

The real crawl (rec-a-sketch's ``model_likes_anon.psv`` and ``model_feats.psv``) is not
redistributable, so tests, CI and the committed sample run on data made here. The
generator plants structure a recommender can learn and a notebook can check:

* **Topics** shared by users and models (``characters``, ``cars``, ``cultural heritage``,
  ``low poly``, ... and a ``tiltbrush`` topic), of uneven sizes. Each model has one
  topic (its ground truth); each user likes one to a few topics, with weights.
* **Niches** nest inside topics: each topic is cut into niches of about ``niche_size``
  models (a kind of sketch, an era of cars), and a user follows ``user_niches`` niches
  in each of the user's topics. Some models (``second_topic_share``) also belong to a
  second topic and one of its niches, so tastes overlap. Niches make the taste space
  far richer than the topics alone: a few components capture the topics, not the
  niches.
* **Likes.** A user's number of likes is heavy-tailed (most users are casual and fall
  below the 5-like threshold). Each like comes, with probability ``topic_share``, from
  the user's tastes: a topic is picked by the user's weights, then with probability
  ``niche_share`` one of the user's niches in it, and a model in proportion to its
  popularity within that niche (or within the whole topic). Otherwise the like is
  taste-free, drawn from the global popularity. Popularity is log-normal, so a few
  models take most likes. Repeated (user, model) draws are collapsed and
  ``n_duplicates`` exact duplicate rows are planted, as in the crawl.
* **Features.** Zero to two Sketchfab categories per model (mostly its topic's), and
  tags: topic tags, tags common to all topics (``blender``, ``lowpoly``, ...) and a long
  tail of rare tags. A topic tag names the model's own topic only with probability
  ``tag_fidelity`` (otherwise another topic's), tags say nothing of niches, and a share
  ``untagged_share`` of models has no tags at all: tags are a noisy, coarse view of
  taste. Every ``tiltbrush`` model carries the tag ``tiltbrush``, and no other does.
* **Names and ids.** Readable model names built from the topic's word lists (a few hold
  ``|``, quotes or backslashes, and one is ``NA``, to exercise the readers) and
  32-character lowercase hex ids.

:func:`make_sketchfab_like` returns the frames and the truth; :func:`write_dataset`
writes the two psv files and ``ground_truth.psv``; :func:`dataset_stats` measures what
the posts report. ``preset="full"`` matches the posts' raw and thresholded statistics
(see :data:`REFERENCE_STATS`), and its structure (niches, overlap, tag noise) is fitted
by :mod:`recasketch.calibration` so that ALS, WARP and WARP with tags score near the
posts' figures at the posts' settings (``make calibrate``; the report is in
``data/calibration/``). ``preset="sample"`` is the small committed ``data/sample``.

Command line::

    python -m recasketch.synthetic --preset sample --out data/sample
    python -m recasketch.synthetic --preset full --stats
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import ndtri

from . import config
from ._utils import check_random_state
from .preprocess import build_item_features, interaction_stats, threshold_interactions

__all__ = [
    "CATEGORIES",
    "PRESETS",
    "REFERENCE_STATS",
    "Preset",
    "SyntheticData",
    "TOPICS",
    "dataset_stats",
    "format_stats",
    "make_sketchfab_like",
    "topic_feature_keys",
    "write_dataset",
]

#: The psv dialect of the crawl; pass to ``DataFrame.to_csv``. Read it back with
#: ``pd.read_csv(path, sep="|", quoting=csv.QUOTE_MINIMAL, quotechar="\\",
#: keep_default_na=False)``.
PSV_WRITE_OPTIONS = dict(
    sep="|", index=False, quoting=csv.QUOTE_MINIMAL, escapechar="\\", quotechar="\\"
)

#: Sketchfab's model categories, as they appear in ``model_feats.psv``.
CATEGORIES = (
    "Animals",
    "Architecture",
    "Art & Abstract",
    "Characters",
    "Cultural Heritage",
    "Electronics & Gadgets",
    "Fashion & Style",
    "Food & Drink",
    "Furniture & Home",
    "Music",
    "Nature & Plants",
    "News & Politics",
    "People",
    "Places & Scenes",
    "Science, Nature & Education",
    "Sports & Fitness",
    "Vehicles",
    "Weapons",
)


class _Topic(NamedTuple):
    name: str
    category: str
    weight: float  # relative share of models and of users' interest
    tags: tuple  # topic-specific tags, most frequent first
    adjectives: tuple  # words for model names
    nouns: tuple


def _t(name, category, weight, tags, adjectives, nouns) -> _Topic:
    return _Topic(name, category, weight, tuple(tags.split()), tuple(adjectives.split(",")),
                  tuple(nouns.split(",")))


#: The topics shared by users and models: name, Sketchfab category, relative size,
#: tags and the words model names are built from.
TOPICS = (
    _t("characters", "Characters", 10.0,
       "character characterdesign fantasy stylized hero girl warrior rigged handpainted portrait",
       "Stylized,Fantasy,Young,Old,Dark,Armored,Heroic,Wandering,Royal,Cute",
       "Warrior,Knight,Elf,Wizard,Girl,Boy,Hero,Samurai,Pirate,Ninja,Princess,Ranger"),
    _t("creatures", "Characters", 6.0,
       "creature monster dragon demon fantasy sculpt zbrush beast alien",
       "Ancient,Horned,Swamp,Fire,Ice,Shadow,Giant,Winged,Rotting,Crystal",
       "Dragon,Troll,Demon,Goblin,Orc,Beast,Golem,Wyvern,Ghoul,Imp,Hydra"),
    _t("anime", "Characters", 4.0,
       "anime manga mmd chibi toon cel vocaloid kawaii",
       "Chibi,Magical,School,Idol,Cel-Shaded,Kawaii,Neon,Sleepy",
       "Girl,Schoolgirl,Mecha Pilot,Catgirl,Idol,Swordsman,Miku,Senpai"),
    _t("robots", "Characters", 4.0,
       "robot mech mecha droid android cyborg hardsurface",
       "Rusty,Battle,Tiny,Heavy,Scout,Combat,Retro,Broken",
       "Robot,Mech,Droid,Android,Cyborg,Walker,Bot,Automaton"),
    _t("cars", "Vehicles", 7.0,
       "car vehicle automotive sportscar racing classiccar truck supercar wheels",
       "Vintage,Sports,Rusty,Police,Classic,Muscle,Rally,Electric,Custom,Old",
       "Car,Truck,Pickup,Coupe,Sedan,Roadster,Van,Taxi,Jeep,Hatchback,Bus"),
    _t("aircraft", "Vehicles", 3.5,
       "aircraft airplane plane jet helicopter aviation ww2 fighter",
       "WW2,Fighter,Cargo,Stealth,Vintage,Passenger,Rescue,Light",
       "Plane,Jet,Bomber,Helicopter,Glider,Biplane,Seaplane,Drone"),
    _t("spaceships", "Vehicles", 4.0,
       "spaceship spacecraft starship space scifi fighter cruiser",
       "Star,Deep Space,Interceptor,Imperial,Rebel,Scout,Cargo,Mining",
       "Spaceship,Starfighter,Cruiser,Shuttle,Frigate,Dropship,Freighter"),
    _t("ships", "Vehicles", 2.5,
       "ship boat sailing pirate navy vessel",
       "Pirate,Fishing,Old,Wooden,Viking,Steam,Navy,Tall",
       "Ship,Boat,Galleon,Schooner,Tugboat,Longship,Yacht,Submarine"),
    _t("sci-fi", "Places & Scenes", 5.0,
       "scifi futuristic cyberpunk hardsurface concept spacestation",
       "Sci-Fi,Futuristic,Cyberpunk,Abandoned,Orbital,Neon,Alien",
       "Corridor,Station,Helmet,Crate,Console,Reactor,Door,City,Outpost"),
    _t("architecture", "Architecture", 7.0,
       "architecture building house archviz city tower modern bridge",
       "Modern,Victorian,Small,Tall,Brick,Concrete,Glass,Wooden,Country",
       "House,Villa,Tower,Church,Bridge,Cabin,Skyscraper,Apartment,Barn,Station"),
    _t("interiors", "Furniture & Home", 3.5,
       "interior room archviz kitchen livingroom bedroom lighting",
       "Cozy,Modern,Minimal,Scandinavian,Loft,Rustic,Bright",
       "Living Room,Kitchen,Bedroom,Bathroom,Office,Studio,Hall,Cafe"),
    _t("furniture", "Furniture & Home", 3.0,
       "furniture chair table sofa lamp wood design",
       "Wooden,Leather,Office,Antique,Designer,Folding,Oak,Velvet",
       "Chair,Table,Sofa,Lamp,Desk,Shelf,Bench,Armchair,Stool,Cabinet"),
    _t("cultural heritage", "Cultural Heritage", 7.0,
       "photogrammetry culturalheritage heritage history museum statue monument "
       "3dscan church castle",
       "Medieval,Roman,Gothic,Baroque,Ruined,Ancient,Romanesque,Restored",
       "Statue,Chapel,Castle,Monument,Altar,Cross,Tomb,Facade,Fountain,Bust,Relief"),
    _t("archaeology", "Cultural Heritage", 4.0,
       "archaeology artifact pottery museum excavation prehistoric ceramic",
       "Neolithic,Bronze Age,Etruscan,Egyptian,Greek,Inca,Celtic,Mayan",
       "Vase,Amphora,Axe,Figurine,Skull,Coin,Tablet,Bowl,Arrowhead,Mask"),
    _t("animals", "Animals", 5.0,
       "animal animals wildlife pet cat dog bird fish",
       "Little,Wild,Sleeping,Running,Arctic,Jungle,Baby,Spotted",
       "Fox,Wolf,Cat,Dog,Bear,Owl,Deer,Rabbit,Horse,Shark,Tiger,Whale"),
    _t("dinosaurs", "Science, Nature & Education", 2.0,
       "dinosaur fossil paleontology skeleton jurassic prehistoric",
       "Jurassic,Cretaceous,Fossil,Feathered,Juvenile,Giant",
       "T-Rex,Raptor,Triceratops,Stegosaurus,Skeleton,Brachiosaurus,Skull"),
    _t("weapons", "Weapons", 6.0,
       "weapon gun sword rifle pistol gameasset knife shield",
       "Medieval,Sci-Fi,Rusty,Tactical,Elven,Bloody,Ornate,Plasma",
       "Sword,Rifle,Pistol,Axe,Shotgun,Dagger,Bow,Hammer,Katana,Shield,Revolver"),
    _t("military", "Weapons", 3.0,
       "military tank army ww2 soldier vehicle",
       "WW2,Desert,Soviet,Armored,Heavy,Modern,Camouflaged",
       "Tank,Jeep,Howitzer,Bunker,Soldier,Humvee,Halftrack,APC"),
    _t("low poly", "Art & Abstract", 6.0,
       "lowpolyart flatshading polyart isometric minimal simple cute",
       "Low Poly,Low-Poly,Tiny,Flat,Isometric,Simple,Cute,Polygon",
       "Fox,Tree,Island,House,Island Scene,Car,Well,Campfire,Windmill,Boat,Castle"),
    _t("voxel", "Art & Abstract", 2.5,
       "voxel magicavoxel pixelart minecraft cube 8bit",
       "Voxel,Pixel,Blocky,Tiny,8-Bit,Cubic",
       "Castle,Tree,House,Character,Island,Dungeon,Ship,Temple"),
    _t("tiltbrush", "Art & Abstract", 2.0,
       "vr painting virtualreality htcvive sketch 3dpainting googletiltbrush",
       "Tilt Brush,VR,Quick,Glowing,Neon,Live",
       "Sketch,Painting,Doodle,Portrait,Scene,Study,Drawing"),
    _t("abstract art", "Art & Abstract", 3.0,
       "abstract art digitalart surreal generative experimental",
       "Abstract,Surreal,Twisted,Fractal,Generative,Broken,Liquid",
       "Shape,Sculpture,Form,Composition,Knot,Flow,Study,Structure"),
    _t("sculpture", "Art & Abstract", 4.0,
       "sculpture sculpt zbrush digitalsculpting bust sculptjanuary",
       "Digital,Speed,Clay,Marble,Bronze,Expressive,Daily",
       "Bust,Head,Sculpt,Figure,Torso,Study,Portrait"),
    _t("game environments", "Places & Scenes", 5.0,
       "gameenvironment environment unity unrealengine level diorama gameart",
       "Medieval,Haunted,Forest,Desert,Dungeon,Floating,Cozy,Ruined",
       "Village,Tavern,Dungeon,Temple,Island,Camp,Ruins,Shrine,Market,Diorama"),
    _t("landscapes", "Places & Scenes", 3.0,
       "landscape terrain mountain drone map gis aerial",
       "Alpine,Volcanic,Coastal,Canyon,Glacial,Aerial,Rocky",
       "Terrain,Mountain,Valley,Island,Quarry,Cliff,Crater,Coastline"),
    _t("science", "Science, Nature & Education", 3.0,
       "science anatomy medical education biology molecule human",
       "Human,Cross-Section,Medical,Molecular,Cellular,Animated",
       "Heart,Skull,Brain,Cell,Molecule,Skeleton,Eye,Tooth,Virus,Lung"),
    _t("minerals", "Science, Nature & Education", 1.5,
       "mineral rock geology crystal gem stone",
       "Raw,Polished,Rough,Volcanic,Crystal,Banded",
       "Quartz,Geode,Rock,Agate,Amethyst,Meteorite,Specimen,Pebble"),
    _t("electronics", "Electronics & Gadgets", 3.0,
       "electronics gadget phone computer camera retro device",
       "Retro,Vintage,Modern,Old,Portable,Handheld,Broken",
       "Phone,Camera,Radio,Computer,Console,Headphones,Speaker,Keyboard,Tablet,TV"),
    _t("food", "Food & Drink", 2.0,
       "food drink fruit cake photogrammetry bread",
       "Fresh,Delicious,Chocolate,Baked,Sliced,Scanned,Ripe",
       "Cake,Burger,Apple,Donut,Pizza,Bread,Croissant,Banana,Coffee Cup,Sushi"),
    _t("music", "Music", 1.5,
       "music instrument guitar piano drum audio",
       "Electric,Acoustic,Old,Vintage,Classic,Custom",
       "Guitar,Piano,Violin,Drum Kit,Trumpet,Amplifier,Synthesizer,Microphone"),
    _t("politics", "News & Politics", 0.7,
       "politics news election protest president",
       "Political,Election,Protest,Presidential,Campaign",
       "Poster,Podium,Caricature,Banner,Ballot Box,Statue"),
    _t("sports", "Sports & Fitness", 1.5,
       "sport sports football basketball fitness skateboard",
       "Pro,Street,Classic,Team,Training,Olympic",
       "Ball,Sneaker,Skateboard,Bike,Helmet,Trophy,Racket,Dumbbell"),
    _t("fashion", "Fashion & Style", 2.0,
       "fashion clothing shoes dress jewelry marvelousdesigner",
       "Summer,Leather,Silk,Elegant,Casual,Vintage,Designer",
       "Dress,Jacket,Shoe,Boot,Ring,Handbag,Hat,Necklace,Jeans"),
    _t("plants", "Nature & Plants", 2.5,
       "plant tree nature flower grass foliage speedtree",
       "Old,Young,Autumn,Tropical,Blooming,Dead,Potted,Twisted",
       "Tree,Oak,Palm,Flower,Bush,Fern,Cactus,Mushroom,Pine,Rose"),
    _t("people", "People", 3.0,
       "people 3dscan portrait human face photogrammetry selfie",
       "Scanned,Smiling,Young,Old,Bearded,Posing,Dancing",
       "Man,Woman,Portrait,Face,Head Scan,Dancer,Self Portrait,Couple"),
)

#: Tags used across all topics (software, technique, licence, ...), most frequent first.
COMMON_TAGS = (
    "blender", "lowpoly", "3d", "model", "game", "free", "substancepainter", "maya", "3dsmax",
    "zbrush", "photogrammetry", "gameready", "pbr", "texture", "cinema4d", "unity", "sketchup",
    "render", "modeling", "3dprint", "animation", "props", "realistic", "sculpting", "cartoon",
    "art", "design", "asset", "vr", "scan", "print", "handpainted", "old", "wood", "metal",
    "stylized", "fantasy", "scifi", "medieval", "cute", "test", "wip", "challenge", "dae",
)

_SYLLABLES = (
    "ka ri to mo ne la zu vi sa ko ta ru mi en an or el ar in us ix qu be do fa ga "
    "he ju lo ny pe sy we xo ze bra cro dre fli glo kri pla sto tru vel mar dan sel "
    "tor gen hal wyn bor"
).split()

_TILTBRUSH_TAG = "tiltbrush"


def topic_feature_keys() -> dict[str, frozenset]:
    """The generator's truth about tags: each topic-specific tag's feature key
    (``'tag_<tag>'``, as :func:`recasketch.preprocess.feature_keys` spells it) and the
    topics whose own tags include it. Common and long-tail tags belong to no topic and
    are absent.

    Examples
    --------
    >>> keys = topic_feature_keys()
    >>> sorted(keys["tag_tiltbrush"]), sorted(keys["tag_fantasy"])
    (['tiltbrush'], ['characters', 'creatures'])
    """
    out: dict[str, set] = {f"tag_{_TILTBRUSH_TAG}": {_TILTBRUSH_TAG}}
    for topic in TOPICS:
        for tag in topic.tags:
            out.setdefault(f"tag_{tag.lower()}", set()).add(topic.name)
    return {key: frozenset(topics) for key, topics in out.items()}


@dataclass(frozen=True)
class Preset:
    """Parameters of one generator preset.

    Attributes
    ----------
    n_users : int
        Users drawn; every one likes at least one model, so all appear in the likes.
    n_models : int
        Models drawn; only those liked at least once appear in the files.
    activity_median, activity_sigma : float
        A user draws ``1 + floor(X)`` likes with ``X`` log-normal of this median and
        shape (before repeated draws collapse), capped at ``max_activity``.
    max_activity : int
        Most draws one user makes.
    popularity_sigma, popularity_floor : float
        A model's popularity is ``popularity_floor + Y`` with ``Y`` log-normal of median
        1 and this shape: a heavy head of hits over a floor that keeps most models
        above the 5-like threshold.
    topic_share : float
        Probability that a like comes from one of the user's topics; the rest is noise
        drawn from the global popularity.
    extra_topics_mean : float
        Users like ``1 + Poisson(extra_topics_mean)`` topics (at most 8).
    topic_concentration : float
        Dirichlet concentration of a user's weights over its topics.
    topic_size_sigma : float
        Log-normal jitter of the topic sizes around :data:`TOPICS`' weights.
    niche_size : float
        Mean number of models per niche: each topic is cut into
        ``round(models in topic / niche_size)`` niches (at least one), narrower tastes
        within it (the kind of ``tiltbrush`` sketch, the era of ``cars``).
    niche_share : float
        Share of a user's on-topic likes that go to the user's own niches of that topic;
        the rest are drawn from the whole topic.
    user_niches : int
        Niches a user follows in each of the user's topics.
    second_topic_share : float
        Share of models that also belong to a second topic (and one of its niches): they
        can be drawn from either, so tastes overlap.
    category_probs : tuple of float
        Probabilities of 0, 1 and 2 categories on a model.
    own_category_prob : float
        Probability that a model's first category is its topic's category.
    tags_mean : float
        Mean number of tag draws per model (negative binomial, overdispersed).
    topic_tag_share, common_tag_share : float
        Shares of tag draws taken from the model's topic tags and from
        :data:`COMMON_TAGS`; the rest come from the long tail.
    tail_vocab : int
        Size of the long-tail tag vocabulary.
    tail_exponent, tail_offset : float
        The ``r``-th tail tag is drawn in proportion to ``(r + tail_offset) ** -tail_exponent``
        (Zipf-Mandelbrot): a larger exponent gives fewer distinct tags, the offset keeps
        the tail's head below the common tags.
    tag_case_share : float
        Share of tags written with a capital first letter (``Lowpoly``); the post's
        feature key lower-cases them.
    n_duplicates : int
        Exact duplicate rows planted in the likes file.
    tag_fidelity : float
        Probability that a topic-tag draw takes the model's own topic's tags; otherwise
        it takes another topic's (picked by topic size): a ``dragon`` on a car.
    untagged_share : float
        Share of models whose uploader wrote no tags at all; the others carry
        ``tags_mean / (1 - untagged_share)`` tag draws on average, so the total is kept.
    """

    n_users: int
    n_models: int
    activity_median: float
    activity_sigma: float
    max_activity: int
    popularity_sigma: float
    popularity_floor: float
    topic_share: float
    extra_topics_mean: float
    topic_concentration: float
    topic_size_sigma: float
    niche_size: float
    niche_share: float
    user_niches: int
    second_topic_share: float
    category_probs: tuple
    own_category_prob: float
    tags_mean: float
    topic_tag_share: float
    common_tag_share: float
    tail_vocab: int
    tail_exponent: float
    tail_offset: float
    tag_case_share: float
    n_duplicates: int
    tag_fidelity: float = 1.0
    untagged_share: float = 0.0


# The sample's parameters; the full preset differs from them only where it says.
_SAMPLE = Preset(
    n_users=2_800,
    n_models=1_300,
    activity_median=3.0,
    activity_sigma=1.55,
    max_activity=400,
    popularity_sigma=1.6,
    popularity_floor=1.5,
    topic_share=0.85,
    extra_topics_mean=0.6,
    topic_concentration=1.0,
    topic_size_sigma=0.3,
    niche_size=40.0,
    niche_share=0.5,
    user_niches=2,
    second_topic_share=0.2,
    category_probs=(0.08, 0.77, 0.15),
    own_category_prob=0.85,
    tags_mean=5.8,
    topic_tag_share=0.35,
    common_tag_share=0.2,
    tail_vocab=4_000,
    tail_exponent=1.06,
    tail_offset=50.0,
    tag_case_share=0.02,
    n_duplicates=12,
    tag_fidelity=0.8,
    untagged_share=0.1,
)

#: The named presets. ``"full"`` has the posts' statistics (within 5 % of
#: :data:`REFERENCE_STATS`) and a structure fitted by :mod:`recasketch.calibration` so
#: that ALS and default WARP score near the posts' figures at the posts' settings
#: (``make calibrate``; the report, with how far each figure is from the post's, is
#: ``data/calibration/report.md``). ``"sample"`` is the committed ``data/sample``: small
#: enough for CI (about 20k likes), with more likes per user, a flatter popularity and
#: broader niches than ``"full"``, so that even at this size ALS clearly beats a
#: popularity ranking; its figures are for CI, not for comparison with the posts'.
PRESETS = {
    "sample": _SAMPLE,
    "full": replace(
        _SAMPLE,
        n_users=62_583,
        n_models=28_820,
        # sizes: re-solved for the posts' 5/5 users, likes and models (calibration.match_statistics)
        activity_median=0.7371,
        activity_sigma=2.495,
        max_activity=3_000,
        popularity_floor=1.406,
        # structure: fitted to the posts' p@5 figures by `make calibrate` (data/calibration/)
        popularity_sigma=1.774,
        topic_share=0.9544,
        extra_topics_mean=0.9534,
        niche_size=155.8,
        niche_share=0.9208,
        user_niches=3,
        second_topic_share=0.4236,
        # tags: noisier than the sample's, and measured (not searched) by the calibration report
        tail_vocab=60_000,
        n_duplicates=155,
        tags_mean=5.6,
        tag_fidelity=0.6,
        untagged_share=0.3,
    ),
}

#: The posts' statistics of the real crawl (REFERENCE.md); ``None`` where not published.
REFERENCE_STATS = {
    "raw_users": 62_583,
    "raw_models": 28_806,
    "raw_likes": None,
    "duplicates": 155,
    "raw_sparsity": 0.035,
    "users": 15_274,
    "models": 25_655,
    "likes": 547_477,
    "sparsity": 0.140,
    "feature_keys": 20_352,
    "feature_nnz": 161_510,
}

_STAT_LABELS = {
    "raw_users": "raw users",
    "raw_models": "raw models",
    "raw_likes": "raw likes (deduplicated)",
    "duplicates": "duplicate rows",
    "raw_sparsity": "raw sparsity (%)",
    "users": "5/5 users",
    "models": "5/5 models",
    "likes": "5/5 likes",
    "sparsity": "5/5 sparsity (%)",
    "feature_models": "item features: rows",
    "feature_keys": "item features: keys",
    "feature_nnz": "item features: stored",
}


class SyntheticData(NamedTuple):
    """A generated dataset and its ground truth.

    Attributes
    ----------
    likes : pandas.DataFrame
        Columns ``modelname``, ``mid``, ``uid``: the likes file as written, exact
        duplicate rows included.
    features : pandas.DataFrame
        Columns ``mid``, ``type``, ``value``; ``type`` is ``"category"`` or ``"tag"``.
    model_topics : pandas.DataFrame
        Columns ``mid``, ``topic``: the one true topic of every model in ``likes``.
    user_topics : pandas.DataFrame
        Columns ``uid``, ``topic``, ``weight``: each user's topics (one or more rows per
        user), weights summing to about 1 per user.
    topics : tuple of str
        The topic names.
    preset : str
        The preset the data was made with.
    """

    likes: pd.DataFrame
    features: pd.DataFrame
    model_topics: pd.DataFrame
    user_topics: pd.DataFrame
    topics: tuple
    preset: str


def _get_preset(preset) -> Preset:
    if isinstance(preset, Preset):
        return preset
    try:
        return PRESETS[preset]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown preset {preset!r}; choose one of {sorted(PRESETS)}."
        ) from None


def _hex_ids(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct 32-character lowercase hex ids drawn from ``rng``."""
    ids = np.empty(0, dtype=object)
    while len(ids) < n:
        raw = rng.bytes(16 * (n - len(ids))).hex()
        new = np.array([raw[i:i + 32] for i in range(0, len(raw), 32)], dtype=object)
        ids = pd.unique(np.concatenate([ids, new]))
    return np.asarray(ids, dtype=object)


def _stratified_normal(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` standard normal draws, one from each of ``n`` equal-probability strata, in
    random order: the sample's spread (and so the heavy tail's total) barely depends on
    the seed."""
    return ndtri((rng.permutation(n) + rng.random(n)) / n)


def _pick(choices, index) -> np.ndarray:
    return np.asarray(choices, dtype=object)[index]


def _model_names(topic_of: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Readable names from each model's topic words: "Low Poly Fox", "Tilt Brush Sketch 12"."""
    n = len(topic_of)
    names = np.empty(n, dtype=object)
    pattern = rng.choice(4, size=n, p=[0.55, 0.2, 0.15, 0.1])
    u_adj, u_noun, number = rng.random(n), rng.random(n), rng.integers(1, 100, size=n)
    for t, topic in enumerate(TOPICS):
        rows = np.flatnonzero(topic_of == t)
        adj = _pick(topic.adjectives, (u_adj[rows] * len(topic.adjectives)).astype(int))
        noun = _pick(topic.nouns, (u_noun[rows] * len(topic.nouns)).astype(int))
        num = number[rows].astype(str).astype(object)
        p = pattern[rows]
        names[rows] = np.where(
            p == 0, adj + " " + noun,
            np.where(p == 1, adj + " " + noun + " " + num,
                     np.where(p == 2, noun + " " + num, noun)),
        )
    return names


# Names that exercise the readers' quoting: the separator, quotes, backslashes, "NA".
_ODD_NAMES = (
    "Sword | Low Poly",
    "Castle|Ruins (scan)",
    '"Old Mill" Photogrammetry',
    "Ship's Wheel",
    "Floor Plan A\\B",
    "Trailing Backslash \\",
    "NA",
)


def _tail_vocab(size: int, taken: set, rng: np.random.Generator) -> np.ndarray:
    """``size`` distinct rare tags: compounds of name words and made-up words."""
    words = sorted({
        w.lower()
        for topic in TOPICS
        for phrase in topic.adjectives + topic.nouns
        for w in phrase.replace("-", " ").split()
        if w.isalpha()
    })
    vocab = np.empty(0, dtype=object)
    while len(vocab) < size:
        m = 2 * (size - len(vocab)) + 64
        kind = rng.random(m)
        w1 = _pick(words, rng.integers(0, len(words), size=m))
        w2 = _pick(words, rng.integers(0, len(words), size=m))
        syl = _pick(_SYLLABLES, rng.integers(0, len(_SYLLABLES), size=(m, 4)))
        n_syl = rng.integers(2, 5, size=m)
        pseudo = syl[:, 0] + syl[:, 1] + np.where(n_syl > 2, syl[:, 2], "") + np.where(
            n_syl > 3, syl[:, 3], "")
        num = rng.integers(1, 2030, size=m).astype(str).astype(object)
        cand = np.where(kind < 0.45, w1 + w2,
                        np.where(kind < 0.85, pseudo,
                                 np.where(kind < 0.93, w1 + num, pseudo + num)))
        cand = pd.unique(np.concatenate([vocab, cand]))
        vocab = np.asarray([c for c in cand if c not in taken], dtype=object)
    return vocab[:size]


def make_sketchfab_like(preset: str = "sample", random_state=0) -> SyntheticData:
    """Generate a Sketchfab-shaped likes dataset with known topics.

    Parameters
    ----------
    preset : {"sample", "full"}, default="sample"
        Size and shape (see :data:`PRESETS`). ``"full"`` has the posts' raw and 5/5
        thresholded statistics; ``"sample"`` is the small committed dataset.
    random_state : None, int or numpy.random.Generator, default=0
        Seed of every draw; the same seed gives identical frames.

    Returns
    -------
    SyntheticData
        ``(likes, features, model_topics, user_topics, topics, preset)``.

    Raises
    ------
    ValueError
        If ``preset`` is not one of :data:`PRESETS`.

    Examples
    --------
    >>> data = make_sketchfab_like("sample", random_state=0)
    >>> list(data.likes.columns), list(data.features.columns)
    (['modelname', 'mid', 'uid'], ['mid', 'type', 'value'])
    >>> int(data.likes.duplicated().sum()) == PRESETS["sample"].n_duplicates
    True
    """
    p = _get_preset(preset)
    rng = check_random_state(random_state)
    n_topics = len(TOPICS)

    # Topics: sizes jittered around the table's weights.
    topic_w = np.array([t.weight for t in TOPICS])
    topic_w = topic_w * rng.lognormal(0.0, p.topic_size_sigma, n_topics)
    topic_w /= topic_w.sum()

    # Models: a topic and a log-normal popularity each, sorted by topic; within its topic
    # a niche. Some models also join a second topic and one of its niches.
    model_topic = np.sort(rng.choice(n_topics, size=p.n_models, p=topic_w))
    popularity = p.popularity_floor + np.exp(
        p.popularity_sigma * _stratified_normal(p.n_models, rng))
    per_topic = np.bincount(model_topic, minlength=n_topics)
    n_niches = np.maximum(1, np.round(per_topic / p.niche_size)).astype(np.int64)
    niche_start = np.concatenate([[0], np.cumsum(n_niches)[:-1]])
    model_niche = niche_start[model_topic] + (
        rng.random(p.n_models) * n_niches[model_topic]).astype(np.int64)
    second = np.flatnonzero(rng.random(p.n_models) < p.second_topic_share)
    second_topic = rng.choice(n_topics, size=len(second), p=topic_w)
    second_niche = niche_start[second_topic] + (
        rng.random(len(second)) * n_niches[second_topic]).astype(np.int64)

    # Draws pick an "entry" (a model's membership of a niche) in proportion to the
    # model's popularity; entries sorted by niche make every niche, and every topic,
    # one contiguous block of the cumulative popularity.
    entry_model = np.concatenate([np.arange(p.n_models), second])
    entry_niche = np.concatenate([model_niche, second_niche])
    order = np.argsort(entry_niche, kind="stable")
    entry_model, entry_niche = entry_model[order], entry_niche[order]
    cum_pop = np.cumsum(popularity[entry_model])
    entry_topic = np.searchsorted(niche_start, entry_niche, side="right") - 1

    def block_bounds(keys, n_keys):
        end = np.searchsorted(keys, np.arange(n_keys), side="right")
        start = np.searchsorted(keys, np.arange(n_keys), side="left")
        lo = np.where(start > 0, cum_pop[np.maximum(start - 1, 0)], 0.0)
        hi = np.where(end > 0, cum_pop[np.maximum(end - 1, 0)], 0.0)
        return lo, hi, end > start

    cum_lo, cum_hi, has_models = block_bounds(entry_topic, n_topics)
    niche_lo, niche_hi, niche_used = block_bounds(entry_niche, int(n_niches.sum()))

    # Users: 1 + Poisson topics (at most 8) drawn without replacement in proportion to
    # the topic sizes (Gumbel top-k), Dirichlet weights rounded to 3 decimals. A topic
    # that drew no model (possible in a small preset) is nobody's interest. In each of
    # its topics a user follows ``user_niches`` niches (uniformly, with repeats).
    max_k = min(8, int(has_models.sum()))
    k_user = np.minimum(1 + rng.poisson(p.extra_topics_mean, p.n_users), max_k)
    with np.errstate(divide="ignore"):
        log_w = np.log(np.where(has_models, topic_w, 0.0))
    gumbel = log_w[None, :] - np.log(-np.log(rng.random((p.n_users, n_topics))))
    user_topic = np.argsort(-gumbel, axis=1)[:, :max_k]
    slot_used = np.arange(max_k)[None, :] < k_user[:, None]
    raw_w = rng.gamma(p.topic_concentration, size=(p.n_users, max_k)) * slot_used
    user_w = np.round(raw_w / raw_w.sum(axis=1, keepdims=True), 3)
    user_w = np.where(slot_used & (user_w == 0), 0.001, user_w)
    cum_w = np.cumsum(user_w, axis=1)
    cum_w /= cum_w[:, -1:]
    n_user_niches = max(1, int(p.user_niches))
    user_niche = niche_start[user_topic][:, :, None] + (
        rng.random((p.n_users, max_k, n_user_niches)) * n_niches[user_topic][:, :, None]
    ).astype(np.int64)

    # Likes: heavy-tailed activity; each draw from one of the user's niches, from one
    # of the user's topics at large, or global noise (popularity regardless of taste).
    activity = 1 + np.floor(
        p.activity_median * np.exp(p.activity_sigma * _stratified_normal(p.n_users, rng)))
    activity = np.minimum(activity, p.max_activity).astype(np.int64)
    draw_user = np.repeat(np.arange(p.n_users), activity)
    n_draws = len(draw_user)
    from_topic = rng.random(n_draws) < p.topic_share
    slot = (rng.random(n_draws)[:, None] > cum_w[draw_user]).sum(axis=1)
    slot = np.minimum(slot, k_user[draw_user] - 1)
    draw_topic = user_topic[draw_user, slot]
    draw_niche = user_niche[draw_user, slot, rng.integers(0, n_user_niches, size=n_draws)]
    in_niche = (rng.random(n_draws) < p.niche_share) & niche_used[draw_niche]
    u = rng.random(n_draws)
    lo = np.where(in_niche, niche_lo[draw_niche], cum_lo[draw_topic])
    hi = np.where(in_niche, niche_hi[draw_niche], cum_hi[draw_topic])
    target = np.where(from_topic, lo + u * (hi - lo), u * cum_pop[-1])
    draw_entry = np.minimum(np.searchsorted(cum_pop, target, side="right"), len(cum_pop) - 1)
    draw_model = entry_model[draw_entry]

    pairs = np.unique(draw_user * np.int64(p.n_models) + draw_model)
    like_user, like_model = pairs // p.n_models, pairs % p.n_models

    # Only liked models exist in the crawl; number them in a random "crawl" order and
    # list each model's likers together, in random order.
    liked = np.unique(like_model)
    crawl_rank = np.empty(p.n_models, dtype=np.int64)
    crawl_rank[liked] = rng.permutation(len(liked))
    order = np.lexsort((rng.random(len(like_user)), crawl_rank[like_model]))
    like_user, like_model = like_user[order], like_model[order]
    models = liked[np.argsort(crawl_rank[liked])]  # models in crawl order

    # Planted exact duplicates: a row repeated right after itself.
    dup = np.sort(rng.choice(len(like_user), size=p.n_duplicates, replace=False))
    rows = np.sort(np.concatenate([np.arange(len(like_user)), dup]), kind="stable")
    like_user, like_model = like_user[rows], like_model[rows]

    # Ids and names.
    user_ids = _hex_ids(p.n_users, rng)
    model_ids = np.empty(p.n_models, dtype=object)
    model_ids[models] = _hex_ids(len(models), rng)
    model_names = np.empty(p.n_models, dtype=object)
    model_names[models] = _model_names(model_topic[models], rng)
    odd = rng.choice(models, size=len(_ODD_NAMES), replace=False)
    model_names[odd] = _ODD_NAMES

    likes = pd.DataFrame({
        "modelname": model_names[like_model],
        "mid": model_ids[like_model],
        "uid": user_ids[like_user],
    })

    features = _make_features(models, model_topic, model_ids, p, rng)

    model_topics = pd.DataFrame({
        "mid": model_ids[models],
        "topic": _pick([t.name for t in TOPICS], model_topic[models]),
    })
    ut_user, ut_slot = np.nonzero(slot_used)
    user_topics = pd.DataFrame({
        "uid": user_ids[ut_user],
        "topic": _pick([t.name for t in TOPICS], user_topic[ut_user, ut_slot]),
        "weight": user_w[ut_user, ut_slot],
    })
    return SyntheticData(
        likes=likes,
        features=features,
        model_topics=model_topics,
        user_topics=user_topics,
        topics=tuple(t.name for t in TOPICS),
        preset=preset if isinstance(preset, str) else "custom",
    )


def _make_features(models, model_topic, model_ids, p: Preset, rng) -> pd.DataFrame:
    """Categories and tags of the liked ``models`` (model indices in crawl order)."""
    n = len(models)
    topic_of = model_topic[models]
    tb = [t.name for t in TOPICS].index(_TILTBRUSH_TAG)

    # Categories: 0-2; the first mostly the topic's own, the second any other.
    cat_index = {c: i for i, c in enumerate(CATEGORIES)}
    own_cat = np.array([cat_index[t.category] for t in TOPICS])[topic_of]
    n_cat = rng.choice(3, size=n, p=p.category_probs)
    first = np.where(rng.random(n) < p.own_category_prob, own_cat,
                     rng.integers(0, len(CATEGORIES), size=n))
    second = (first + rng.integers(1, len(CATEGORIES), size=n)) % len(CATEGORIES)
    cat_model = np.concatenate([np.flatnonzero(n_cat >= 1), np.flatnonzero(n_cat >= 2)])
    cat_value = np.concatenate([first[n_cat >= 1], second[n_cat >= 2]])
    cat_order = np.repeat([0, 1], [int((n_cat >= 1).sum()), int((n_cat >= 2).sum())])

    # Tags: an overdispersed count per model; each draw from the topic's tags (Zipf
    # within the topic), the common tags (Zipf) or the long tail (Zipf, rarer).
    # Some uploaders write no tags; the rest write more, keeping the mean.
    shape = 1.5
    tagged_mean = p.tags_mean / (1.0 - p.untagged_share)
    n_tag = rng.negative_binomial(shape, shape / (shape + tagged_mean), size=n)
    n_tag = np.where(rng.random(n) < p.untagged_share, 0, np.minimum(n_tag, 40))
    tag_model = np.repeat(np.arange(n), n_tag)
    m = len(tag_model)
    source = rng.random(m)
    u = rng.random(m)

    topic_tags = [t.tags for t in TOPICS]
    taken = {tag for tags in topic_tags for tag in tags} | set(COMMON_TAGS) | {_TILTBRUSH_TAG}
    tail = _tail_vocab(p.tail_vocab, taken, rng)

    def zipf_index(u, size, exponent, offset=0.0):
        cdf = np.cumsum((np.arange(1, size + 1) + offset) ** -exponent)
        return np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), size - 1)

    values = np.empty(m, dtype=object)
    is_topic = source < p.topic_tag_share
    is_common = ~is_topic & (source < p.topic_tag_share + p.common_tag_share)
    is_tail = ~is_topic & ~is_common
    # A topic-tag draw names the model's own topic with probability tag_fidelity,
    # otherwise another topic (by size): tags shared across topics.
    topic_w = np.array([t.weight for t in TOPICS])
    tag_topic = np.where(rng.random(m) < p.tag_fidelity, topic_of[tag_model],
                         rng.choice(len(TOPICS), size=m, p=topic_w / topic_w.sum()))
    for t, tags in enumerate(topic_tags):
        rows = np.flatnonzero(is_topic & (tag_topic == t))
        values[rows] = _pick(tags, zipf_index(u[rows], len(tags), 0.8))
    values[is_common] = _pick(COMMON_TAGS, zipf_index(u[is_common], len(COMMON_TAGS), 0.9))
    values[is_tail] = tail[zipf_index(u[is_tail], len(tail), p.tail_exponent, p.tail_offset)]
    capital = rng.random(m) < p.tag_case_share
    values[capital] = np.array([v[:1].upper() + v[1:] for v in values[capital]], dtype=object)

    # Every tiltbrush model carries the tag, first.
    tb_models = np.flatnonzero(topic_of == tb)
    tag_model = np.concatenate([tb_models, tag_model])
    values = np.concatenate([np.full(len(tb_models), _TILTBRUSH_TAG, dtype=object), values])
    tag_order = np.concatenate([np.zeros(len(tb_models)), 1 + np.arange(m)])

    frame = pd.DataFrame({
        "model": np.concatenate([cat_model, tag_model]),
        "kind": np.repeat([0, 1], [len(cat_model), len(tag_model)]),
        "order": np.concatenate([cat_order, tag_order]),
        "value": np.concatenate([_pick(CATEGORIES, cat_value), values]),
    })
    frame = frame.drop_duplicates(["model", "value"]).sort_values(
        ["model", "kind", "order"], kind="stable")
    return pd.DataFrame({
        "mid": model_ids[models][frame["model"].to_numpy()],
        "type": np.where(frame["kind"].to_numpy() == 0, "category", "tag").astype(object),
        "value": frame["value"].to_numpy(dtype=object),
    })


def _write_psv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, lineterminator="\n", **PSV_WRITE_OPTIONS)


def write_dataset(data: SyntheticData, out_dir) -> dict:
    """Write a generated dataset as the crawl's two psv files plus its ground truth.

    Parameters
    ----------
    data : SyntheticData
        What :func:`make_sketchfab_like` returned.
    out_dir : str or pathlib.Path
        Folder to write into; created if missing. Existing files are replaced.

    Returns
    -------
    dict
        ``{"likes": path, "features": path, "truth": path}``: the files written,
        named as in :mod:`recasketch.config` (``model_likes_anon.psv``,
        ``model_feats.psv``, ``ground_truth.psv``).

    Notes
    -----
    The files use the crawl's dialect: ``|``-separated, minimal quoting with ``\\`` as
    the quote character. ``ground_truth.psv`` has the columns ``kind|id|topic|weight``
    with ``kind`` ``model`` (weight 1) or ``user``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "likes": out_dir / config.LIKES_FILE,
        "features": out_dir / config.FEATURES_FILE,
        "truth": out_dir / config.TRUTH_FILE,
    }
    _write_psv(data.likes[["modelname", "mid", "uid"]], paths["likes"])
    _write_psv(data.features[["mid", "type", "value"]], paths["features"])
    truth = pd.concat([
        pd.DataFrame({"kind": "model", "id": data.model_topics["mid"],
                      "topic": data.model_topics["topic"], "weight": 1.0}),
        pd.DataFrame({"kind": "user", "id": data.user_topics["uid"],
                      "topic": data.user_topics["topic"], "weight": data.user_topics["weight"]}),
    ], ignore_index=True)
    _write_psv(truth, paths["truth"])
    return paths


def dataset_stats(data, features=None, user_min: int = 5, item_min: int = 5) -> dict:
    """The statistics the posts report, for a generated or a real dataset.

    Parameters
    ----------
    data : SyntheticData or pandas.DataFrame
        A generated dataset, or a raw likes frame (``mid``, ``uid``; duplicate rows
        included).
    features : pandas.DataFrame, optional
        The features frame, when ``data`` is a likes frame. Without it the feature
        statistics are left out.
    user_min, item_min : int, default=5
        The thresholds of the k-core.

    Returns
    -------
    dict
        ``raw_users``, ``raw_models``, ``raw_likes`` (rows without duplicates),
        ``duplicates`` (exact duplicate rows), ``raw_sparsity`` (%), ``users``,
        ``models``, ``likes``, ``sparsity`` (%) after thresholding, and with features
        ``feature_models``, ``feature_keys``, ``feature_nnz``: the shape and stored
        elements of :func:`~recasketch.preprocess.build_item_features` over the
        thresholded models.
    """
    if isinstance(data, SyntheticData):
        likes, features = data.likes, data.features if features is None else features
    elif isinstance(data, pd.DataFrame):
        likes = data
    else:
        raise TypeError(
            f"data must be a SyntheticData or a likes DataFrame, got {type(data).__name__}."
        )
    duplicates = int(likes.duplicated().sum())
    dedup = likes.drop_duplicates()
    raw = interaction_stats(dedup)
    kept = threshold_interactions(dedup, user_min=user_min, item_min=item_min, verbose=False)
    core = interaction_stats(kept)
    stats = {
        "raw_users": raw["users"],
        "raw_models": raw["items"],
        "raw_likes": raw["likes"],
        "duplicates": duplicates,
        "raw_sparsity": raw["sparsity"],
        "users": core["users"],
        "models": core["items"],
        "likes": core["likes"],
        "sparsity": core["sparsity"],
    }
    if features is not None:
        item_features = build_item_features(features, pd.unique(kept["mid"]))
        stats.update(
            feature_models=int(item_features.matrix.shape[0]),
            feature_keys=int(item_features.matrix.shape[1]),
            feature_nnz=int(item_features.matrix.nnz),
        )
    return stats


def format_stats(stats: dict, reference: dict | None = None) -> str:
    """A plain-text table of :func:`dataset_stats`, beside ``reference`` figures if given.

    With a reference, each row shows the reference value and the relative difference,
    and the last line says whether every published figure is within 5 %.
    """
    def fmt(key, value):
        if value is None:
            return "-"
        return f"{value:.3f}" if "sparsity" in key else f"{int(value):,}"

    lines = []
    if reference is None:
        lines.append(f"{'statistic':<26} {'value':>12}")
        for key, value in stats.items():
            lines.append(f"{_STAT_LABELS.get(key, key):<26} {fmt(key, value):>12}")
        return "\n".join(lines)

    lines.append(f"{'statistic':<26} {'synthetic':>12} {'reference':>12} {'rel. diff':>10}")
    worst = 0.0
    for key, value in stats.items():
        ref = reference.get(key)
        if ref is None and key == "feature_models":
            ref = reference.get("models")
        diff = ""
        if ref:
            rel = (value - ref) / ref
            worst = max(worst, abs(rel))
            diff = f"{100 * rel:+.1f} %"
        lines.append(
            f"{_STAT_LABELS.get(key, key):<26} {fmt(key, value):>12} {fmt(key, ref):>12} {diff:>10}"
        )
    verdict = "yes" if worst <= 0.05 else "NO"
    lines.append(
        f"every published figure within 5 %: {verdict} (largest difference {100 * worst:.1f} %)"
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    """Command line: generate a preset, write it and/or print its statistics."""
    parser = argparse.ArgumentParser(
        prog="python -m recasketch.synthetic",
        description="Generate a synthetic Sketchfab-like likes dataset (NOT real Sketchfab data).",
    )
    parser.add_argument("--preset", default="sample", choices=sorted(PRESETS),
                        help="dataset size and shape (default: sample)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder to write the three psv files into (default: data/sample "
                             "or data/synthetic-full; with --stats alone nothing is written)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--stats", action="store_true",
                        help="print the raw and 5/5-thresholded statistics "
                             "(beside the posts' figures for --preset full)")
    args = parser.parse_args(argv)

    data = make_sketchfab_like(args.preset, random_state=args.seed)
    out = args.out
    if out is None and not args.stats:
        out = config.SAMPLE_DIR if args.preset == "sample" else config.SYNTHETIC_FULL_DIR
    if out is not None:
        paths = write_dataset(data, out)
        for path in paths.values():
            print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    if args.stats:
        stats = dataset_stats(data)
        reference = REFERENCE_STATS if args.preset == "full" else None
        print(f"Synthetic preset {args.preset!r}, seed {args.seed}:")
        print(format_stats(stats, reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
