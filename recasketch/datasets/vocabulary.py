"""The synthetic data's fixed vocabulary (categories, topics, tags) and the word makers drawn
from it; :mod:`recasketch.datasets.synthetic` re-exports the public names."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["CATEGORIES", "COMMON_TAGS", "TOPICS", "topic_feature_keys"]

#: Sketchfab's model categories, as they appear in ``model_feats.psv``.
CATEGORIES = (
    "Animals", "Architecture", "Art & Abstract", "Characters", "Cultural Heritage",
    "Electronics & Gadgets", "Fashion & Style", "Food & Drink", "Furniture & Home", "Music",
    "Nature & Plants", "News & Politics", "People", "Places & Scenes",
    "Science, Nature & Education", "Sports & Fitness", "Vehicles", "Weapons",
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

#: The tag every ``tiltbrush`` model carries, and no other.
TILTBRUSH_TAG = "tiltbrush"


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
    out: dict[str, set] = {f"tag_{TILTBRUSH_TAG}": {TILTBRUSH_TAG}}
    for topic in TOPICS:
        for tag in topic.tags:
            out.setdefault(f"tag_{tag.lower()}", set()).add(topic.name)
    return {key: frozenset(topics) for key, topics in out.items()}


#: Names that exercise the readers' quoting: the separator, quotes, backslashes, "NA".
ODD_NAMES = (
    "Sword | Low Poly",
    "Castle|Ruins (scan)",
    '"Old Mill" Photogrammetry',
    "Ship's Wheel",
    "Floor Plan A\\B",
    "Trailing Backslash \\",
    "NA",
)


def pick(choices, index) -> np.ndarray:
    """``choices[index]`` as an object array (``index`` an int array of any shape)."""
    return np.asarray(choices, dtype=object)[index]


def model_names(topic_of: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Readable names from each model's topic words: "Low Poly Fox", "Tilt Brush Sketch 12"."""
    n = len(topic_of)
    names = np.empty(n, dtype=object)
    pattern = rng.choice(4, size=n, p=[0.55, 0.2, 0.15, 0.1])
    u_adj, u_noun, number = rng.random(n), rng.random(n), rng.integers(1, 100, size=n)
    for t, topic in enumerate(TOPICS):
        rows = np.flatnonzero(topic_of == t)
        adj = pick(topic.adjectives, (u_adj[rows] * len(topic.adjectives)).astype(int))
        noun = pick(topic.nouns, (u_noun[rows] * len(topic.nouns)).astype(int))
        num = number[rows].astype(str).astype(object)
        p = pattern[rows]
        names[rows] = np.where(
            p == 0, adj + " " + noun,
            np.where(p == 1, adj + " " + noun + " " + num,
                     np.where(p == 2, noun + " " + num, noun)),
        )
    return names


def tail_vocab(size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` distinct rare tags: compounds of name words and made-up words, none of them
    a topic tag, a common tag or the tiltbrush tag."""
    taken = {tag for topic in TOPICS for tag in topic.tags} | set(COMMON_TAGS) | {TILTBRUSH_TAG}
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
        w1 = pick(words, rng.integers(0, len(words), size=m))
        w2 = pick(words, rng.integers(0, len(words), size=m))
        syl = pick(_SYLLABLES, rng.integers(0, len(_SYLLABLES), size=(m, 4)))
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

