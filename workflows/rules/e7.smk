# E7: step-size sensitivity; diverged chains kept and marked.


rule e7_measure:
    output:
        table="results/e7/chains.parquet",
        summary="results/e7/summary.parquet",
        provenance="results/e7/provenance.json",
        macros="results/macros/macros-e7.tex",
    log:
        "results/logs/e7_measure.log",
    conda:
        "../../environment.yml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        settings=config["e7"],
    script:
        "../scripts/e7_measure.py"


rule e7_figure:
    input:
        table="results/e7/chains.parquet",
        summary="results/e7/summary.parquet",
    output:
        pdf=report(
            "results/figures/e7_step_sizes.pdf",
            caption="../report/e7.rst",
            category="E7",
        ),
        png="results/figures/e7_step_sizes.png",
    log:
        "results/logs/e7_figure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/e7_figure.py"
