# Data: GeoMNIST generation (seeded, cached) and its sample figure.
from traindyn.data.registry import geomnist_path

GEOM = config["data"]["geomnist"]
GEOMNIST_DEFAULT = geomnist_path(
    GEOM["train_per_class"], GEOM["val_per_class"], GEOM["seed"]
)


rule geomnist:
    input:
        code=step_code("data.geomnist:build_geomnist"),
    output:
        out="results/data/geomnist/ntr{n_train}_nval{n_val}_seed{seed}.npz",
    log:
        "results/logs/geomnist/ntr{n_train}_nval{n_val}_seed{seed}.log",
    benchmark:
        "results/benchmarks/geomnist/ntr{n_train}_nval{n_val}_seed{seed}.tsv"
    conda:
        ENV
    params:
        step="data.geomnist:build_geomnist",
        kwargs=lambda w: dict(
            n_train=int(w.n_train),
            n_val=int(w.n_val),
            seed=int(w.seed),
            image_size=GEOM["image_size"],
            max_angle_deg=GEOM["max_angle_deg"],
            blur_sigma=GEOM["blur_sigma"],
        ),
    script:
        STEP


rule geomnist_samples:
    input:
        data=GEOMNIST_DEFAULT,
        code=step_code("figures.geomnist_samples:build_samples_figure"),
    output:
        pdf="figures/lesde/geomnist_samples.pdf",
        png=report(
            "figures/lesde/geomnist_samples.png",
            caption="../report/geomnist_samples.rst",
            category="LE-SDE",
        ),
    log:
        "results/logs/geomnist_samples.log",
    localrule: True
    conda:
        ENV
    params:
        step="figures.geomnist_samples:build_samples_figure",
        kwargs={},
    script:
        STEP
