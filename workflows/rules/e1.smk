# E1: mean estimation with and without replacement.


rule e1_config:
    output:
        "results/e1/N{n}/config.yaml",
    params:
        settings=config["e1"],
    log:
        "results/logs/e1_config_N{n}.log",
    localrule: True
    script:
        "../scripts/e1_config.py"


rule e1_run:
    input:
        "results/e1/N{n}/config.yaml",
    output:
        parquet="results/e1/N{n}/results.parquet",
        provenance="results/e1/N{n}/provenance.json",
    log:
        "results/logs/e1_run_N{n}.log",
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    shell:
        "{PY} -m sgdbench.cli run {input} --out $(dirname {output.parquet})"
        " --cache-dir {JAX_CACHE} > {log} 2>&1"


rule e1_summary:
    input:
        expand("results/e1/N{n}/results.parquet", n=config["e1"]["sizes"]),
    output:
        summary="results/e1/summary.parquet",
        half="results/e1/half.parquet",
        runs="results/e1/example_runs.parquet",
        macros="results/macros/macros-e1.tex",
    params:
        settings=config["e1"],
    log:
        "results/logs/e1_summary.log",
    resources:
        mem_mb=4000,
    script:
        "../scripts/e1_summary.py"


rule e1_figure:
    input:
        summary="results/e1/summary.parquet",
        half="results/e1/half.parquet",
        runs="results/e1/example_runs.parquet",
    output:
        pdf="results/figures/e1_mean_estimation.pdf",
        png="results/figures/e1_mean_estimation.png",
    log:
        "results/logs/e1_figure.log",
    script:
        "../scripts/e1_figure.py"
