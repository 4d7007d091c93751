"""Where the likes come from: the real crawl's pinned, verified download (``download``) and a
Sketchfab-shaped generator with known ground truth (``synthetic``).
"""
