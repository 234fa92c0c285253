"""`run`, `runs` and `cache`: running evals against models and reading the recorded runs."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import replace
from typing import Any

from evaltui.cli.common import positive, print_json, registry_from
from evaltui.core.formatting import score_text
from evaltui.core.runs import runner, store
from evaltui.core.runs.jobs import event_json
from evaltui.core.textsafe import clean


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run evals against models (outputs cached, jobs in parallel)",
        description="Run each (eval, model) pair as a job, in parallel, with model outputs taken "
        "from the cache when the (model fingerprint, input) key is known. A record per job goes to "
        "state_dir/runs/. Exit 1 when a job fails or an eval with a threshold falls below it; "
        "Ctrl-C stops and keeps the jobs that finished.",
    )
    p.add_argument("evals", nargs="*", metavar="EVAL", help="evals to run (default: every runnable eval)")
    p.add_argument(
        "-m",
        "--model",
        action="append",
        default=[],
        metavar="MODEL",
        help="a model to run against; repeat for several (default: every model)",
    )
    p.add_argument(
        "--rev",
        metavar="REV",
        help="run the evals' files as they were at REV: a git revision, or a "
        "version of the named eval (1.0 or v1.0: the commit that introduced it; it wins over a tag of "
        "the same name, except that a v-prefixed name git knows is a tag). The working tree is not "
        "touched; models come from the working tree",
    )
    p.add_argument(
        "-j", "--jobs", type=positive, default=None, metavar="N", help="jobs at once (default: the number of cores)"
    )
    p.add_argument(
        "--concurrency",
        type=positive,
        default=4,
        metavar="N",
        help="model calls in flight within one job for callables and commands (default: 4); "
        "endpoint models use their own `concurrency`",
    )
    p.add_argument("--no-cache", action="store_true", help="call every model afresh (outputs are still stored)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="estimate the requests, tokens and cost of endpoint models "
        "(from prompt lengths and max_tokens; cached answers are free) and send nothing",
    )
    p.add_argument(
        "--max-cost",
        type=_dollars,
        metavar="USD",
        help="refuse to start when the estimated cost of endpoint models is above USD",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the run's records (without per-case results) as JSON; progress events go to stderr as JSON lines",
    )
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default=None,
        help="where jobs run: this machine's processes, or a Ray cluster (extra evaltui[ray]); "
        "default: [runner] executor in evals.toml, else local",
    )
    p.add_argument(
        "--address",
        metavar="ADDR",
        default=None,
        help="the Ray cluster, as in ray.init: 'auto' (the cluster this machine belongs to), "
        "'ray://HOST:10001'; default: [runner] address, else a local Ray instance",
    )
    p.add_argument(
        "--shard-size",
        type=positive,
        default=None,
        metavar="N",
        help="uncached cases per Ray task (default: [runner] shard_size, else 500)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "runs", help="list recorded runs", description="List the run records in state_dir/runs/, newest first."
    )
    p.add_argument("eval", nargs="?", metavar="EVAL", help="only this eval's runs")
    p.add_argument("--json", action="store_true", help="print JSON (records without per-case results)")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser(
        "cache",
        help="the model-output cache: stats or clear",
        description="Show what the output cache holds (entries per model fingerprint, size, and "
        "the hits and misses of recorded runs) or clear it.",
    )
    p.add_argument("action", choices=("stats", "clear"))
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_cache)


def _dollars(text: str) -> float:
    try:
        value = float(text.lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount in US dollars such as 5 or 0.50, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected an amount of at least 0, got {text!r}")
    return value


# -- run ----------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from evaltui.cli.progress import plain_line, print_summary, run_with_bars

    registry = registry_from(args)
    if args.rev and len(args.evals) > 1:
        from evaltui.core.history.revisions import resolve_revision

        # `run qa tone --rev 1.0`: each eval's own 1.0, which different commits introduced.
        jobs = [
            job
            for name in dict.fromkeys(args.evals)
            for job in runner.plan(
                registry, [name], args.model, rev=resolve_revision(registry, args.rev, [name]).commit
            )
        ]
    elif args.rev:
        from evaltui.core.history.revisions import resolve_revision

        jobs = runner.plan(
            registry, args.evals, args.model, rev=resolve_revision(registry, args.rev, args.evals).commit
        )
    else:
        jobs = runner.plan(registry, args.evals, args.model)
    options = runner.RunOptions(
        jobs=args.jobs, concurrency=args.concurrency, use_cache=not args.no_cache, ray=_ray_options(args, registry)
    )
    now = dt.datetime.now(dt.timezone.utc)
    if (args.dry_run or args.max_cost is not None) and _guard(registry, jobs, args):
        return 0
    if args.json:
        import contextlib

        def stream_json(event: Any) -> None:
            sys.stderr.write(json.dumps(event_json(event), ensure_ascii=False) + "\n")
            sys.stderr.flush()

        # Ray's driver prints worker deaths and retries to stdout from a thread; the JSON must stay alone there.
        quiet = contextlib.redirect_stdout(sys.stderr) if options.ray is not None else contextlib.nullcontext()
        with quiet:
            result = runner.run(registry, jobs, options=options, now=now, on_event=stream_json)
        print_json(
            {
                "runs": [r.summary() for r in result.records],
                "failed": [{"eval": f.job.eval, "model": f.job.model, "error": f.error} for f in result.failed],
                "cancelled": [{"eval": j.eval, "model": j.model} for j in result.cancelled],
                "below_threshold": [r.id for r in result.below_threshold],
                "warnings": list(result.warnings),
                "interrupted": result.interrupted,
            }
        )
        return result.exit_code
    if sys.stdout.isatty():
        result = run_with_bars(registry, jobs, options, now)
    else:
        result = runner.run(registry, jobs, options=options, now=now, on_event=plain_line)
    print_summary(result)
    return result.exit_code


def _ray_options(args: argparse.Namespace, registry: Any) -> runner.RayOptions | None:
    """The executor chosen by `--executor` or `[runner]`: None for local, Ray's options otherwise."""
    from evaltui.core.errors import EvaltuiError

    chosen = registry.runner
    if (args.executor or chosen.executor) != "ray":
        if args.address or args.shard_size:
            raise EvaltuiError("--address and --shard-size apply to the Ray executor: add --executor ray")
        return None
    from evaltui.core.runs.ray_executor import require_ray

    require_ray()  # before any job starts: a missing extra is a setup error, not a failed job
    from evaltui.core.runs.shards import configured

    defaults = configured(replace(chosen, executor="ray"))
    assert defaults is not None
    return replace(
        defaults, address=args.address or defaults.address, shard_size=args.shard_size or defaults.shard_size
    )


def _guard(registry: Any, jobs: list[runner.Job], args: argparse.Namespace) -> bool:
    """Estimate before sending: print it for --dry-run (True: stop here); refuse above --max-cost."""
    from evaltui.core.errors import EvaltuiError
    from evaltui.core.runs.estimate import describe, estimate

    with runner.Trees(registry.root) as trees:
        est = estimate(registry, jobs, trees, use_cache=not args.no_cache)
    if args.dry_run:
        if args.json:
            print_json({"estimate": est.to_json()})
        else:
            for j in est.jobs:
                what = j.error or (
                    f"{j.requests:,} requests ({j.cached:,} of {j.cases:,} cases cached), "
                    f"~{j.input_tokens:,} in / ≤ {j.output_tokens:,} out tokens, "
                    + ("no prices" if j.cost is None else f"≤ ${j.cost:,.4f}")
                )
                print(f"{j.job.label}: {what}")
            print(f"estimate: {describe(est)}")
        return True
    if est.requests and est.unpriced:
        raise EvaltuiError(
            f"--max-cost: model {', '.join(est.unpriced)} has no prices; add prices = "
            "{ input_per_mtok = ..., output_per_mtok = ... } to its [models.NAME] table"
        )
    if (est.cost or 0.0) > args.max_cost:
        raise EvaltuiError(
            f"estimated cost ${est.cost:,.4f} is above --max-cost ${args.max_cost:,.2f} "
            f"({describe(est)}); nothing was sent. Raise --max-cost, or run fewer evals or models"
        )
    return False


# -- runs ---------------------------------------------------------------------------------------


def cmd_runs(args: argparse.Namespace) -> int:
    registry = registry_from(args)
    listing = store.list_records(registry.state_dir, args.eval)
    if args.eval and not listing.records:
        registry.eval(args.eval)  # an unknown name (with no records either) is an error with a suggestion
    for warning in listing.warnings:
        print(f"evaltui: warning: {warning}", file=sys.stderr)
    if args.json:
        print_json({"runs": [r.summary() for r in listing.records], "warnings": list(listing.warnings)})
        return 0
    if not listing.records:
        print("no recorded runs" + (f" of {args.eval}" if args.eval else "") + "; start one with `evaltui run`")
        return 0
    from evaltui.cli.common import Col, print_table

    # At 80 columns the run id, cache counts and code revision give way first (`--json` has them all).
    cols = [
        Col("when"),
        Col("eval", wrap=True),
        Col("version"),
        Col("code", drop=3, wrap=True),
        Col("model", wrap=True),
        Col("score", right=True),
        Col("cases", drop=2, right=True),
        Col("errors", drop=2, right=True),
        Col("cache hit/miss", drop=4, right=True),
        Col("id", drop=5),
    ]
    rows = []
    for r in listing.records:
        code = r.eval_rev[:10] if r.eval_rev else ("working tree" + (" (dirty)" if r.dirty else ""))
        state = r.state
        if state in ("running", "interrupted"):
            score = f"{state} ({r.done or 0}/{r.n_cases} done)"
        else:
            score = "failed" if not r.ok else score_text(r.aggregate)
        rows.append(
            [
                r.time.astimezone().strftime("%Y-%m-%d %H:%M"),
                clean(r.eval),
                r.eval_version or "?",
                code,
                clean(r.model),
                score,
                str(r.n_cases),
                str(r.n_errors),
                r.source.harness if r.source else f"{r.cache_hits}/{r.cache_misses}",
                r.id,
            ]
        )
    print_table(cols, rows)
    return 0


# -- cache --------------------------------------------------------------------------------------


def cmd_cache(args: argparse.Namespace) -> int:
    from evaltui.core.runs.cache import OutputCache, outputs_dir

    registry = registry_from(args)
    directory = outputs_dir(registry.state_dir)
    warnings: list[str] = []
    if args.action == "clear":
        count = OutputCache(directory, warn=warnings.append).clear() if directory.exists() else 0
        for w in warnings:
            print(f"evaltui: warning: {w}", file=sys.stderr)
        if args.json:
            print_json({"cleared": count})
        else:
            print(f"cleared {count} cache entries from {directory}")
        return 0
    if directory.exists():
        with OutputCache(directory, warn=warnings.append) as cache:
            stats = cache.stats()
    else:
        from evaltui.core.runs.cache import CacheStats

        stats = CacheStats(str(directory), 0, 0, 0, ())
    for w in warnings:
        print(f"evaltui: warning: {w}", file=sys.stderr)
    records = store.list_records(registry.state_dir).records
    names = {r.fingerprint: r.model for r in records}
    hits = sum(r.cache_hits for r in records)
    misses = sum(r.cache_misses for r in records)
    if args.json:
        data = stats.to_json()
        data.update(models={fp: names.get(fp) for fp, _ in stats.fingerprints}, run_hits=hits, run_misses=misses)
        print_json(data)
        return 0
    print(f"cache: {stats.directory}")
    print(f"entries: {stats.entries} ({stats.batches} dataset batches), {stats.size_bytes / 1e6:.1f} MB")
    for fp, count in stats.fingerprints:
        print(f"  model {fp[:12]} ({names.get(fp, 'no recorded run')}): {count} outputs")
    print(f"recorded runs: {hits} hits, {misses} misses")
    return 0
