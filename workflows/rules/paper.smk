# Stage 3, the paper: provenance macros, main.tex and sections of the selected experiments,
# then latexmk with results/ on TEXINPUTS.

PAPER_DIR = os.path.join(BASE, "paper")
PAPER_COMMON = [
    os.path.join(PAPER_DIR, f)
    for f in ("refs.bib", "sections/intro.tex", "sections/provenance.tex")
]


rule provenance_macros:
    input:
        [f"results/{e.name}/provenance.json" for e in EXPERIMENTS],
    output:
        "results/macros/macros-provenance.tex",
    log:
        "results/logs/provenance_macros.log",
    group:
        "figures"
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


rule paper_sources:
    input:
        template=os.path.join(PAPER_DIR, "main.tex"),
        sections=section_files(config["experiments"], BASE),
        values=[f"results/macros/{e.macro_file()}.json" for e in EXPERIMENTS],
        plugins=PLUGIN_FILES,
    output:
        main="results/paper/main.tex",
        sections=[f"results/paper/sections/{e.name}.tex" for e in EXPERIMENTS],
        findings="results/paper/sections/findings.tex",
    log:
        "results/logs/paper_sources.log",
    group:
        "figures"
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        experiments=config["experiments"],
        configs={e.name: config[e.name] for e in EXPERIMENTS},
        plugins=config["plugins"],
        code=CODE,
        repo=lambda w, input: os.path.dirname(os.path.dirname(input.template)),
    script:
        "../scripts/paper_sources.py"


rule paper:
    input:
        main="results/paper/main.tex",
        sections=[f"results/paper/sections/{e.name}.tex" for e in EXPERIMENTS],
        findings="results/paper/sections/findings.tex",
        common=PAPER_COMMON,
        macros=[f"results/macros/{e.macro_file()}.tex" for e in EXPERIMENTS]
        + [f"results/macros/{t}.tex" for e in EXPERIMENTS for t in e.tex]
        + ["results/macros/macros-provenance.tex"],
        figures=FIGURES,
    output:
        "paper/sgdbench.pdf",
    log:
        "results/logs/paper.log",
    group:
        "figures"
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        paper_dir=lambda w, input: os.path.dirname(input.common[0]),
        build_dir="results/paper_build",
    shell:
        """
        build=$(realpath -m {params.build_dir})
        res=$(realpath results)
        out=$(realpath -m {output})
        mkdir -p "$build"
        (cd results/paper && TEXINPUTS=".:{params.paper_dir}//:$res/macros//:$res/figures//:" \
            BIBINPUTS="{params.paper_dir}:" \
            latexmk -pdf -interaction=nonstopmode -halt-on-error -outdir="$build" main.tex) >{log} 2>&1
        cp "$build/main.pdf" "$out.tmp" && mv "$out.tmp" "$out"
        """
