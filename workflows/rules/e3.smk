# E3: variance and bias of the mini-batch gradient; E5a: the gradient noise scale.


rule e3_measure:
    conda:
        "../../environment.yml"
    output:
        variance="results/e3/variance.parquet",
        bias="results/e3/bias.parquet",
        provenance="results/e3/provenance.json",
        macros="results/macros/macros-e3.tex",
        table="results/macros/table-e3-bias.tex",
    params:
        settings=config["e3"],
    log:
        "results/logs/e3_measure.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/e3_measure.py"


rule e3_figure:
    conda:
        "../../environment.yml"
    input:
        "results/e3/variance.parquet",
    output:
        pdf=report("results/figures/e3_variance.pdf", caption="../report/e3.rst", category="E3"),
        png="results/figures/e3_variance.png",
    log:
        "results/logs/e3_figure.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/e3_figure.py"


rule noise_scale_measure:
    conda:
        "../../environment.yml"
    output:
        trajectory="results/noise_scale/trajectory.parquet",
        check="results/noise_scale/mean_estimation.parquet",
        provenance="results/noise_scale/provenance.json",
        macros="results/macros/macros-ns.tex",
    params:
        settings=config["noise_scale"],
    log:
        "results/logs/noise_scale_measure.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/noise_scale_measure.py"


rule noise_scale_figure:
    conda:
        "../../environment.yml"
    input:
        trajectory="results/noise_scale/trajectory.parquet",
        check="results/noise_scale/mean_estimation.parquet",
    output:
        pdf=report("results/figures/noise_scale.pdf", caption="../report/noise_scale.rst", category="E5a"),
        png="results/figures/noise_scale.png",
    log:
        "results/logs/noise_scale_figure.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/noise_scale_figure.py"
