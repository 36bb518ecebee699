"""The shop's catalog: products with a category tree, brand, price, rating, popularity and a title (NumPy only).

A product p has

    department -> category -> subcategory      (a fixed tree, TAXONOMY below)
    brand, optional product line and model     ("Apple" "iPhone" "13")
    one attribute, an optional colour           ("128GB", "Black")
    price_p   = median_c * brand_factor * (1 + step_c)^attribute_index * LogNormal(0, sigma_c)
    rating_p  in [1, 5], popularity_p = orders in the last 30 days (heavy-tailed)
    title     = brand line model attribute colour noun [for line model]
              e.g. "Apple iPhone 13 128GB Black Smartphone", "Spigen Clear Phone Case for iPhone 13"

Storage is columnar: one small-integer or float32 NumPy array per column, and a
title is a row of piece ids (int16) into a shared table of words, so the same code
builds 1,000,000 products in a few tens of MB. Title strings are only made on
demand (`title`, `titles`, `to_frame`).

Source of the parameter tables: TAXONOMY is hand-written for this project. The
brand and product-line names are real, for recognisable titles; brands are listed
in rough order of market presence (the order sets their Zipf weights). Median
prices are rough US street prices in USD chosen by the authors, not measurements;
`price_sigma` is the spread of log price within a subcategory. PREMIUM_BRANDS and
BUDGET_BRANDS are likewise the authors' judgement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from rerank_lib.checks import check_positive, check_positive_int
from rerank_lib.seeding import as_generator

__all__ = [
    "COLORS",
    "TAXONOMY",
    "TITLE_SLOTS",
    "Catalog",
    "SubcategorySpec",
    "generate_catalog",
    "tokenize",
]

_TOKEN = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """Lower-case alphanumeric words: "Levi's 501 Jeans" -> ["levis", "501", "jeans"].

    Apostrophes are dropped (so "Levi's" is one word); every other non-alphanumeric
    character separates words ("USB-C" -> ["usb", "c"]). Titles and queries use the
    same tokenizer, so BM25 sees the same words on both sides.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _TOKEN.findall(text.lower().replace("'", ""))


@dataclass(frozen=True)
class SubcategorySpec:
    """One leaf of the category tree and how its products look.

    lines: brand -> ((line, (model, ...)), ...); a product of a brand with lines gets
    one line and one of its models. compatible_with names another subcategory: the
    product is an accessory "for <line> <model>" of a product there (a phone case).
    attributes are ordered by price: attribute i costs (1 + attribute_step)^i times more.
    query_nouns are how shoppers name the subcategory; the first is the title noun,
    the last the short form used in precise queries ("iphone 13 case").
    """

    department: str
    category: str
    name: str
    noun: str
    query_nouns: tuple[str, ...]
    price: float
    price_sigma: float
    brands: tuple[str, ...]
    lines: Mapping[str, tuple[tuple[str, tuple[str, ...]], ...]] = field(default_factory=dict)
    attributes: tuple[str, ...] = ()
    attribute_step: float = 0.0
    colors: bool = True
    compatible_with: str | None = None


def _s(department, category, name, noun, query_nouns, price, sigma, brands, **kwargs) -> SubcategorySpec:
    return SubcategorySpec(department, category, name, noun, tuple(query_nouns), price, sigma, tuple(brands), **kwargs)


_PHONE_LINES = {
    "Apple": (("iPhone", ("11", "12", "13", "14", "15")),),
    "Samsung": (("Galaxy", ("S21", "S22", "S23", "S24", "A54")),),
    "Google": (("Pixel", ("6", "7", "8")),),
    "Xiaomi": (("Redmi", ("Note 11", "Note 12", "Note 13")),),
}
_SIZES_SHOES = ("Size 7", "Size 8", "Size 9", "Size 10", "Size 11")

# Hand-written category tree (see the module docstring for the source of the numbers).
TAXONOMY: tuple[SubcategorySpec, ...] = (
    # -- electronics ------------------------------------------------------------------------
    _s("electronics", "phones", "smartphones", "Smartphone", ("smartphone", "phone"), 650, 0.40,
       ("Apple", "Samsung", "Google", "Xiaomi", "Motorola"), lines=_PHONE_LINES,
       attributes=("64GB", "128GB", "256GB", "512GB"), attribute_step=0.15),
    _s("electronics", "phones", "phone cases", "Phone Case", ("phone case", "case"), 20, 0.50,
       ("Spigen", "OtterBox", "Apple", "Samsung", "ESR"),
       attributes=("Clear", "Slim", "Rugged", "Wallet"), attribute_step=0.2, compatible_with="smartphones"),
    _s("electronics", "phones", "screen protectors", "Screen Protector", ("screen protector", "protector"), 12, 0.40,
       ("Spigen", "ESR", "Belkin", "ZAGG"), attributes=("Tempered Glass", "Privacy"), attribute_step=0.3,
       colors=False, compatible_with="smartphones"),
    _s("electronics", "phones", "chargers", "USB-C Charger", ("usb c charger", "charger"), 25, 0.45,
       ("Anker", "Apple", "Samsung", "Belkin", "UGREEN"), attributes=("20W", "30W", "65W", "100W"),
       attribute_step=0.25),
    _s("electronics", "computers", "laptops", "Laptop", ("laptop", "notebook"), 950, 0.45,
       ("Apple", "Lenovo", "Dell", "HP", "ASUS", "Acer"),
       lines={"Apple": (("MacBook Air", ("13", "15")), ("MacBook Pro", ("14", "16"))),
              "Lenovo": (("ThinkPad", ("X1", "T14", "E14")), ("IdeaPad", ("3", "5"))),
              "Dell": (("XPS", ("13", "15")), ("Inspiron", ("14", "16"))),
              "HP": (("Pavilion", ("14", "15")), ("Spectre", ("x360",))),
              "ASUS": (("ZenBook", ("14",)), ("VivoBook", ("15",)))},
       attributes=("8GB", "16GB", "32GB"), attribute_step=0.25),
    _s("electronics", "computers", "monitors", "Monitor", ("monitor", "screen"), 260, 0.50,
       ("Dell", "LG", "Samsung", "ASUS", "HP"), attributes=("24 inch", "27 inch", "32 inch", "34 inch"),
       attribute_step=0.3, colors=False),
    _s("electronics", "computers", "keyboards", "Keyboard", ("keyboard",), 60, 0.60,
       ("Logitech", "Apple", "Razer", "Corsair", "Keychron"), attributes=("Wireless", "Mechanical", "Gaming"),
       attribute_step=0.3),
    _s("electronics", "computers", "mice", "Mouse", ("mouse",), 35, 0.55,
       ("Logitech", "Razer", "Apple", "Microsoft"), attributes=("Wireless", "Ergonomic", "Gaming"),
       attribute_step=0.25),
    _s("electronics", "audio", "headphones", "Headphones", ("headphones",), 180, 0.60,
       ("Sony", "Bose", "Apple", "JBL", "Sennheiser"),
       lines={"Sony": (("WH", ("1000XM4", "1000XM5")),), "Bose": (("QuietComfort", ("45", "Ultra")),),
              "Apple": (("AirPods Max", ("2",)),)},
       attributes=("Wired", "Wireless", "Noise Cancelling"), attribute_step=0.35),
    _s("electronics", "audio", "earbuds", "Earbuds", ("earbuds", "earphones"), 110, 0.55,
       ("Apple", "Samsung", "Sony", "JBL", "Anker"),
       lines={"Apple": (("AirPods", ("3", "Pro 2")),), "Samsung": (("Galaxy Buds", ("2", "FE")),),
              "Anker": (("Soundcore", ("Life", "Liberty")),)},
       attributes=("Wireless", "Noise Cancelling"), attribute_step=0.3),
    _s("electronics", "audio", "speakers", "Bluetooth Speaker", ("bluetooth speaker", "speaker"), 90, 0.55,
       ("JBL", "Bose", "Sony", "Anker", "Marshall"),
       lines={"JBL": (("Flip", ("5", "6")), ("Charge", ("5",))), "Bose": (("SoundLink", ("Flex", "Micro")),)},
       attributes=("Portable", "Waterproof"), attribute_step=0.2),
    _s("electronics", "cameras", "cameras", "Camera", ("camera",), 850, 0.55,
       ("Canon", "Sony", "Nikon", "Fujifilm", "GoPro"),
       lines={"Canon": (("EOS", ("R10", "R50", "R6")),), "Sony": (("Alpha", ("a6400", "a7 IV")),),
              "Nikon": (("Z", ("50", "fc")),), "Fujifilm": (("X", ("T30", "S20")),),
              "GoPro": (("HERO", ("11", "12")),)},
       attributes=("Body Only", "Kit"), attribute_step=0.3),
    # -- fashion ---------------------------------------------------------------------------
    _s("fashion", "shoes", "sneakers", "Sneakers", ("sneakers", "trainers"), 95, 0.40,
       ("Nike", "Adidas", "New Balance", "Puma", "Converse", "Vans"),
       lines={"Nike": (("Air Max", ("90", "270")), ("Air Force", ("1",))),
              "Adidas": (("Stan Smith", ("Original",)), ("Ultraboost", ("22", "Light"))),
              "New Balance": (("574", ("Core",)),), "Converse": (("Chuck Taylor", ("All Star",)),)},
       attributes=_SIZES_SHOES),
    _s("fashion", "shoes", "boots", "Boots", ("boots",), 150, 0.45,
       ("Timberland", "Dr. Martens", "UGG", "Clarks"), attributes=_SIZES_SHOES),
    _s("fashion", "shoes", "sandals", "Sandals", ("sandals",), 45, 0.55,
       ("Birkenstock", "Havaianas", "Crocs", "Teva"), attributes=_SIZES_SHOES),
    _s("fashion", "clothing", "jeans", "Jeans", ("jeans",), 65, 0.45,
       ("Levi's", "Wrangler", "Diesel", "Lee"), lines={"Levi's": (("501", ("Original",)), ("511", ("Slim",)))},
       attributes=("W30", "W32", "W34", "W36")),
    _s("fashion", "clothing", "t-shirts", "T-Shirt", ("t shirt", "tee"), 22, 0.50,
       ("Uniqlo", "H&M", "Nike", "Adidas", "Champion"), attributes=("S", "M", "L", "XL")),
    _s("fashion", "clothing", "jackets", "Jacket", ("jacket", "coat"), 160, 0.55,
       ("The North Face", "Patagonia", "Columbia", "Zara", "Arc'teryx"),
       lines={"The North Face": (("Nuptse", ("1996",)),), "Patagonia": (("Nano Puff", ("Hoody",)),)},
       attributes=("S", "M", "L", "XL")),
    _s("fashion", "clothing", "dresses", "Dress", ("dress",), 55, 0.55,
       ("Zara", "H&M", "Mango", "Reformation"), attributes=("Midi", "Maxi", "Mini")),
    _s("fashion", "accessories", "watches", "Watch", ("watch",), 140, 0.80,
       ("Casio", "Fossil", "Seiko", "Citizen", "Tissot"),
       lines={"Casio": (("G-Shock", ("GA2100", "DW5600")),),
              "Seiko": (("Presage", ("SRPD",)), ("5 Sports", ("SRPE",)))},
       attributes=("Quartz", "Automatic", "Solar"), attribute_step=0.4),
    _s("fashion", "accessories", "sunglasses", "Sunglasses", ("sunglasses", "shades"), 130, 0.50,
       ("Ray-Ban", "Oakley", "Persol", "Prada"),
       lines={"Ray-Ban": (("Wayfarer", ("RB2140",)), ("Aviator", ("RB3025",))), "Oakley": (("Holbrook", ("OO9102",)),)},
       attributes=("Polarized", "Classic"), attribute_step=0.2),
    _s("fashion", "accessories", "handbags", "Handbag", ("handbag", "bag"), 220, 0.75,
       ("Michael Kors", "Coach", "Kate Spade", "Gucci"), attributes=("Tote", "Crossbody", "Shoulder")),
    # -- home ------------------------------------------------------------------------------
    _s("home", "kitchen", "coffee machines", "Coffee Machine", ("coffee machine", "coffee maker"), 190, 0.55,
       ("Nespresso", "De'Longhi", "Philips", "Breville", "Keurig"),
       lines={"Nespresso": (("Vertuo", ("Next", "Pop")), ("Essenza", ("Mini",))),
              "De'Longhi": (("Magnifica", ("S", "Evo")),)},
       attributes=("Capsule", "Espresso", "Drip"), attribute_step=0.3),
    _s("home", "kitchen", "blenders", "Blender", ("blender",), 95, 0.55,
       ("Ninja", "Vitamix", "KitchenAid", "NutriBullet"), attributes=("600W", "1000W", "1500W"), attribute_step=0.3),
    _s("home", "kitchen", "cookware", "Frying Pan", ("frying pan", "pan"), 45, 0.60,
       ("Tefal", "Le Creuset", "Lodge", "OXO"), attributes=("20cm", "24cm", "28cm"), attribute_step=0.15),
    _s("home", "appliances", "vacuum cleaners", "Vacuum Cleaner", ("vacuum cleaner", "vacuum"), 320, 0.55,
       ("Dyson", "Shark", "iRobot", "Bissell", "Eufy"),
       lines={"Dyson": (("V11", ("Absolute", "Animal")), ("V15", ("Detect",))), "iRobot": (("Roomba", ("i3", "j7")),)},
       attributes=("Cordless", "Robot", "Upright"), attribute_step=0.2),
    _s("home", "appliances", "air purifiers", "Air Purifier", ("air purifier", "purifier"), 180, 0.55,
       ("Levoit", "Dyson", "Philips", "Coway"), attributes=("HEPA", "Smart"), attribute_step=0.3, colors=False),
    _s("home", "furniture", "office chairs", "Office Chair", ("office chair", "chair"), 220, 0.65,
       ("IKEA", "Herman Miller", "Steelcase", "Secretlab"),
       lines={"IKEA": (("Markus", ("Task",)),), "Herman Miller": (("Aeron", ("B",)),)},
       attributes=("Mesh", "Leather", "Ergonomic"), attribute_step=0.2),
    _s("home", "furniture", "desk lamps", "Desk Lamp", ("desk lamp", "lamp"), 40, 0.60,
       ("IKEA", "Philips", "BenQ", "TaoTronics"), lines={"Philips": (("Hue", ("Go",)),)},
       attributes=("LED", "Dimmable", "Smart"), attribute_step=0.25),
    _s("home", "bedding", "bed sheets", "Bed Sheets", ("bed sheets", "sheets"), 60, 0.55,
       ("Brooklinen", "IKEA", "Parachute", "Threshold"), attributes=("Twin", "Queen", "King"), attribute_step=0.15),
    # -- beauty ----------------------------------------------------------------------------
    _s("beauty", "skincare", "moisturizers", "Moisturizer", ("moisturizer", "face cream"), 20, 0.55,
       ("CeraVe", "Nivea", "Clinique", "Neutrogena", "La Roche-Posay"), attributes=("50ml", "100ml"),
       attribute_step=0.5, colors=False),
    _s("beauty", "skincare", "serums", "Face Serum", ("face serum", "serum"), 25, 0.60,
       ("The Ordinary", "L'Oreal", "Clinique", "Drunk Elephant"),
       attributes=("Vitamin C", "Retinol", "Hyaluronic Acid"),
       colors=False),
    _s("beauty", "skincare", "sunscreen", "Sunscreen", ("sunscreen", "sun cream"), 17, 0.45,
       ("La Roche-Posay", "Neutrogena", "Nivea", "Banana Boat"), attributes=("SPF 30", "SPF 50"),
       attribute_step=0.1, colors=False),
    _s("beauty", "makeup", "mascara", "Mascara", ("mascara",), 12, 0.50,
       ("Maybelline", "L'Oreal", "Lancome", "Benefit"), attributes=("Waterproof", "Volume", "Lengthening")),
    _s("beauty", "makeup", "lipstick", "Lipstick", ("lipstick",), 22, 0.60,
       ("MAC", "Maybelline", "Chanel", "Fenty Beauty"), attributes=("Matte", "Satin", "Gloss")),
    _s("beauty", "fragrance", "perfume", "Eau de Parfum", ("perfume", "parfum"), 95, 0.55,
       ("Chanel", "Dior", "Calvin Klein", "Lancome", "Versace"),
       lines={"Chanel": (("No", ("5",)), ("Coco", ("Mademoiselle",))), "Dior": (("Sauvage", ("Elixir",)),)},
       attributes=("30ml", "50ml", "100ml"), attribute_step=0.4, colors=False),
    _s("beauty", "haircare", "shampoo", "Shampoo", ("shampoo",), 12, 0.60,
       ("Pantene", "Dove", "Olaplex", "Head & Shoulders"), attributes=("250ml", "500ml"), attribute_step=0.4,
       colors=False),
    _s("beauty", "grooming", "electric shavers", "Electric Shaver", ("electric shaver", "shaver"), 90, 0.60,
       ("Braun", "Philips", "Panasonic", "Remington"),
       lines={"Braun": (("Series", ("5", "7", "9")),), "Philips": (("OneBlade", ("Pro",)),)},
       attributes=("Wet & Dry", "Cordless"), attribute_step=0.2),
    # -- sports ----------------------------------------------------------------------------
    _s("sports", "fitness", "yoga mats", "Yoga Mat", ("yoga mat", "mat"), 40, 0.55,
       ("Manduka", "Gaiam", "Lululemon", "Liforme"), attributes=("4mm", "6mm"), attribute_step=0.2),
    _s("sports", "fitness", "dumbbells", "Dumbbells", ("dumbbells", "weights"), 60, 0.60,
       ("Bowflex", "CAP", "Amazon Basics", "Rogue"), attributes=("5kg", "10kg", "20kg"), attribute_step=0.5,
       colors=False),
    _s("sports", "fitness", "fitness trackers", "Fitness Tracker", ("fitness tracker", "tracker"), 160, 0.55,
       ("Garmin", "Fitbit", "Xiaomi", "Whoop"),
       lines={"Garmin": (("Forerunner", ("55", "265")), ("Venu", ("3",))), "Fitbit": (("Charge", ("5", "6")),),
              "Xiaomi": (("Mi Band", ("7", "8")),)},
       attributes=("GPS", "Heart Rate"), attribute_step=0.3),
    _s("sports", "running", "running shoes", "Running Shoes", ("running shoes", "running trainers"), 125, 0.35,
       ("Nike", "Adidas", "ASICS", "Brooks", "Hoka"),
       lines={"Nike": (("Pegasus", ("39", "40")),), "ASICS": (("Gel-Kayano", ("29", "30")),),
              "Brooks": (("Ghost", ("15",)),), "Hoka": (("Clifton", ("9",)),)},
       attributes=_SIZES_SHOES),
    _s("sports", "camping", "tents", "Tent", ("tent",), 160, 0.65,
       ("Coleman", "MSR", "Big Agnes", "Quechua"), attributes=("2 Person", "4 Person", "6 Person"), attribute_step=0.4),
    _s("sports", "camping", "water bottles", "Water Bottle", ("water bottle", "bottle"), 30, 0.50,
       ("Hydro Flask", "Yeti", "Nalgene", "CamelBak"), attributes=("500ml", "750ml", "1L"), attribute_step=0.15),
    _s("sports", "cycling", "bikes", "Mountain Bike", ("mountain bike", "bike"), 850, 0.55,
       ("Trek", "Specialized", "Giant", "Cannondale"),
       lines={"Trek": (("Marlin", ("5", "7")),), "Specialized": (("Rockhopper", ("Sport",)),),
              "Giant": (("Talon", ("3",)),)},
       attributes=("S", "M", "L"), attribute_step=0.0),
    _s("sports", "team sports", "basketballs", "Basketball", ("basketball",), 30, 0.45,
       ("Wilson", "Spalding", "Molten", "Nike"), attributes=("Size 6", "Size 7"), colors=False),
    # -- toys ------------------------------------------------------------------------------
    _s("toys", "building", "building sets", "Building Set", ("building set", "lego"), 60, 0.80,
       ("LEGO", "Mega Bloks", "K'NEX"),
       lines={"LEGO": (("Star Wars", ("75301", "75313")), ("City", ("60337",)), ("Technic", ("42141",)))},
       attributes=("Ages 4+", "Ages 8+", "Ages 12+"), attribute_step=0.4, colors=False),
    _s("toys", "games", "board games", "Board Game", ("board game", "game"), 30, 0.50,
       ("Hasbro", "Ravensburger", "Asmodee", "Mattel"),
       lines={"Hasbro": (("Monopoly", ("Classic",)),),
              "Asmodee": (("Catan", ("Base",)), ("Ticket to Ride", ("Europe",)))},
       attributes=("2-4 Players", "2-6 Players"), colors=False),
    _s("toys", "games", "puzzles", "Jigsaw Puzzle", ("jigsaw puzzle", "puzzle"), 20, 0.45,
       ("Ravensburger", "Buffalo Games", "Clementoni"), attributes=("500 Pieces", "1000 Pieces", "2000 Pieces"),
       attribute_step=0.25, colors=False),
    _s("toys", "dolls", "dolls", "Doll", ("doll",), 25, 0.55,
       ("Mattel", "American Girl", "Hasbro"), lines={"Mattel": (("Barbie", ("Dreamhouse", "Fashionistas")),)},
       attributes=("Ages 3+", "Ages 6+")),
)

COLORS: tuple[str, ...] = ("Black", "White", "Silver", "Blue", "Grey", "Red", "Navy", "Green", "Pink", "Beige", "Gold")

PREMIUM_BRANDS = frozenset(
    {"Apple", "Bose", "Sennheiser", "Canon", "Sony", "Dyson", "Herman Miller", "Steelcase", "Le Creuset", "Vitamix",
     "Breville", "Gucci", "Prada", "Arc'teryx", "Patagonia", "Chanel", "Dior", "Lancome", "Drunk Elephant", "Olaplex",
     "Garmin", "Whoop", "Rogue", "Liforme", "Manduka", "Specialized", "Marshall", "Tissot", "Persol", "Reformation",
     "Parachute", "American Girl", "MSR", "Big Agnes", "Secretlab"}
)
BUDGET_BRANDS = frozenset(
    {"Xiaomi", "ESR", "UGREEN", "Anker", "Acer", "H&M", "Uniqlo", "Havaianas", "Crocs", "Amazon Basics", "CAP",
     "Quechua", "Nivea", "Dove", "Pantene", "Maybelline", "The Ordinary", "IKEA", "TaoTronics", "Eufy", "Levoit",
     "Threshold", "Remington", "Mega Bloks", "Buffalo Games", "Champion", "Casio", "Lee", "Motorola", "Tefal"}
)
_TIER_PRICE = {"premium": 1.6, "standard": 1.0, "budget": 0.65}
_TIER_RATING = {"premium": 0.15, "standard": 0.0, "budget": -0.15}

# Title layout: which piece goes in which slot (-1 = empty slot).
TITLE_SLOTS: tuple[str, ...] = (
    "brand", "line", "model", "attribute", "color", "noun", "for", "compatible_line", "compatible_model",
)


@dataclass(frozen=True)
class _Tables:
    """Integer lookup tables derived from a taxonomy (shared by every catalog built from it)."""

    specs: tuple[SubcategorySpec, ...]
    department_names: tuple[str, ...]
    category_names: tuple[str, ...]
    subcategory_names: tuple[str, ...]
    brand_names: tuple[str, ...]
    pieces: tuple[str, ...]
    piece_index: Mapping[str, int]
    subcategory_category: np.ndarray  # (S,)
    category_department: np.ndarray  # (C,)
    subcategory_brands: np.ndarray  # (S, B_max) global brand ids, -1 padded
    subcategory_n_brands: np.ndarray  # (S,)
    # per (subcategory, brand position): the (line piece, model piece) combos, -1 padded
    models: np.ndarray  # (S, B_max, M_max, 2)
    n_models: np.ndarray  # (S, B_max)
    attributes: np.ndarray  # (S, A_max) piece ids, -1 padded
    n_attributes: np.ndarray  # (S,)
    color_pieces: np.ndarray  # (n_colors,)
    noun_pieces: np.ndarray  # (S,)
    brand_pieces: np.ndarray  # (B,)
    brand_tier: np.ndarray  # (B,) 0 budget, 1 standard, 2 premium


def _build_tables(specs: Sequence[SubcategorySpec]) -> _Tables:
    specs = tuple(specs)
    if not specs:
        raise ValueError("taxonomy must contain at least one SubcategorySpec")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError("taxonomy subcategory names must be unique")
    for spec in specs:
        if not spec.price > 0:
            raise ValueError(f"price of subcategory {spec.name!r} must be > 0, got {spec.price}")
        if not spec.brands:
            raise ValueError(f"brands of subcategory {spec.name!r} must not be empty")
        if spec.compatible_with is not None and spec.compatible_with not in names:
            raise ValueError(f"compatible_with of subcategory {spec.name!r} names an unknown subcategory "
                             f"{spec.compatible_with!r}")
    departments = list(dict.fromkeys(s.department for s in specs))
    categories = list(dict.fromkeys((s.department, s.category) for s in specs))
    brands = list(dict.fromkeys(b for s in specs for b in s.brands))
    piece_set = set(brands) | set(COLORS) | {"for"}
    for spec in specs:
        piece_set.add(spec.noun)
        piece_set.update(spec.attributes)
        for lines in spec.lines.values():
            for line, models in lines:
                piece_set.add(line)
                piece_set.update(models)
    pieces = tuple(sorted(piece_set))
    piece_index = {p: i for i, p in enumerate(pieces)}
    n_sub, b_max = len(specs), max(len(s.brands) for s in specs)
    m_max = max([1] + [sum(len(m) for _, m in s.lines.get(b, ())) for s in specs for b in s.brands])
    a_max = max([1] + [len(s.attributes) for s in specs])
    brand_id = {b: i for i, b in enumerate(brands)}
    sub_brands = np.full((n_sub, b_max), -1, np.int16)
    models = np.full((n_sub, b_max, m_max, 2), -1, np.int16)
    n_models = np.zeros((n_sub, b_max), np.int16)
    attributes = np.full((n_sub, a_max), -1, np.int16)
    for c, spec in enumerate(specs):
        for j, brand in enumerate(spec.brands):
            sub_brands[c, j] = brand_id[brand]
            combos = [(piece_index[line], piece_index[m]) for line, ms in spec.lines.get(brand, ()) for m in ms]
            n_models[c, j] = len(combos)
            if combos:
                models[c, j, : len(combos)] = combos
        attributes[c, : len(spec.attributes)] = [piece_index[a] for a in spec.attributes]
    tier = np.array([2 if b in PREMIUM_BRANDS else 0 if b in BUDGET_BRANDS else 1 for b in brands], np.int8)
    return _Tables(
        specs=specs,
        department_names=tuple(departments),
        category_names=tuple(c for _, c in categories),
        subcategory_names=tuple(names),
        brand_names=tuple(brands),
        pieces=pieces,
        piece_index=piece_index,
        subcategory_category=np.array([categories.index((s.department, s.category)) for s in specs], np.int16),
        category_department=np.array([departments.index(d) for d, _ in categories], np.int8),
        subcategory_brands=sub_brands,
        subcategory_n_brands=np.array([len(s.brands) for s in specs], np.int16),
        models=models,
        n_models=n_models,
        attributes=attributes,
        n_attributes=np.array([len(s.attributes) for s in specs], np.int16),
        color_pieces=np.array([piece_index[c] for c in COLORS], np.int16),
        noun_pieces=np.array([piece_index[s.noun] for s in specs], np.int16),
        brand_pieces=np.array([piece_index[b] for b in brands], np.int16),
        brand_tier=tier,
    )


_DEFAULT_TABLES: _Tables | None = None


def _tables_for(taxonomy) -> _Tables:
    global _DEFAULT_TABLES
    if taxonomy is TAXONOMY:
        if _DEFAULT_TABLES is None:
            _DEFAULT_TABLES = _build_tables(TAXONOMY)
        return _DEFAULT_TABLES
    return _build_tables(taxonomy)


class Catalog:
    """Columnar product table (one array per column, row i = product id i) plus the taxonomy's lookup tables.

    Columns (length n): department (int8), category, subcategory, brand, line, model,
    attribute, color (int16; line/model/attribute/color are piece ids, -1 = none; for an
    accessory line/model are the device it fits), price (float32, USD > 0), rating
    (float32 in [1, 5]), popularity (int32 >= 0, orders in the last 30 days) and
    title_pieces (int16, (n, len(TITLE_SLOTS))). Derived: relative_log_price
    z_p = log(price_p / median price of p's subcategory in this catalog).

    Build one with `generate_catalog`; the constructor validates arrays that come
    from elsewhere (negative prices, ratings outside [1, 5], ids out of range).
    """

    COLUMNS = ("department", "category", "subcategory", "brand", "line", "model", "attribute", "color",
               "price", "rating", "popularity")

    def __init__(self, *, subcategory, brand, line, model, attribute, color, price, rating, popularity,
                 title_pieces, taxonomy: Sequence[SubcategorySpec] = TAXONOMY):
        tables = _tables_for(taxonomy)
        self._tables = tables
        n_sub = len(tables.subcategory_names)
        self.subcategory = _int_column("subcategory", subcategory, np.int16, low=0, high=n_sub - 1)
        n = len(self.subcategory)
        if n == 0:
            raise ValueError("a catalog needs at least one product, got 0")
        self.brand = _int_column("brand", brand, np.int16, low=0, high=len(tables.brand_names) - 1, n=n)
        n_pieces = len(tables.pieces)
        self.line = _int_column("line", line, np.int16, low=-1, high=n_pieces - 1, n=n)
        self.model = _int_column("model", model, np.int16, low=-1, high=n_pieces - 1, n=n)
        self.attribute = _int_column("attribute", attribute, np.int16, low=-1, high=n_pieces - 1, n=n)
        self.color = _int_column("color", color, np.int16, low=-1, high=n_pieces - 1, n=n)
        self.price = _float_column("price", price, n)
        if np.any(self.price <= 0):
            raise ValueError(f"price must be > 0 for every product, got minimum {float(self.price.min())}")
        self.rating = _float_column("rating", rating, n)
        if np.any(self.rating < 1) or np.any(self.rating > 5):
            raise ValueError(f"rating must lie in [1, 5], got values from {self.rating.min()} to {self.rating.max()}")
        self.popularity = _int_column("popularity", popularity, np.int32, low=0, high=None, n=n)
        pieces = np.asarray(title_pieces)
        if pieces.shape != (n, len(TITLE_SLOTS)):
            raise ValueError(f"title_pieces must have shape ({n}, {len(TITLE_SLOTS)}), got {pieces.shape}")
        self.title_pieces = _int_column("title_pieces", pieces.ravel(), np.int16, low=-1, high=n_pieces - 1)
        self.title_pieces = self.title_pieces.reshape(n, len(TITLE_SLOTS))
        self.category = tables.subcategory_category[self.subcategory]
        self.department = tables.category_department[self.category]
        # Median price per subcategory in this catalog (taxonomy median for an empty subcategory).
        medians = np.array([s.price for s in tables.specs], np.float64)
        order = np.argsort(self.subcategory, kind="stable")
        bounds = np.searchsorted(self.subcategory[order], np.arange(n_sub + 1))
        for c in range(n_sub):
            if bounds[c + 1] > bounds[c]:
                medians[c] = np.median(self.price[order[bounds[c]: bounds[c + 1]]])
        self.subcategory_median_price = medians
        self.relative_log_price = (np.log(self.price) - np.log(medians)[self.subcategory]).astype(np.float32)
        for name in ("subcategory", "brand", "line", "model", "attribute", "color", "price", "rating", "popularity",
                     "title_pieces", "category", "department", "relative_log_price"):
            getattr(self, name).setflags(write=False)  # shared by shoppers, queries and search: keep it immutable

    # -- taxonomy --------------------------------------------------------------------------
    @property
    def taxonomy(self) -> tuple[SubcategorySpec, ...]:
        return self._tables.specs

    @property
    def department_names(self) -> tuple[str, ...]:
        return self._tables.department_names

    @property
    def category_names(self) -> tuple[str, ...]:
        return self._tables.category_names

    @property
    def subcategory_names(self) -> tuple[str, ...]:
        return self._tables.subcategory_names

    @property
    def brand_names(self) -> tuple[str, ...]:
        return self._tables.brand_names

    @property
    def pieces(self) -> tuple[str, ...]:
        """The title words table: title_pieces and line/model/attribute/color index into it."""
        return self._tables.pieces

    @property
    def n_subcategories(self) -> int:
        return len(self._tables.subcategory_names)

    @property
    def n_brands(self) -> int:
        return len(self._tables.brand_names)

    @property
    def subcategory_category(self) -> np.ndarray:
        return self._tables.subcategory_category

    @property
    def category_department(self) -> np.ndarray:
        return self._tables.category_department

    @property
    def subcategory_brands(self) -> np.ndarray:
        """(S, B_max) global brand ids sold in each subcategory, in market-presence order, -1 padded."""
        return self._tables.subcategory_brands

    def piece_id(self, text: str) -> int:
        """The id of a title piece ("iPhone", "13", "Black"); -1 if it is not a piece."""
        return self._tables.piece_index.get(text, -1)

    def __len__(self) -> int:
        return len(self.subcategory)

    def __repr__(self) -> str:
        return (f"Catalog({len(self):,} products, {len(self.department_names)} departments, "
                f"{self.n_subcategories} subcategories, {self.n_brands} brands)")

    # -- titles ----------------------------------------------------------------------------
    def title(self, product: int) -> str:
        """The title of one product, built on demand from its pieces."""
        row = self.title_pieces[int(product)]
        return " ".join(self._tables.pieces[i] for i in row if i >= 0)

    def titles(self, products=None) -> list[str]:
        """Titles of `products` (default: all; for a million products that is a few hundred MB of str)."""
        ids = np.arange(len(self)) if products is None else np.asarray(products).ravel()
        pieces = self._tables.pieces
        return [" ".join(pieces[i] for i in row if i >= 0) for row in self.title_pieces[ids].tolist()]

    def piece_tokens(self) -> tuple[list[str], np.ndarray]:
        """(vocabulary, table): each piece's tokens as ids into the sorted vocabulary; (n_pieces, T_max), -1 padded."""
        tokens = [tokenize(p) for p in self._tables.pieces]
        vocabulary = sorted({t for ts in tokens for t in ts})
        index = {t: i for i, t in enumerate(vocabulary)}
        table = np.full((len(tokens), max(len(t) for t in tokens)), -1, np.int32)
        for i, ts in enumerate(tokens):
            table[i, : len(ts)] = [index[t] for t in ts]
        return vocabulary, table

    def title_token_ids(self) -> tuple[list[str], np.ndarray]:
        """(vocabulary, (n, T) int32 token ids of every title, -1 padded), built vectorised from the pieces."""
        vocabulary, table = self.piece_tokens()
        table = np.vstack([table, np.full((1, table.shape[1]), -1, np.int32)])  # row -1 = empty slot
        return vocabulary, table[self.title_pieces].reshape(len(self), -1)

    # -- tables ----------------------------------------------------------------------------
    def to_frame(self, products=None, *, titles: bool = True):
        """A pandas DataFrame of `products` (default all) with categorical name columns.

        Columns: product_id, title (if titles), department, category, subcategory,
        brand, line, model, attribute, color (NaN where a product has none), price,
        rating, popularity.
        """
        import pandas as pd

        ids = np.arange(len(self)) if products is None else np.asarray(products).ravel()
        t = self._tables
        data = {"product_id": ids}
        if titles:
            data["title"] = self.titles(ids)
        data["department"] = pd.Categorical.from_codes(self.department[ids], t.department_names)
        data["category"] = pd.Categorical.from_codes(self.category[ids], t.category_names)
        data["subcategory"] = pd.Categorical.from_codes(self.subcategory[ids], t.subcategory_names)
        data["brand"] = pd.Categorical.from_codes(self.brand[ids], t.brand_names)
        for column in ("line", "model", "attribute", "color"):  # piece ids; -1 (none) becomes NaN
            codes = getattr(self, column)[ids]
            data[column] = pd.Categorical.from_codes(codes, t.pieces).remove_unused_categories()
        # float64 rounded to cents, so that 35.99 prints as 35.99 and not as float32's 35.990002.
        data["price"] = np.round(self.price[ids].astype(np.float64), 2)
        data["rating"] = np.round(self.rating[ids].astype(np.float64), 1)
        data["popularity"] = self.popularity[ids]
        return pd.DataFrame(data)

    def memory_bytes(self) -> int:
        """Bytes held by the product columns (the shared taxonomy tables are a few kB more)."""
        return int(sum(getattr(self, name).nbytes for name in (
            "subcategory", "brand", "line", "model", "attribute", "color", "price", "rating", "popularity",
            "title_pieces", "category", "department", "relative_log_price")))


def _int_column(name, values, dtype, *, low, high, n=None) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {array.shape}")
    if n is not None and len(array) != n:
        raise ValueError(f"{name} must have one entry per product ({n}), got {len(array)}")
    if array.size and (array.dtype == bool or not np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must be integers, got dtype {array.dtype}")
    if array.size and (array.min() < low or (high is not None and array.max() > high)):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must lie in {bound}, got values from {array.min()} to {array.max()}")
    return np.ascontiguousarray(array, dtype=dtype)


def _float_column(name, values, n) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return array.astype(np.float32)


def _zipf_weights(n: np.ndarray | int, width: int, exponent: float = 1.0) -> np.ndarray:
    """Row-wise Zipf probabilities 1/(j+1)^s over the first n[i] of `width` slots (zeros after)."""
    n = np.atleast_1d(n)
    j = np.arange(width)
    w = np.where(j < n[:, None], (j + 1.0) ** -exponent, 0.0)
    return w / w.sum(axis=1, keepdims=True)


def _draw_rows(probabilities: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One categorical draw per item from the row `rows[i]` of a (R, W) probability table (inverse CDF)."""
    cdf = np.cumsum(probabilities, axis=1)
    cdf[:, -1] = 1.0 + 1e-12  # guard the top against rounding
    u = rng.random(len(rows))
    # Count how many CDF entries lie below u: width is tiny (<= 10), so this beats a per-row searchsorted.
    return (cdf[rows] <= u[:, None]).sum(axis=1)


def generate_catalog(
    n_products: int = 5_000,
    *,
    seed=None,
    taxonomy: Sequence[SubcategorySpec] = TAXONOMY,
    price_scale: float = 1.0,
    brand_zipf: float = 1.0,
) -> Catalog:
    """Draw a catalog of `n_products` products (vectorised; 1,000,000 take a few seconds).

    Subcategory sizes ~ LogNormal(0, 0.5) shares (some aisles are bigger); brand j of a
    subcategory's list has Zipf weight 1/(j+1)^brand_zipf; line/model, attribute and
    colour are drawn uniformly (colours Zipf: black is the most common); price as in the
    module docstring times price_scale; rating ~ N(4.1 + tier, 0.45) clipped to [1, 5]
    and rounded to 0.1; popularity = floor(exp(1.5 + log(brand weight * n_brands)
    + 0.8 (rating - 4) + N(0, 1.2))).
    """
    n_products = check_positive_int("n_products", n_products)
    price_scale = check_positive("price_scale", price_scale)
    brand_zipf = check_positive("brand_zipf", brand_zipf, allow_zero=True)
    rng = as_generator(seed)
    t = _tables_for(taxonomy)
    n_sub = len(t.specs)
    n = n_products

    shares = rng.lognormal(0.0, 0.5, size=n_sub)
    subcategory = rng.choice(n_sub, size=n, p=shares / shares.sum()).astype(np.int16)

    b_max = t.subcategory_brands.shape[1]
    brand_probs = _zipf_weights(t.subcategory_n_brands, b_max, brand_zipf)
    brand_pos = _draw_rows(brand_probs, subcategory, rng)
    brand = t.subcategory_brands[subcategory, brand_pos]

    # Line and model (uniform over the brand's combos in this subcategory; none if the brand has no lines).
    n_combos = t.n_models[subcategory, brand_pos].astype(np.int64)
    combo = np.floor(rng.random(n) * np.maximum(n_combos, 1)).astype(np.int64)
    line = np.where(n_combos > 0, t.models[subcategory, brand_pos, combo, 0], -1).astype(np.int16)
    model = np.where(n_combos > 0, t.models[subcategory, brand_pos, combo, 1], -1).astype(np.int16)

    # Accessories: the device they fit, a (line, model) of the target subcategory weighted by brand share.
    compat_line = np.full(n, -1, np.int16)
    compat_model = np.full(n, -1, np.int16)
    for c, spec in enumerate(t.specs):
        if spec.compatible_with is None:
            continue
        rows = np.flatnonzero(subcategory == c)
        target = t.subcategory_names.index(spec.compatible_with)
        combos, weights = [], []
        for j in range(int(t.subcategory_n_brands[target])):
            k = int(t.n_models[target, j])
            combos.extend(t.models[target, j, :k].tolist())
            weights.extend([brand_probs[target, j] / max(k, 1)] * k)
        if not combos or not len(rows):
            continue
        weights = np.asarray(weights) / np.sum(weights)
        pick = rng.choice(len(combos), size=len(rows), p=weights)
        combos = np.asarray(combos, np.int16)
        compat_line[rows], compat_model[rows] = combos[pick, 0], combos[pick, 1]

    n_attr = t.n_attributes[subcategory].astype(np.int64)
    attr_pos = np.floor(rng.random(n) * np.maximum(n_attr, 1)).astype(np.int64)
    attribute = np.where(n_attr > 0, t.attributes[subcategory, attr_pos], -1).astype(np.int16)
    attr_pos = np.where(n_attr > 0, attr_pos, 0)

    has_color = np.array([s.colors for s in t.specs])[subcategory]
    color_pos = _draw_rows(_zipf_weights(np.array([len(COLORS)]), len(COLORS), 0.8), np.zeros(n, np.int64), rng)
    color = np.where(has_color, t.color_pieces[color_pos], -1).astype(np.int16)

    spec_price = np.array([s.price for s in t.specs])
    spec_sigma = np.array([s.price_sigma for s in t.specs])
    spec_step = np.array([s.attribute_step for s in t.specs])
    tier = t.brand_tier[brand]
    tier_price = np.array([_TIER_PRICE["budget"], _TIER_PRICE["standard"], _TIER_PRICE["premium"]])[tier]
    log_price = (np.log(spec_price[subcategory] * tier_price * price_scale)
                 + attr_pos * np.log1p(spec_step[subcategory])
                 + rng.normal(0.0, 1.0, n) * spec_sigma[subcategory])
    # Shop prices end in .99 (at least 0.99).
    price = np.maximum(np.floor(np.exp(log_price)), 0.0) + 0.99

    tier_rating = np.array([_TIER_RATING["budget"], _TIER_RATING["standard"], _TIER_RATING["premium"]])[tier]
    rating = np.round(np.clip(rng.normal(4.1 + tier_rating, 0.45), 1.0, 5.0), 1)

    brand_weight = brand_probs[subcategory, brand_pos] * t.subcategory_n_brands[subcategory]
    log_pop = 1.5 + np.log(brand_weight) + 0.8 * (rating - 4.0) + rng.normal(0.0, 1.2, n)
    popularity = np.floor(np.exp(log_pop)).astype(np.int32)

    slots = np.full((n, len(TITLE_SLOTS)), -1, np.int16)
    slots[:, 0] = t.brand_pieces[brand]
    slots[:, 1] = line
    slots[:, 2] = model
    slots[:, 3] = attribute
    slots[:, 4] = color
    slots[:, 5] = t.noun_pieces[subcategory]
    is_accessory = compat_line >= 0
    slots[:, 6] = np.where(is_accessory, t.piece_index["for"], -1)
    slots[:, 7] = compat_line
    slots[:, 8] = compat_model
    # An accessory's line/model columns name the device it fits: that is what queries and relevance match on.
    line = np.where(is_accessory, compat_line, line)
    model = np.where(is_accessory, compat_model, model)
    return Catalog(subcategory=subcategory, brand=brand, line=line, model=model, attribute=attribute, color=color,
                   price=price, rating=rating, popularity=popularity, title_pieces=slots, taxonomy=taxonomy)
