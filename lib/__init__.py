"""Clustering from Scratch: the algorithms the book teaches, once.

Importing ``lib`` is fast and needs only NumPy and SciPy: Pillow, pooch and
scikit-learn are imported inside the functions that use them, and torch and
umap only inside :mod:`lib.deep`, which is not imported here
(``from lib import deep`` when you need it).
"""

from .choose_k import find_elbow, gap_statistic, silhouette_samples, silhouette_score
from .datasets import Graph, load_image, load_mnist, load_polblogs, make_embeddings
from .density import dbscan, modified_dbscan
from .distances import assign
from .images import compressed_size, psnr, quantize_image
from .init import init_centroids
from .lloyd import KMeansResult, kmeans
from .mahalanobis import mahalanobis_assign, mahalanobis_kmeans
from .metrics import (
    adjusted_rand_index,
    hungarian_accuracy,
    majority_accuracy,
    match_labels,
    normalized_mutual_info,
)
from .minibatch import minibatch_kmeans
from .mixed import gower_distances, kmedoids
from .pq import pq_decode, pq_encode, pq_fit, pq_search_adc
from .quantize import vq_decode, vq_encode
from .scale import distributed_kmeans, kmeans_parallel
from .soft import soft_assign, soft_kmeans, spherical_gmm
from .spectral import (
    knn_graph,
    laplacian,
    spectral_clustering,
    spectral_embedding,
    spectral_score,
)
from .spherical import spherical_kmeans

__all__ = [
    "KMeansResult",
    "Graph",
    "adjusted_rand_index",
    "assign",
    "compressed_size",
    "dbscan",
    "distributed_kmeans",
    "find_elbow",
    "gap_statistic",
    "gower_distances",
    "hungarian_accuracy",
    "init_centroids",
    "kmeans",
    "kmeans_parallel",
    "kmedoids",
    "knn_graph",
    "laplacian",
    "load_image",
    "load_mnist",
    "load_polblogs",
    "mahalanobis_assign",
    "mahalanobis_kmeans",
    "majority_accuracy",
    "make_embeddings",
    "match_labels",
    "minibatch_kmeans",
    "modified_dbscan",
    "normalized_mutual_info",
    "pq_decode",
    "pq_encode",
    "pq_fit",
    "pq_search_adc",
    "psnr",
    "quantize_image",
    "silhouette_samples",
    "silhouette_score",
    "soft_assign",
    "soft_kmeans",
    "spectral_clustering",
    "spectral_embedding",
    "spectral_score",
    "spherical_gmm",
    "spherical_kmeans",
    "vq_decode",
    "vq_encode",
]
