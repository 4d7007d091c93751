"""Where long work runs and what it keeps: a process pool, a Dask LocalCluster or a cluster by
address (``cluster``), and results kept by a key of what made them (``cache``).
"""
