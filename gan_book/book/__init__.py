"""Book support: the content-hash cache of heavy results and the figure helpers.

Chapters import from here; the computation modules never do.
"""
