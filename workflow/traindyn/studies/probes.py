"""A study's probe logits, extracted from its copies' weight snapshots (no training): each copy
loaded into the study's model at every save, run on a fixed probe set of test images."""

from __future__ import annotations

import json

import numpy as np


def probe_step(snapshots: str, out: str, *, model: str, model_kwargs: dict, data: dict,
               study: str, probe_per_class: int, dtype: str = "float32") -> None:
    """Snakemake step: the logits of a fixed probe set (the first ``probe_per_class`` test
    images of every class) for every copy at every save, each copy's weights loaded from the
    snapshots into the study's model -> ``out`` (.npz): ``steps``, ``ks``, ``logits`` (saves,
    copies, P, K) and ``disagreement`` (saves, copies): the fraction of probe images a copy
    predicts differently from the reference (first k = 1) copy."""
    import torch

    from ..atomic import save_npz
    from ..data.images import load_images
    from ..models.names import resolve_model
    from ..runtime import torch_dtype
    from ..snapshots import load_into, read_meta

    meta = read_meta(snapshots)
    ks, saves = meta["ks"], len(meta["saves"])
    images = load_images(**data, key=f"studies.{study}.data")
    y = images.y_test
    probes = torch.cat([torch.nonzero(y == c)[:probe_per_class, 0] for c in torch.unique(y)])
    x = images.x_test[probes].to(torch_dtype(dtype))
    factory = resolve_model(model, model_kwargs, key=f"studies.{study}.model")
    net = factory.build(0).to(torch_dtype(dtype))
    logits = np.zeros((saves, len(ks), len(probes), images.n_classes), dtype=np.float32)
    with torch.no_grad():
        for s in range(saves):
            for c in range(len(ks)):
                load_into(net, snapshots, s, c).eval()
                logits[s, c] = net(x).float().numpy()
    pred = logits.argmax(axis=3)
    ref = ks.index(1)
    save_npz(out, steps=np.asarray([s["step"] for s in meta["saves"]], dtype=np.int64),
             ks=np.asarray(ks), logits=logits, labels=images.y_test[probes].numpy(),
             disagreement=(pred != pred[:, ref:ref + 1]).mean(axis=2),
             provenance=json.dumps(dict(meta.get("provenance", {}), snapshots=snapshots,
                                        probe_per_class=probe_per_class)))
