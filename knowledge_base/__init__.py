"""Document collections: loading, chunking, normalisation, embeddings, FAISS + BM25, hybrid retrieval, eval.

Imports none of samyu's other packages.
"""
