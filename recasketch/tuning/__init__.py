"""Hyper-parameters: learning curves (``curves``), grid search over them (``grid``), the search log
(``search_log``), the resumable scikit-optimize search (``search``), batched ask/tell searches
on Dask (``batched``), the LightFM objectives (``objectives``) and search strategies at equal
wall time (``strategies``).
"""
