"""Clustering from Scratch: the algorithms the book teaches, once.

Importing ``lib`` is fast and needs only NumPy and SciPy; torch and umap are
imported inside :mod:`lib.deep` alone.
"""
from .distances import assign
from .init import init_centroids
from .kmeans import KMeansResult, kmeans

__all__ = ["assign", "init_centroids", "kmeans", "KMeansResult"]
