"""What the notebooks study: budgets, the posts' published figures, evaluation with intervals, post
2's comparisons, tag ideas, the calibration of the stand-in, scaling, and report sentences.
"""
