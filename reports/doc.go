// Package reports renders wbsim results and traces for people and tools:
//
//   - result.json: the versioned, deterministic summary of a run or an
//     exploration (see docs/result-json.md);
//   - trace.json: the Chrome trace-event format, which opens in Perfetto;
//   - index.html: one self-contained page with the summary, each failure
//     and its explanation, the minimal schedule, a timeline of tasks and
//     pages, and the invariants checked;
//   - junit.xml: one test case per program, for CI;
//   - trace.txt: the narrated trace;
//   - replay files: a failure's program, kernel version and fix switches,
//     budgets and decision log in a small versioned text format.
//
// The package only renders. It knows what a page is only through tables
// (PageStates, Counters, Flows) that map the model's operation names to
// states, counters and flows; the model adds names there, not code.
//
// Everything written here is a pure function of its input, so two runs
// with the same seed give byte-identical files. Wall-clock figures live in
// timing.json, the one file that is not deterministic.
package reports
