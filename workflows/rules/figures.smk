# Stage 3, figures: one seaborn figure (PDF + PNG) per experiment, captioned for --report.


rule e1_figure:
    input:
        summary="results/e1/summary.parquet",
        half="results/e1/half.parquet",
        runs="results/e1/example_runs.parquet",
    output:
        pdf=report(
            "results/figures/e1_mean_estimation.pdf",
            caption="../report/e1.rst",
            category="E1",
        ),
        png="results/figures/e1_mean_estimation.png",
    log:
        "results/logs/e1_figure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/e1_figure.py"


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


rule e2_figure:
    input:
        trajectories="results/e2/trajectories.parquet",
        agreement="results/e2/sign_agreement.parquet",
        spread="results/e2/spread.parquet",
        provenance="results/e2/provenance.json",
    output:
        pdf=report(
            "results/figures/e2_region_of_confusion.pdf",
            caption="../report/e2.rst",
            category="E2",
        ),
        png="results/figures/e2_region_of_confusion.png",
    log:
        "results/logs/e2_figure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/e2_figure.py"


rule e4_figure:
    input:
        "results/e4/floors.parquet",
    output:
        pdf=report(
            "results/figures/e4_floors.pdf",
            caption="../report/e4.rst",
            category="E4",
        ),
        png="results/figures/e4_floors.png",
    log:
        "results/logs/e4_figure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/e4_figure.py"


rule e4bc_figure:
    input:
        decay="results/e4bc/decay.parquet",
        horizon="results/e4bc/horizon.parquet",
    output:
        pdf=report(
            "results/figures/e4bc_rates.pdf",
            caption="../report/e4bc.rst",
            category="E4",
        ),
        png="results/figures/e4bc_rates.png",
    log:
        "results/logs/e4bc_figure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/e4bc_figure.py"


rule e5b_figure:
    input:
        chains="results/e5b/chains.parquet",
        info="results/e5b/critical_batch.parquet",
    output:
        pdf=report(
            "results/figures/e5b_batch_speed.pdf",
            caption="../report/e5b.rst",
            category="E5",
        ),
        png="results/figures/e5b_batch_speed.png",
    log:
        "results/logs/e5b_figure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/e5b_figure.py"


rule e6_figure:
    input:
        curves="results/e6/curves.parquet",
        summary="results/e6/summary.parquet",
        tuned="results/e6/tuned.parquet",
        bound="results/e6/ghadimi_lan.parquet",
    output:
        training=report(
            "results/figures/e6_training.pdf",
            caption="../report/e6_training.rst",
            category="E6",
        ),
        summary=report(
            "results/figures/e6_summary.pdf",
            caption="../report/e6_summary.rst",
            category="E6",
        ),
        training_png="results/figures/e6_training.png",
        summary_png="results/figures/e6_summary.png",
    log:
        "results/logs/e6_figure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        sampler=config["e6"]["figure_sampler"],
    script:
        "../scripts/e6_figure.py"


rule e8_figure:
    input:
        table="results/e8/timings.parquet",
        parts="results/e8/parts.parquet",
    output:
        pdf=report(
            "results/figures/e8_systems.pdf",
            caption="../report/e8.rst",
            category="E8",
        ),
        png="results/figures/e8_systems.png",
    log:
        "results/logs/e8_figure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/e8_figure.py"
