"""What the notebooks show: figures (``plots``) and grids of model thumbnails (``thumbnails``).
"""
