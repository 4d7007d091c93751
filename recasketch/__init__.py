"""recasketch: implicit-feedback recommenders on Sketchfab likes.

One module per step of the two source posts:

``data``        read likes and item features (the crawl's psv files or your own CSV), load a dataset
``errors``      the package's exceptions: DataError, DownloadError, EngineUnavailableError
``download``    download the real crawl, pinned to a commit and verified by git blob id
``synthetic``   a Sketchfab-shaped generator with known ground truth
``preprocess``  k-core thresholding, id maps, the CSR likes matrix, item features
``split``       per-user holdout
``metrics``     precision@k, recall@k, nDCG@k, AUC and MSE for ALS and LightFM models
``tuning``      learning curves and grid search
``similarity``  cosine item-to-item neighbours
``thumbnails``  Sketchfab API thumbnails (cached, rate-limited), offline placeholders, HTML grids
``plots``       the figures the notebooks show

Scaling out (notebook 05):

``cluster``             where grids and searches run: a process pool, a Dask LocalCluster, a cluster by address
``distributed_search``  batched ask/tell model-based searches on Dask, with resumable_search's log
``spark_als``           WRMF fitted by Spark MLlib (optional extra ``spark``)
``scaling``             how a fit's time and memory grow with the likes
"""

__version__ = "0.1.0"
