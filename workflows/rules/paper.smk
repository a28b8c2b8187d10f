# The paper: provenance macros, then latexmk over paper/ with results/ on TEXINPUTS.

PAPER_SOURCES = [
    os.path.join(BASE, "paper", f)
    for f in sorted(os.listdir(os.path.join(BASE, "paper")))
    if f.endswith((".tex", ".bib"))
] + [
    os.path.join(BASE, "paper", "sections", f)
    for f in sorted(os.listdir(os.path.join(BASE, "paper", "sections")))
]


rule provenance_macros:
    input:
        expand("results/e1/N{n}/provenance.json", n=config["e1"]["sizes"]),
        "results/e2/provenance.json",
        "results/e3/provenance.json",
        "results/e4/provenance.json",
        "results/e4bc/provenance.json",
        "results/noise_scale/provenance.json",
        "results/e5b/provenance.json",
        "results/e6/provenance.json",
        "results/e7/provenance.json",
        "results/e8/provenance.json",
    output:
        "results/macros/macros-provenance.tex",
    log:
        "results/logs/provenance_macros.log",
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=config,
    script:
        "../scripts/provenance_macros.py"


rule paper:
    input:
        sources=PAPER_SOURCES,
        macros=[
            "results/macros/macros-e1.tex",
            "results/macros/macros-e2.tex",
            "results/macros/table-e2-rates.tex",
            "results/macros/macros-e3.tex",
            "results/macros/macros-e4.tex",
            "results/macros/table-e4-rates.tex",
            "results/macros/macros-e4bc.tex",
            "results/macros/table-e4bc-rates.tex",
            "results/macros/macros-ns.tex",
            "results/macros/macros-e5b.tex",
            "results/macros/macros-e6.tex",
            "results/macros/macros-e7.tex",
            "results/macros/macros-e8.tex",
            "results/macros/macros-provenance.tex",
            "results/macros/table-e3-bias.tex",
        ],
        figures=FIGURES,
    output:
        "paper/sgdbench.pdf",
    log:
        "results/logs/paper.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paper_dir=lambda w, input: os.path.dirname(input.sources[0]),
        build_dir="results/paper_build",
    shell:
        """
        build=$(realpath -m {params.build_dir})
        res=$(realpath results)
        out=$(realpath -m {output})
        mkdir -p "$build"
        (cd {params.paper_dir} && TEXINPUTS=".:$res/macros//:$res/figures//:" \
            latexmk -pdf -interaction=nonstopmode -halt-on-error -outdir="$build" main.tex) >{log} 2>&1
        cp "$build/main.pdf" "$out.tmp" && mv "$out.tmp" "$out"
        """
