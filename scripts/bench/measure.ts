// A small, honest timing harness: warm up, then many rounds of a batch of
// calls; the per-call time of each round is recorded and the median round is
// reported (batches hide timer granularity; the median hides GC spikes).

export interface Result {
  name: string;
  /** Median per-call time in microseconds. */
  medianUs: number;
  /** 10th and 90th percentile of the round medians, microseconds. */
  p10Us: number;
  p90Us: number;
  calls: number;
}

export interface MeasureOptions {
  /** Calls per round. */
  batch?: number;
  rounds?: number;
  warmup?: number;
}

/** Times `call(i)`; `i` counts every call, so a case can use a fresh input each time. */
export async function measure(
  name: string,
  call: (i: number) => unknown | Promise<unknown>,
  { batch = 50, rounds = 40, warmup = 200 }: MeasureOptions = {},
): Promise<Result> {
  let i = 0;
  for (let w = 0; w < warmup; w++) await call(i++);
  const perCall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    for (let b = 0; b < batch; b++) await call(i++);
    perCall.push(((performance.now() - start) * 1000) / batch);
  }
  perCall.sort((a, b) => a - b);
  const at = (q: number) => perCall[Math.min(perCall.length - 1, Math.floor(q * perCall.length))];
  return { name, medianUs: at(0.5), p10Us: at(0.1), p90Us: at(0.9), calls: i };
}

/** Prints results as a Markdown table with ratios against `anchor`. */
export function report(title: string, results: Result[], anchor: string): string {
  const base = results.find((r) => r.name === anchor);
  return printTable(title, "vs anchor", results, (r) => {
    const ratio = base ? base.medianUs / r.medianUs : NaN;
    return r.name === anchor ? "anchor" : `${ratio.toFixed(1)}× faster`;
  });
}

/** Prints (and returns) a Markdown table: one row per result, its last column from `vs`. */
function printTable<R extends Result>(title: string, vsHeader: string, results: R[], vs: (r: R) => string): string {
  const lines = [`### ${title}`, "", `| case | median µs/request | p10–p90 µs | ${vsHeader} |`, "| --- | ---: | ---: | ---: |"];
  for (const r of results) {
    lines.push(`| ${r.name} | ${r.medianUs.toFixed(1)} | ${r.p10Us.toFixed(1)}–${r.p90Us.toFixed(1)} | ${vs(r)} |`);
  }
  const text = lines.join("\n");
  console.log(text + "\n");
  return text;
}

/** One case of an interleaved comparison. */
export interface Case {
  name: string;
  call: (i: number) => unknown | Promise<unknown>;
  /**
   * Calls per batch for this case (default: the options' batch). Give fast
   * cases bigger batches so every batch lasts about as long (tens of ms): each
   * then carries its own share of garbage collection instead of one batch
   * paying for another's.
   */
  batch?: number;
}

/** A case's result in an interleaved run: `ratio` is the median of per-round anchor/case ratios. */
export interface InterleavedResult extends Result {
  ratio: number;
  ratioP10: number;
  ratioP90: number;
}

/**
 * Times all `cases` side by side: every round runs one batch of each case, in
 * a rotating order, so a slow minute on a shared machine hits every case
 * alike. Each case's ratio against `anchor` is taken within each round and
 * the median over rounds is reported (robust to drift between rounds).
 */
export async function measureInterleaved(
  cases: Case[],
  anchor: string,
  { batch = 50, rounds = 40, warmup = 200 }: MeasureOptions = {},
): Promise<InterleavedResult[]> {
  const counters = cases.map(() => 0);
  for (const [k, c] of cases.entries()) for (let w = 0; w < warmup; w++) await c.call(counters[k]++);
  const times: number[][] = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let o = 0; o < cases.length; o++) {
      const k = (o + r) % cases.length;
      const c = cases[k];
      const n = c.batch ?? batch;
      const start = performance.now();
      for (let b = 0; b < n; b++) await c.call(counters[k]++);
      times[k].push(((performance.now() - start) * 1000) / n);
    }
  }
  const a = cases.findIndex((c) => c.name === anchor);
  const pick = (xs: number[], q: number) => {
    const s = [...xs].sort((x, y) => x - y);
    return s[Math.min(s.length - 1, Math.floor(q * s.length))];
  };
  return cases.map((c, k) => {
    const ratios = times[k].map((t, r) => (a >= 0 ? times[a][r] / t : NaN));
    return {
      name: c.name,
      medianUs: pick(times[k], 0.5),
      p10Us: pick(times[k], 0.1),
      p90Us: pick(times[k], 0.9),
      calls: counters[k],
      ratio: pick(ratios, 0.5),
      ratioP10: pick(ratios, 0.1),
      ratioP90: pick(ratios, 0.9),
    };
  });
}

/** Prints interleaved results as a Markdown table with per-round ratios against the anchor. */
export function reportInterleaved(title: string, results: InterleavedResult[], anchor: string): string {
  return printTable(title, "vs anchor (median of per-round ratios, p10–p90)", results, (r) =>
    r.name === anchor ? "anchor" : `${r.ratio.toFixed(1)}× faster (${r.ratioP10.toFixed(1)}–${r.ratioP90.toFixed(1)})`);
}
