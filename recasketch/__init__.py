"""recasketch: implicit-feedback recommenders on Sketchfab likes.

One module per step of the two source posts:

``data``        read and validate the two psv files
``download``    download the real crawl, pinned to a commit and verified by git blob id
``synthetic``   a Sketchfab-shaped generator with known ground truth
``preprocess``  k-core thresholding, id maps, the CSR likes matrix, item features
``split``       per-user holdout
``metrics``     precision@k, recall@k, nDCG@k, AUC and MSE for ALS and LightFM models
``tuning``      learning curves and grid search
``similarity``  cosine item-to-item neighbours
``plots``       the figures the notebooks show
"""

__version__ = "0.1.0"
