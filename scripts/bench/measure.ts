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
  const lines = [
    `### ${title}`,
    "",
    "| case | median µs/request | p10–p90 µs | vs anchor |",
    "| --- | ---: | ---: | ---: |",
  ];
  for (const r of results) {
    const ratio = base ? base.medianUs / r.medianUs : NaN;
    const vs = r.name === anchor ? "anchor" : `${ratio.toFixed(1)}× faster`;
    lines.push(
      `| ${r.name} | ${r.medianUs.toFixed(1)} | ${r.p10Us.toFixed(1)}–${r.p90Us.toFixed(1)} | ${vs} |`,
    );
  }
  const text = lines.join("\n");
  console.log(text + "\n");
  return text;
}
