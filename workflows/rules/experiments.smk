# Stage 1, experiments: each job runs one whole vectorised grid or Monte Carlo study.


rule e1_config:
    output:
        "results/e1/N{n}/config.yaml",
    log:
        "results/logs/e1_config_N{n}.log",
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=config["e1"],
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
    conda:
        "../../environment.yml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        python=PY,
        cache=JAX_CACHE,
    shell:
        "{params.python} -m sgdbench.cli run {input} --out $(dirname {output.parquet})"
        " --cache-dir {params.cache} > {log} 2>&1"


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


rule e2_measure:
    output:
        trajectories="results/e2/trajectories.parquet",
        agreement="results/e2/sign_agreement.parquet",
        spread="results/e2/spread.parquet",
        rates="results/e2/rates.parquet",
        provenance="results/e2/provenance.json",
        macros="results/macros/macros-e2.tex",
        table="results/macros/table-e2-rates.tex",
    log:
        "results/logs/e2_measure.log",
    conda:
        "../../environment.yml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        settings=config["e2"],
    script:
        "../scripts/e2_measure.py"


rule e4_measure:
    output:
        floors="results/e4/floors.parquet",
        rates="results/e4/rates.parquet",
        provenance="results/e4/provenance.json",
        macros="results/macros/macros-e4.tex",
        table="results/macros/table-e4-rates.tex",
    log:
        "results/logs/e4_measure.log",
    conda:
        "../../environment.yml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        settings=config["e4"],
    script:
        "../scripts/e4_measure.py"


rule e4bc_measure:
    output:
        decay="results/e4bc/decay.parquet",
        horizon="results/e4bc/horizon.parquet",
        rates="results/e4bc/rates.parquet",
        provenance="results/e4bc/provenance.json",
        macros="results/macros/macros-e4bc.tex",
        table="results/macros/table-e4bc-rates.tex",
    log:
        "results/logs/e4bc_measure.log",
    conda:
        "../../environment.yml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        settings=config["e4bc"],
    script:
        "../scripts/e4bc_measure.py"


rule e5b_measure:
    output:
        chains="results/e5b/chains.parquet",
        info="results/e5b/critical_batch.parquet",
        provenance="results/e5b/provenance.json",
        macros="results/macros/macros-e5b.tex",
    log:
        "results/logs/e5b_measure.log",
    conda:
        "../../environment.yml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        settings=config["e5b"],
        cache=JAX_CACHE,
    script:
        "../scripts/e5b_measure.py"


rule e6_measure:
    output:
        curves="results/e6/curves.parquet",
        summary="results/e6/summary.parquet",
        tuned="results/e6/tuned.parquet",
        bound="results/e6/ghadimi_lan.parquet",
        provenance="results/e6/provenance.json",
        macros="results/macros/macros-e6.tex",
    log:
        "results/logs/e6_measure.log",
    conda:
        "../../environment.yml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=40,
    params:
        settings=config["e6"],
        cache=JAX_CACHE,
    script:
        "../scripts/e6_measure.py"


# Timings: the job asks for the whole node, so nothing else runs beside it.
rule e8_measure:
    output:
        table="results/e8/timings.parquet",
        parts="results/e8/parts.parquet",
        provenance="results/e8/provenance.json",
        macros="results/macros/macros-e8.tex",
    log:
        "results/logs/e8_measure.log",
    conda:
        "../../environment.yml"
    threads: workflow.cores
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        settings=config["e8"],
    script:
        "../scripts/e8_measure.py"
