"""The make targets' programs: ``execute`` (make run, make results), ``site`` (make html),
``bench`` (make bench) and the dense reference implementations the benchmark and tests compare
against (``reference``).
"""
