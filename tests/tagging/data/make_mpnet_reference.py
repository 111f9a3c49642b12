"""Write mpnet_reference.npy: sentence-transformers' all-mpnet-base-v2 embeddings.

Run once, in a throwaway venv with torch and sentence-transformers (never earmark's):

    python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install torch==2.13.0 sentence-transformers
    /tmp/stvenv/bin/python tests/tagging/data/make_mpnet_reference.py MODEL_DIR

MODEL_DIR is the folder earmark unpacks (``<cache_dir>/all-mpnet-base-v2``; the
sentence-transformers files come from the same zip). The texts are
:data:`REFERENCE_TEXTS` in ``tests/tagging/test_mpnet_encoder.py`` (read from there).
"""

import ast
import sys
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

HERE = Path(__file__).resolve().parent
source = (HERE.parent / "test_mpnet_encoder.py").read_text("utf-8")
tree = ast.parse(source)
texts = next(
    eval(compile(ast.Expression(n.value), "REFERENCE_TEXTS", "eval"))
    for n in tree.body
    if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "REFERENCE_TEXTS"
)
model = SentenceTransformer(sys.argv[1], device="cpu")
emb = model.encode(list(texts), batch_size=4, normalize_embeddings=True)
np.save(HERE / "mpnet_reference.npy", emb.astype(np.float16))
print(emb.shape, model.max_seq_length)
