"""Models beside ALS and WARP: popularity, random, item-kNN and tags-only baselines
(``baselines``), item-to-item and tag neighbours (``similarity``), WRMF on Spark MLlib
(``spark_als``).
"""
