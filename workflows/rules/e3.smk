# E3: variance and bias of the mini-batch gradient; E5a: the gradient noise scale.


rule e3_measure:
    output:
        variance="results/e3/variance.parquet",
        bias="results/e3/bias.parquet",
        provenance="results/e3/provenance.json",
        macros="results/macros/macros-e3.tex",
        table="results/macros/table-e3-bias.tex",
    log:
        "results/logs/e3_measure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        settings=config["e3"],
    script:
        "../scripts/e3_measure.py"


rule e3_figure:
    input:
        "results/e3/variance.parquet",
    output:
        pdf=report(
            "results/figures/e3_variance.pdf",
            caption="../report/e3.rst",
            category="E3",
        ),
        png="results/figures/e3_variance.png",
    log:
        "results/logs/e3_figure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/e3_figure.py"


rule noise_scale_measure:
    output:
        trajectory="results/noise_scale/trajectory.parquet",
        check="results/noise_scale/mean_estimation.parquet",
        provenance="results/noise_scale/provenance.json",
        macros="results/macros/macros-ns.tex",
    log:
        "results/logs/noise_scale_measure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        settings=config["noise_scale"],
    script:
        "../scripts/noise_scale_measure.py"


rule noise_scale_figure:
    input:
        trajectory="results/noise_scale/trajectory.parquet",
        check="results/noise_scale/mean_estimation.parquet",
    output:
        pdf=report(
            "results/figures/noise_scale.pdf",
            caption="../report/noise_scale.rst",
            category="E5a",
        ),
        png="results/figures/noise_scale.png",
    log:
        "results/logs/noise_scale_figure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/noise_scale_figure.py"
